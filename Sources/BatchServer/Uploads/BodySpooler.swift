import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import Vapor

/// A request body (or one multipart part) written to a temporary file.
struct SpooledFile: Sendable {
    var url: URL
    var byteCount: Int64
    var fileName: String

    func remove() { try? FileManager.default.removeItem(at: url) }
}

/// Streams request bodies to disk without holding them in memory, and refuses them as soon as they pass a limit.
///
/// Uses Vapor's callback `drain` with NIO's non-blocking file writes: back-pressure keeps memory flat whatever
/// the size, and it avoids the async body sequence's known crash under sustained load (vapor/vapor#3153).
enum BodySpooler {
    /// Writes the raw body to a new file in `directory`. Past `limit` bytes it stops writing, deletes what it
    /// wrote and throws 413; the rest of the body is read and thrown away.
    static func spool(_ req: Request, limit: Int64, fileName: String, into directory: URL) async throws -> SpooledFile {
        if let declared = req.headers.first(name: .contentLength).flatMap(Int64.init), declared > limit {
            throw UploadLimitError.tooLarge(fileName: fileName, limit: limit)
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("upload-\(UUID().uuidString)")
        let io = req.application.fileio
        let eventLoop = req.eventLoop
        let handle = try await io.openFile(
            path: url.path, mode: .write, flags: .allowFileCreation(posixMode: 0o600), eventLoop: eventLoop
        ).get()
        let promise = eventLoop.makePromise(of: Int64.self)
        let state = NIOLockedValueBox((written: Int64(0), answered: false))
        /// The promise is completed once: by the first of limit passed, error, end.
        func answer(_ body: () -> Void) {
            if state.withLockedValue({ value in defer { value.answered = true }; return !value.answered }) { body() }
        }
        req.body.drain { part in
            switch part {
            case .buffer(let buffer):
                let written = state.withLockedValue { value in
                    value.written += Int64(buffer.readableBytes)
                    return value.written
                }
                guard written <= limit else {
                    // Answer now; everything after is read and dropped so the connection stays usable.
                    answer { promise.fail(UploadLimitError.tooLarge(fileName: fileName, limit: limit)) }
                    return eventLoop.makeSucceededVoidFuture()
                }
                return io.write(fileHandle: handle, buffer: buffer, eventLoop: eventLoop)
            case .error(let error):
                answer { promise.fail(error) }
                return eventLoop.makeSucceededVoidFuture()
            case .end:
                let written = state.withLockedValue { $0.written }
                answer { promise.succeed(written) }
                return eventLoop.makeSucceededVoidFuture()
            }
        }
        do {
            let count = try await promise.futureResult.get()
            try handle.close()
            return SpooledFile(url: url, byteCount: count, fileName: fileName)
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(at: url)
            throw error
        }
    }
}

/// An upload refused while it streamed in.
enum UploadLimitError: Error, AbortError {
    case tooLarge(fileName: String, limit: Int64)
    case tooManyFiles(limit: Int)

    var status: HTTPResponseStatus {
        switch self {
        case .tooLarge, .tooManyFiles: .payloadTooLarge
        }
    }

    var reason: String {
        switch self {
        case .tooLarge(let name, let limit):
            "\(name) is larger than \(ByteCountFormatter.string(fromByteCount: limit, countStyle: .binary)), the most "
                + "this kind of batch accepts per file. Nothing of it was kept."
        case .tooManyFiles(let limit):
            "This kind of batch takes at most \(limit) file\(limit == 1 ? "" : "s"). Nothing of this upload was kept."
        }
    }
}
