import BatchCore
import BatchStore
import Foundation
import Vapor

extension GroupZip {
    /// A ZIP written to a temporary file in the request, streamed from disk and then removed (the document
    /// download; photo downloads run as a job instead).
    static func response(
        _ entries: [Entry], students: [PersonListRow], pattern: FileNamePattern, folderPerClass: Bool,
        indexColumns: [String],
        req: Request, downloadName: String
    ) async throws -> Response {
        let directory = req.application.schoolBatch.config.uploadDirectory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("export-\(UUID().uuidString).zip")
        do {
            try write(
                entries, students: students, pattern: pattern, folderPerClass: folderPerClass,
                indexColumns: indexColumns, to: url)
        } catch {
            try? FileManager.default.removeItem(at: url)
            throw error
        }
        return try await streamZip(at: url, downloadName: downloadName, req: req, removeAfter: true)
    }

    /// A ZIP on disk as an attachment, streamed (never read into memory).
    static func streamZip(at url: URL, downloadName: String, req: Request, removeAfter: Bool) async throws -> Response {
        try await streamAttachment(
            at: url, mediaType: HTTPMediaType(type: "application", subType: "zip"), downloadName: downloadName, req: req,
            removeAfter: removeAfter)
    }

    /// A file on disk as a private attachment, streamed; removed once sent when `removeAfter`.
    static func streamAttachment(
        at url: URL, mediaType: HTTPMediaType, downloadName: String, req: Request, removeAfter: Bool
    ) async throws -> Response {
        let response = try await req.fileio.asyncStreamFile(
            at: url.path, mediaType: mediaType,
            onCompleted: { _ in if removeAfter { try? FileManager.default.removeItem(at: url) } })
        response.headers.replaceOrAdd(name: .contentDisposition, value: DocumentDownloads.disposition(downloadName))
        response.headers.replaceOrAdd(name: .cacheControl, value: "private, no-store")
        return response
    }
}
