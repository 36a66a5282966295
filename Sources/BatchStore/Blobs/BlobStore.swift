import Crypto
import Foundation
#if canImport(Glibc)
    import Glibc
#endif

/// Where photos and documents live. Keys are the SHA-256 of the content, so storing the same bytes twice costs
/// nothing and a key names exactly one content. A filesystem store comes first; an S3-compatible one can
/// implement the same protocol.
public protocol BlobStore: Sendable {
    /// Stores bytes and returns their key.
    func put(_ bytes: Data) throws -> String
    /// The bytes of a key, or nil when it is not stored.
    func get(_ key: String) throws -> Data?
    func contains(_ key: String) -> Bool
    /// Writes bytes where no key reads them yet: `commit` then stores them under their key, `discard` drops them.
    /// A large upload is written this way while it is being checked, and kept only if the checks pass.
    func stage(_ bytes: Data) throws -> StagedBlob
    func commit(_ staged: StagedBlob) throws -> String
    func discard(_ staged: StagedBlob)
    /// The bytes of a key without reading them all first (a file store maps the file), or nil when it is not stored.
    func mapped(_ key: String) throws -> Data?
}

extension BlobStore {
    public func mapped(_ key: String) throws -> Data? { try get(key) }
}

/// The blob stores of this process's engines (`BatchEngine.init`), where a batch's stored items find the kept file
/// their rows are spans of (`StoredInput`). A key names exactly one content, so any store that has it gives the
/// same bytes: a process with several engines (the tests) reads through whichever has the file.
public enum KeptFiles {
    private static let lock = NSLock()
    nonisolated(unsafe) private static var stores: [any BlobStore] = []

    static func register(_ store: any BlobStore) {
        lock.lock()
        stores.append(store)
        lock.unlock()
    }

    /// The kept file with this key, mapped; nil when no registered store has it.
    static func mapped(_ key: String) -> Data? {
        lock.lock()
        let known = stores
        lock.unlock()
        for store in known.reversed() {
            if let bytes = try? store.mapped(key) { return bytes }
        }
        return nil
    }
}

/// Bytes written by `BlobStore.stage`, not yet under their key.
public struct StagedBlob: Sendable {
    public let key: String
    /// Where they are meanwhile; nil when the key was stored already.
    let temporary: URL?
}

/// Content-addressed files under a directory: `ab/cdef…`. Each file is written to a temporary name, flushed to
/// disk and renamed, so a crash never leaves a half-written blob under a real key.
public struct FileBlobStore: BlobStore {
    public let root: URL

    public init(root: URL) throws {
        self.root = root
        try FileManager.default.createDirectory(at: root.appendingPathComponent("tmp"), withIntermediateDirectories: true)
    }

    public static func key(for bytes: Data) -> String {
        SHA256.hash(data: bytes).map { String(format: "%02x", $0) }.joined()
    }

    public func put(_ bytes: Data) throws -> String { try commit(stage(bytes)) }

    /// The bytes' SHA-256, and the bytes written to a temporary name and flushed to disk.
    public func stage(_ bytes: Data) throws -> StagedBlob {
        let key = Self.key(for: bytes)
        if FileManager.default.fileExists(atPath: try url(for: key).path) { return StagedBlob(key: key, temporary: nil) }
        let temporary = root.appendingPathComponent("tmp").appendingPathComponent(UUID().uuidString)
        guard FileManager.default.createFile(atPath: temporary.path, contents: nil) else {
            throw CocoaError(.fileWriteUnknown)
        }
        do {
            try Self.writeFlushed(bytes, to: temporary.path)
        } catch {
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
        return StagedBlob(key: key, temporary: temporary)
    }

    /// Writes `bytes` to the file at `path` and flushes it to disk. Bytes that start on a page of memory (a file read
    /// mapped: an upload, a roster given to the command line) go to the disk straight from there (`O_DIRECT`), not
    /// first copied into the kernel's cache of the file: that copy was half a second of a core while a state-size
    /// users.csv was being read on both (docs/decisions.md, round 41). The tail that does not fill a disk block, and
    /// any bytes where the file system refuses direct writes, are written the usual way.
    static func writeFlushed(_ bytes: Data, to path: String) throws {
        let descriptor = open(path, O_WRONLY | O_CLOEXEC)
        guard descriptor >= 0 else { throw CocoaError(.fileWriteUnknown) }
        defer { close(descriptor) }
        try bytes.withUnsafeBytes { (buffer: UnsafeRawBufferPointer) in
            guard let base = buffer.baseAddress else { return }
            var written = 0
            let block = 4096
            let direct = buffer.count >= Self.directFrom && Int(bitPattern: base) % block == 0
            if direct, fcntl(descriptor, F_SETFL, O_DIRECT_FLAG) == 0 {
                let aligned = buffer.count - buffer.count % block
                while written < aligned {
                    let count = Glibc.write(descriptor, base + written, min(aligned - written, 1 << 23))
                    if count < 0 && errno == EINTR { continue }
                    if count <= 0 || count % block != 0 {
                        // Refused (or a part written that leaves the rest unaligned): the rest the usual way.
                        if count > 0 { written += count }
                        break
                    }
                    written += count
                }
                _ = fcntl(descriptor, F_SETFL, 0)
            }
            while written < buffer.count {
                let count = Glibc.write(descriptor, base + written, buffer.count - written)
                if count < 0 && errno == EINTR { continue }
                guard count > 0 else { throw CocoaError(.fileWriteUnknown) }
                written += count
            }
        }
        guard fsync(descriptor) == 0 else { throw CocoaError(.fileWriteUnknown) }
    }

    /// Bytes from which a direct write is tried (below, the kernel's copy costs little).
    static let directFrom = 1 << 20

    #if arch(x86_64)
        private static let O_DIRECT_FLAG: Int32 = 0o40000
    #else
        private static let O_DIRECT_FLAG: Int32 = 0o200000
    #endif

    /// Renames the staged file to its key (atomic: a reader sees all of it or none).
    public func commit(_ staged: StagedBlob) throws -> String {
        guard let temporary = staged.temporary else { return staged.key }
        let destination = try url(for: staged.key)
        do {
            try FileManager.default.createDirectory(at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
        } catch {
            discard(staged)
            throw error
        }
        if rename(temporary.path, destination.path) != 0 {
            discard(staged)
            throw CocoaError(.fileWriteUnknown)
        }
        return staged.key
    }

    public func discard(_ staged: StagedBlob) {
        if let temporary = staged.temporary { try? FileManager.default.removeItem(at: temporary) }
    }

    public func get(_ key: String) throws -> Data? {
        let file = try url(for: key)
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        return try Data(contentsOf: file)
    }

    public func mapped(_ key: String) throws -> Data? {
        let file = try url(for: key)
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        return try Data(contentsOf: file, options: .alwaysMapped)
    }

    public func contains(_ key: String) -> Bool {
        guard let file = try? url(for: key) else { return false }
        return FileManager.default.fileExists(atPath: file.path)
    }

    /// Keys are 64 lower-case hex digits; anything else is refused so a key can never be a path.
    func url(for key: String) throws -> URL {
        guard key.count == 64, key.allSatisfy({ $0.isHexDigit && !$0.isUppercase }) else {
            throw StoreError.notFound("no stored file has the key \(key)")
        }
        return root.appendingPathComponent(String(key.prefix(2))).appendingPathComponent(String(key.dropFirst(2)))
    }
}
