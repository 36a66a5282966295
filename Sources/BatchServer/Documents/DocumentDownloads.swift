import BatchCore
import BatchStore
import Foundation
import Vapor

/// Serving stored documents: one file as an attachment, or a group as a ZIP. Shared by the pages and the API.
enum DocumentDownloads {
    /// Document tokens on top of the person tokens of SPEC §5.2.
    static let tokens = FileNamePattern.personTokens + ["documentType", "schoolYear", "term", "title"]

    /// `…/students/{userId}/documents/{documentId}` (page and API): the document, if its student is in the
    /// account's schools.
    static func studentDocument(_ req: Request) async throws -> Response {
        let account = try req.account(with: .documentBatch)
        guard let userID = req.parameters.get("userId"), let documentID = req.parameters.get("documentId"),
            let document = try await req.store.document(documentID, scope: account.scope),
            document.userID.rawValue == userID
        else { throw AppError.notFound("No such document among the students you can see.") }
        return try attachment(document, req: req)
    }

    /// A stored document as an attachment: never shown inline, never sniffed, never able to run script.
    static func attachment(_ document: DocumentRecord, req: Request) throws -> Response {
        guard let bytes = try req.schoolBatch.blobs.get(document.blobKey) else {
            throw AppError(.notFound, "file_missing", "The stored file of this document is missing. Upload it again.")
        }
        var headers = HTTPHeaders()
        headers.contentType = HTTPMediaType(type: "application", subType: "pdf")
        headers.replaceOrAdd(name: .contentDisposition, value: disposition(document.fileName))
        headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        headers.replaceOrAdd(name: "Content-Security-Policy", value: "sandbox; default-src 'none'")
        headers.replaceOrAdd(name: .cacheControl, value: "private, no-store")
        return Response(status: .ok, headers: headers, body: .init(data: bytes))
    }

    /// `attachment; filename="…"; filename*=UTF-8''…`, with an ASCII fallback name.
    static func disposition(_ fileName: String) -> String {
        let ascii = String(
            fileName.unicodeScalars.map { $0.isASCII && $0.value >= 0x20 && $0 != "\"" && $0 != "\\" ? Character($0) : "_" })
        let encoded = fileName.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(.init(charactersIn: "-._~"))) ?? ascii
        return "attachment; filename=\"\(ascii)\"; filename*=UTF-8''\(encoded)"
    }

    /// What a group download selects.
    struct Selection: Sendable {
        var query: PersonQuery
        var documentType: String
        var schoolYear: String
        /// nil = every term.
        var term: String?
        var pattern: FileNamePattern
        var folderPerClass: Bool
    }

    /// The current documents of the selected students as a ZIP (`GroupZip`: index.csv, missing.csv).
    static func zip(_ selection: Selection, req: Request, downloadName: String) async throws -> Response {
        let (students, all) = try await req.store.documents(
            for: selection.query, documentType: selection.documentType, schoolYear: selection.schoolYear)
        let blobs = req.schoolBatch.blobs
        let entries = all.filter { selection.term == nil || $0.document.term == selection.term }.map { person, document in
            GroupZip.Entry(
                person: person,
                values: [
                    "documentType": document.documentType, "schoolYear": document.schoolYear, "term": document.term,
                    "title": document.title ?? "",
                ],
                ext: "pdf", index: [document.documentType, document.schoolYear, document.term, document.title ?? "", document.fileName],
                bytes: { try blobs.get(document.blobKey) })
        }
        return try await GroupZip.response(
            entries, students: students, pattern: selection.pattern, folderPerClass: selection.folderPerClass,
            indexColumns: ["documentType", "schoolYear", "term", "title", "uploadedFileName"], req: req, downloadName: downloadName)
    }
}

/// A document as the API shows it.
struct DocumentJSON: Content {
    var documentId: String
    var userId: String
    var documentType: String
    var schoolYear: String
    var term: String?
    var title: String?
    var fileName: String
    var byteSize: Int64
    var encrypted: Bool
    var current: Bool
    var batchId: String?
    var uploadedBy: String
    var uploadedAt: Int64
    var download: String

    init(_ document: DocumentRecord) {
        documentId = document.documentID
        userId = document.userID.rawValue
        documentType = document.documentType
        schoolYear = document.schoolYear
        term = document.term.isEmpty ? nil : document.term
        title = document.title
        fileName = document.fileName
        byteSize = document.byteSize
        encrypted = document.encrypted
        current = document.isCurrent
        batchId = document.batchID?.rawValue
        uploadedBy = document.uploadedByName
        uploadedAt = document.createdAt
        let user = document.userID.rawValue.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? ""
        download = "/api/v1/students/\(user)/documents/\(document.documentID)"
    }
}
