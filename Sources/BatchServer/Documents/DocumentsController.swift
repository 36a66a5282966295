import BatchCore
import BatchStore
import Vapor

/// *Student Assessment Documents* (SPEC §7): the upload page (settings + PDFs), a student's document download,
/// and the group download as a ZIP. After the upload the batch's own page (`/uploads/{id}`) shows the preview,
/// the student picker for unmatched files, Process, the report and undo.
struct DocumentsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let documents = routes.grouped("documents")
        documents.get(use: page)
        documents.on(.POST, body: .stream, use: upload)
        documents.get("download", use: downloadPage)
        documents.get("download.zip", use: downloadZip)
        routes.get("students", ":userId", "documents", ":documentId", use: studentDocument)
    }

    typealias Option = PeopleController.Option

    struct Page: Encodable {
        var layout: LayoutContext
        var types: [Option]
        var years: [Option]
        var term: String
        var title: String
        var maxSize: String
        var maxFiles: Int
        var recent: [UploadsController.Row]
        var errorTitle: String?
        var errors: [String]
    }

    func render(
        _ req: Request, account: Account, fields: [String: String] = [:], errorTitle: String? = nil, errors: [String] = []
    ) async throws -> View {
        let settings = try await req.store.settings()
        let recent = try await req.store.batches(visibleTo: account, kind: .documents, limit: 10)
        let board = req.engine.progress
        let year = fields["schoolYear"] ?? SchoolYear.current()
        return try await req.view.render(
            "documents",
            Page(
                layout: LayoutContext(request: req, title: "Student Assessment Documents", districtName: settings.districtName),
                types: settings.documentTypes.map { Option(value: $0, label: $0, selected: $0 == fields["documentType"]) },
                years: SchoolYear.recent().map { Option(value: $0, label: $0, selected: $0 == year) },
                term: fields["term"] ?? "", title: fields["title"] ?? "",
                maxSize: ByteCountFormatter.string(fromByteCount: DocumentBatch.maxFileBytes, countStyle: .binary),
                maxFiles: DocumentBatch.maxFiles,
                recent: recent.map { UploadsController.row($0, live: board.progress(of: $0.id)) }, errorTitle: errorTitle,
                errors: errors))
    }

    func page(req: Request) async throws -> View {
        try await render(req, account: try req.account(with: .documentBatch))
    }

    /// The settings checked against the district's list, as the batch's options JSON.
    static func options(_ raw: [String: String], store: Store) async throws -> Result<String, DocumentBatch.OptionsError> {
        let settings = try await store.settings()
        switch DocumentBatch.Options.validate(raw, documentTypes: settings.documentTypes) {
        case .failure(let error): return .failure(error)
        case .success(let options): return .success(JSONText.encode(options))
        }
    }

    /// The form without JavaScript: settings and files in one multipart body.
    func upload(req: Request) async throws -> Response {
        let account = try req.account(with: .documentBatch)
        return try await Uploads.fileBatchForm(
            req, kind: .documents, account: account, options: { try await Self.options($0, store: req.store) },
            failed: { fields, title, errors in try await render(req, account: account, fields: fields, errorTitle: title, errors: errors) })
    }

    /// One document of a student, as an attachment.
    func studentDocument(req: Request) async throws -> Response {
        try await DocumentDownloads.studentDocument(req)
    }

    struct DownloadPage: Encodable {
        var layout: LayoutContext
        var types: [Option]
        var years: [Option]
        var schools: [Option]
        var grades: [Option]
        var classes: [Option]
        var pattern: String
        var tokens: [String]
    }

    func downloadPage(req: Request) async throws -> View {
        let account = try req.account(with: .documentBatch)
        let settings = try await req.store.settings()
        let schools = try await req.store.schools().filter { account.scope.allows($0.key) }
        let classes = try await req.store.classes(scope: account.scope)
        return try await req.view.render(
            "documents_download",
            DownloadPage(
                layout: LayoutContext(request: req, title: "Download documents", districtName: settings.districtName),
                types: settings.documentTypes.map { Option(value: $0, label: $0, selected: false) },
                years: SchoolYear.recent().map { Option(value: $0, label: $0, selected: $0 == SchoolYear.current()) },
                schools: schools.map { Option(value: $0.key.rawValue, label: $0.name, selected: false) },
                grades: settings.gradeLevels.map { Option(value: $0, label: $0, selected: false) },
                classes: classes.map {
                    Option(value: $0.schoolClass.classID.rawValue, label: "\($0.schoolClass.name) — \($0.schoolName)", selected: false)
                },
                pattern: "{loginId}", tokens: DocumentDownloads.tokens))
    }

    struct DownloadForm: Content {
        var documentType: String?
        var schoolYear: String?
        var term: String?
        var school: String?
        var grade: String?
        var classId: String?
        var pattern: String?
        var folderPerClass: String?
    }

    func downloadZip(req: Request) async throws -> Response {
        let account = try req.account(with: .documentBatch)
        let form = try req.query.decode(DownloadForm.self)
        let filters = PeopleController.Filters(school: form.school, grade: form.grade, classId: form.classId, status: "active")
        let selection = try await Self.selection(
            type: form.documentType, year: form.schoolYear, term: form.term, pattern: form.pattern,
            folderPerClass: form.folderPerClass == "yes", query: filters.query(kind: .students, scope: account.scope), store: req.store)
        let name = FileNamePattern.safe("documents-\(selection.documentType)-\(selection.schoolYear)").replacingOccurrences(of: " ", with: "-")
        return try await DocumentDownloads.zip(selection, req: req, downloadName: name + ".zip")
    }

    /// Checks what a download asks for (pages and API alike).
    static func selection(
        type: String?, year: String?, term: String?, pattern: String?, folderPerClass: Bool, query: PersonQuery, store: Store
    ) async throws -> DocumentDownloads.Selection {
        let settings = try await store.settings()
        var raw: [String: String] = [:]
        raw["documentType"] = type
        raw["schoolYear"] = year
        raw["term"] = term
        let options: DocumentBatch.Options
        switch DocumentBatch.Options.validate(raw, documentTypes: settings.documentTypes) {
        case .success(let valid): options = valid
        case .failure(let error):
            throw AppError.invalid("The download needs a document type and a school year.", details: error.problems)
        }
        let names = FileNamePattern(pattern ?? "", tokens: DocumentDownloads.tokens)
        guard names.unknownTokens.isEmpty else {
            throw AppError.invalid(
                "Unknown name part\(names.unknownTokens.count == 1 ? "" : "s"): \(names.unknownTokens.map { "{\($0)}" }.joined(separator: ", ")).",
                details: ["Use: \(DocumentDownloads.tokens.map { "{\($0)}" }.joined(separator: " "))"])
        }
        return DocumentDownloads.Selection(
            query: query, documentType: options.documentType, schoolYear: options.schoolYear, term: options.term, pattern: names,
            folderPerClass: folderPerClass)
    }
}
