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

    public func put(_ bytes: Data) throws -> String {
        let key = Self.key(for: bytes)
        let destination = try url(for: key)
        if FileManager.default.fileExists(atPath: destination.path) { return key }
        try FileManager.default.createDirectory(
            at: destination.deletingLastPathComponent(), withIntermediateDirectories: true)
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
        if rename(temporary.path, destination.path) != 0 {
            try? FileManager.default.removeItem(at: temporary)
            throw CocoaError(.fileWriteUnknown)
        }
        return key
    }

    public func get(_ key: String) throws -> Data? {
        let file = try url(for: key)
        guard FileManager.default.fileExists(atPath: file.path) else { return nil }
        return try Data(contentsOf: file)
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
