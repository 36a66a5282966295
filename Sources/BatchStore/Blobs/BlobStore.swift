import Crypto
import Foundation

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
        let handle = try FileHandle(forWritingTo: temporary)
        do {
            try handle.write(contentsOf: bytes)
            try handle.synchronize()
            try handle.close()
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(at: temporary)
            throw error
        }
        return StagedBlob(key: key, temporary: temporary)
    }

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
