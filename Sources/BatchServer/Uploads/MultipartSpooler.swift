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
        var openURL: URL?
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
            events.removeAll(keepingCapacity: true)
            // The parser's many small events are handled here without I/O; the gathered bytes are then written
            // with a few large writes.
            var finished: [(SpooledFile, ByteBuffer)] = []
            for event in batch {
                switch event {
                case .header(let name, let value):
                    headers[name.lowercased()] = value
                    cachedFileName = nil
                case .body(var piece):
                    guard let fileName = fileName() else {
                        fieldValue += piece.readString(length: piece.readableBytes) ?? ""
                        guard fieldValue.utf8.count <= 65_536 else {
                            return eventLoop.makeFailedFuture(AppError.invalid("A form field of the upload is too long."))
                        }
                        continue
                    }
                    if current == nil {
                        guard files.count + finished.count < limits.maxFiles else {
                            return eventLoop.makeFailedFuture(UploadLimitError.tooManyFiles(limit: limits.maxFiles))
                        }
                        current = SpooledFile(
                            url: directory.appendingPathComponent("upload-\(UUID().uuidString)"), byteCount: 0,
                            fileName: fileName)
                    }
                    current!.byteCount += Int64(piece.readableBytes)
                    guard current!.byteCount <= limits.maxFileBytes else {
                        return eventLoop.makeFailedFuture(
                            UploadLimitError.tooLarge(fileName: current!.fileName, limit: limits.maxFileBytes))
                    }
                    pending.writeBuffer(&piece)
                case .complete:
                    if fileName() == nil {
                        fields[disposition()["name"] ?? ""] = fieldValue
                        fieldValue = ""
                    } else if let file = current {
                        finished.append((file, pending))
                        pending = ByteBufferAllocator().buffer(capacity: 0)
                        current = nil
                    } else if let name = fileName() {
                        // An empty file part.
                        finished.append(
                            (SpooledFile(url: directory.appendingPathComponent("upload-\(UUID().uuidString)"), byteCount: 0, fileName: name),
                             ByteBufferAllocator().buffer(capacity: 0)))
                    }
                    headers = [:]
                    cachedFileName = nil
                }
            }
            var future = eventLoop.makeSucceededVoidFuture()
            for (file, data) in finished {
                future = future.flatMap { [self] in write(data, to: file, closing: true) }.map { [self] in files.append(file) }
            }
            if let file = current, pending.readableBytes >= 256 * 1024 {
                let data = pending
                pending = ByteBufferAllocator().buffer(capacity: 0)
                future = future.flatMap { [self] in write(data, to: file, closing: false) }
            }
            return future
        }

        /// Writes to a part's file, opening it on first use; `closing` closes it after.
        private func write(_ data: ByteBuffer, to file: SpooledFile, closing: Bool) -> EventLoopFuture<Void> {
            let opened: EventLoopFuture<NIOFileHandle>
            if let handle, openURL == file.url {
                opened = eventLoop.makeSucceededFuture(handle)
            } else {
                opened = io.openFile(
                    path: file.url.path, mode: .write, flags: .allowFileCreation(posixMode: 0o600), eventLoop: eventLoop
                ).map { [self] in
                    handle = $0
                    openURL = file.url
                    return $0
                }
            }
            return opened.flatMap { [self] handle in
                let written = data.readableBytes > 0
                    ? io.write(fileHandle: handle, buffer: data, eventLoop: eventLoop) : eventLoop.makeSucceededVoidFuture()
                return written.flatMapThrowing { [self] in
                    if closing {
                        try handle.close()
                        self.handle = nil
                        openURL = nil
                    }
                }
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

        /// The part's file name, read once per part (body pieces arrive a few hundred bytes at a time).
        private var cachedFileName: String??
        private func fileName() -> String? {
            if let cached = cachedFileName { return cached }
            let name = disposition()["filename"]
            cachedFileName = .some(name)
            return name
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
                if let openURL { try? FileManager.default.removeItem(at: openURL) }
                promise.fail(error)
            }
        }

        func end(_ promise: EventLoopPromise<Result>) {
            guard !failed else { return }
            if current != nil {
                finish(promise, with: .failure(AppError(.badRequest, "bad_multipart", "The upload ended in the middle of a file.")))
            } else {
                finish(promise, with: .success(Result(files: files, fields: fields)))
            }
        }
    }
}
