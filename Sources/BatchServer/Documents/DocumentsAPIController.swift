import BatchCore
import BatchStore
import Vapor

/// `/api/v1`: a student's documents, one document's file, and a group's documents as a ZIP.
struct DocumentsAPIController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("students", ":userId", "documents", use: list)
        routes.get("students", ":userId", "documents", ":documentId", use: download)
        routes.get("documents", "export.zip", use: export)
    }

    func list(req: Request) async throws -> [DocumentJSON] {
        let account = try req.account(with: .documentBatch)
        guard let userID = req.parameters.get("userId"),
            let documents = try await req.store.documents(of: UserID(rawValue: userID), scope: account.scope)
        else { throw AppError.notFound("No such student among the schools you can see.") }
        return documents.map(DocumentJSON.init)
    }

    func download(req: Request) async throws -> Response {
        try await DocumentDownloads.studentDocument(req)
    }

    struct ExportQuery: Content {
        var documentType: String?
        var schoolYear: String?
        var term: String?
        var schoolId: String?
        var grade: String?
        var classId: String?
        var namePattern: String?
        var folderPerClass: Bool?
    }

    func export(req: Request) async throws -> Response {
        let account = try req.account(with: .documentBatch)
        let query = try req.query.decode(ExportQuery.self)
        let schoolKey = try await DirectoryAPIController.schoolKey(query.schoolId, account: account, store: req.store)
        let people = PersonQuery(
            kind: .students, scope: account.scope, schoolKey: schoolKey, grade: query.grade?.isEmpty == false ? query.grade : nil,
            classID: query.classId.flatMap { $0.isEmpty ? nil : ClassID(rawValue: $0) }, status: .active)
        let selection = try await DocumentsController.selection(
            type: query.documentType, year: query.schoolYear, term: query.term, pattern: query.namePattern,
            folderPerClass: query.folderPerClass ?? false, query: people, store: req.store)
        return try await DocumentDownloads.zip(selection, req: req, downloadName: "documents.zip")
    }
}
