import BatchStore
import MultipartKit
import NIOCore
import NIOPosix
import Vapor

/// Streams a `multipart/form-data` body to disk, one temporary file per file part, enforcing the limits as the
/// bytes arrive. multipart-kit's callback parser is fed chunk by chunk; its small body pieces are gathered and
/// written in large writes (one write per piece is very slow).
enum MultipartSpooler {
    struct Result: Sendable {
        var files: [SpooledFile]
        var fields: [String: String]
    }

    static func spool(_ req: Request, limits: UploadLimits, into directory: URL) async throws -> Result {
        guard let type = req.headers.contentType, type == .formData, let boundary = type.parameters["boundary"] else {
            throw AppError(
                .unsupportedMediaType, "unsupported_media_type",
                "Send the files as multipart/form-data (or one file at a time with PUT …/files/{fileName}).")
        }
        if let declared = req.headers.first(name: .contentLength).flatMap(Int64.init),
            declared > limits.maxFileBytes * Int64(limits.maxFiles) + 1_048_576
        {
            throw UploadLimitError.tooLarge(fileName: "The upload", limit: limits.maxFileBytes * Int64(limits.maxFiles))
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let eventLoop = req.eventLoop
        let state = State(io: req.application.fileio, eventLoop: eventLoop, limits: limits, directory: directory, boundary: boundary)
        let promise = eventLoop.makePromise(of: Result.self)
        req.body.drain { part in
            switch part {
            case .buffer(let buffer):
                return state.feed(buffer).flatMapErrorThrowing { error in
                    state.finish(promise, with: .failure(error))
                }
            case .error(let error):
                state.finish(promise, with: .failure(error))
                return eventLoop.makeSucceededVoidFuture()
            case .end:
                state.end(promise)
                return eventLoop.makeSucceededVoidFuture()
            }
        }
        return try await promise.futureResult.get()
    }

    /// The parser's state, used only on the request's event loop.
    final class State: @unchecked Sendable {
        enum Event { case header(String, String), body(ByteBuffer), complete }

        let io: NonBlockingFileIO
        let eventLoop: any EventLoop
        let limits: UploadLimits
        let directory: URL
        let parser: MultipartParser
        var events: [Event] = []
        var headers: [String: String] = [:]
        var handle: NIOFileHandle?
        var current: SpooledFile?
        var pending: ByteBuffer
        var fieldValue = ""
        var files: [SpooledFile] = []
        var fields: [String: String] = [:]
        var failed = false
        var answered = false

        init(io: NonBlockingFileIO, eventLoop: any EventLoop, limits: UploadLimits, directory: URL, boundary: String) {
            self.io = io
            self.eventLoop = eventLoop
            self.limits = limits
            self.directory = directory
            self.parser = MultipartParser(boundary: boundary)
            self.pending = ByteBufferAllocator().buffer(capacity: 0)
            parser.onHeader = { [unowned self] name, value in events.append(.header(name, value)) }
            parser.onBody = { [unowned self] buffer in events.append(.body(buffer)) }
            parser.onPartComplete = { [unowned self] in events.append(.complete) }
        }

        func feed(_ buffer: ByteBuffer) -> EventLoopFuture<Void> {
            guard !failed else { return eventLoop.makeSucceededVoidFuture() }
            do {
                try parser.execute(buffer)
            } catch {
                return eventLoop.makeFailedFuture(
                    AppError(.badRequest, "bad_multipart", "The upload is not a valid multipart/form-data body."))
            }
            let batch = events
            events.removeAll()
            return process(batch[...])
        }

        private func process(_ events: ArraySlice<Event>) -> EventLoopFuture<Void> {
            guard let event = events.first else { return flushIfLarge() }
            let rest = events.dropFirst()
            switch event {
            case .header(let name, let value):
                headers[name.lowercased()] = value
                return process(rest)
            case .body(var buffer):
                guard let fileName = fileName() else {
                    fieldValue += buffer.readString(length: buffer.readableBytes) ?? ""
                    guard fieldValue.utf8.count <= 65_536 else {
                        return eventLoop.makeFailedFuture(AppError.invalid("A form field of the upload is too long."))
                    }
                    return process(rest)
                }
                return openIfNeeded(fileName).flatMapThrowing { [self] in
                    current!.byteCount += Int64(buffer.readableBytes)
                    guard current!.byteCount <= limits.maxFileBytes else {
                        throw UploadLimitError.tooLarge(fileName: current!.fileName, limit: limits.maxFileBytes)
                    }
                    pending.writeBuffer(&buffer)
                }.flatMap { [self] in process(rest) }
            case .complete:
                let name = fileName()
                let fieldName = disposition()["name"] ?? ""
                headers = [:]
                if name == nil {
                    fields[fieldName] = fieldValue
                    fieldValue = ""
                    return process(rest)
                }
                return openIfNeeded(name ?? "file").flatMap { [self] in flush() }.flatMapThrowing { [self] in
                    try handle?.close()
                    handle = nil
                    if let file = current { files.append(file) }
                    current = nil
                }.flatMap { [self] in process(rest) }
            }
        }

        private func disposition() -> [String: String] {
            guard let header = headers["content-disposition"] else { return [:] }
            var result: [String: String] = [:]
            for piece in header.split(separator: ";").dropFirst() {
                let pair = piece.split(separator: "=", maxSplits: 1)
                guard pair.count == 2 else { continue }
                var value = pair[1].trimmingCharacters(in: .whitespaces)
                if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
                result[pair[0].trimmingCharacters(in: .whitespaces).lowercased()] = value
            }
            return result
        }

        private func fileName() -> String? { disposition()["filename"] }

        private func openIfNeeded(_ fileName: String) -> EventLoopFuture<Void> {
            guard current == nil else { return eventLoop.makeSucceededVoidFuture() }
            guard files.count < limits.maxFiles else {
                return eventLoop.makeFailedFuture(UploadLimitError.tooManyFiles(limit: limits.maxFiles))
            }
            let url = directory.appendingPathComponent("upload-\(UUID().uuidString)")
            current = SpooledFile(url: url, byteCount: 0, fileName: fileName)
            return io.openFile(path: url.path, mode: .write, flags: .allowFileCreation(posixMode: 0o600), eventLoop: eventLoop)
                .map { [self] in handle = $0 }
        }

        private func flushIfLarge() -> EventLoopFuture<Void> {
            pending.readableBytes >= 256 * 1024 ? flush() : eventLoop.makeSucceededVoidFuture()
        }

        private func flush() -> EventLoopFuture<Void> {
            guard let handle, pending.readableBytes > 0 else { return eventLoop.makeSucceededVoidFuture() }
            let data = pending
            pending = ByteBufferAllocator().buffer(capacity: 0)
            return io.write(fileHandle: handle, buffer: data, eventLoop: eventLoop)
        }

        func finish(_ promise: EventLoopPromise<Result>, with result: Swift.Result<Result, any Error>) {
            guard !answered else { return }
            answered = true
            switch result {
            case .success(let value): promise.succeed(value)
            case .failure(let error):
                failed = true
                try? handle?.close()
                handle = nil
                for file in files + (current.map { [$0] } ?? []) { file.remove() }
                promise.fail(error)
            }
        }

        func end(_ promise: EventLoopPromise<Result>) {
            guard !failed else { return }
            if current != nil || handle != nil {
                finish(promise, with: .failure(AppError(.badRequest, "bad_multipart", "The upload ended in the middle of a file.")))
            } else {
                finish(promise, with: .success(Result(files: files, fields: fields)))
            }
        }
    }
}
