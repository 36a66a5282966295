import BatchCore
import BatchImaging
import BatchStore
import Vapor

/// *Student Photos* (SPEC §5.1): the upload page (choose or drop JPEGs, checked in the browser, uploaded a few at a
/// time). After the upload the batch's own page (`/uploads/{id}`) shows the preview — current and new photo side
/// by side —, the student picker for unmatched files, Process with the replaced/added counts, the report and undo.
struct PhotosController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let photos = routes.grouped("photos")
        photos.get(use: page)
        photos.on(.POST, body: .stream, use: upload)
        photos.get("download", use: downloadPage)
        photos.post("download", use: requestDownload)
    }

    struct Page: Encodable {
        var layout: LayoutContext
        var maxSize: String
        var maxBytes: Int
        var maxFiles: Int
        var recent: [UploadsController.Row]
        var errorTitle: String?
        var errors: [String]
    }

    func render(_ req: Request, account: Account, errorTitle: String? = nil, errors: [String] = []) async throws -> View {
        let settings = try await req.store.settings()
        let recent = try await req.store.batches(visibleTo: account, kind: .photos, limit: 10)
        let board = req.engine.progress
        return try await req.view.render(
            "photos",
            Page(
                layout: LayoutContext(request: req, title: "Student Photos", districtName: settings.districtName),
                maxSize: ByteCountFormatter.string(fromByteCount: Int64(PhotoRules.maxBytes), countStyle: .binary),
                maxBytes: PhotoRules.maxBytes, maxFiles: PhotoRules.maxFiles,
                recent: recent.map { UploadsController.row($0, live: board.progress(of: $0.id)) }, errorTitle: errorTitle,
                errors: errors))
    }

    func page(req: Request) async throws -> View {
        try await render(req, account: try req.account(with: .photoBatch))
    }

    /// The form without JavaScript: the files in one multipart body.
    func upload(req: Request) async throws -> Response {
        let account = try req.account(with: .photoBatch)
        return try await Uploads.fileBatchForm(
            req, kind: .photos, account: account, options: { _ in .success("{}") },
            failed: { _, title, errors in try await render(req, account: account, errorTitle: title, errors: errors) })
    }

    struct DownloadPage: Encodable {
        var layout: LayoutContext
        var schools: [PeopleController.Option]
        var grades: [PeopleController.Option]
        var classes: [PeopleController.Option]
        var sizes: [PeopleController.Option]
        var tokens: [String]
        /// One student's values, for the page's live example of the file names.
        var example: String
        /// Students chosen on the Students list (their userIds are sent along), by name.
        var chosen: [PeopleController.Option]
        var recent: [UploadsController.Row]
    }

    func downloadPage(req: Request) async throws -> View {
        let account = try req.account(with: .photoExport)
        let settings = try await req.store.settings()
        let schools = try await req.store.schools().filter { account.scope.allows($0.key) && $0.schoolID != nil }
        let classes = try await req.store.classes(scope: account.scope)
        // The example names a student who has a photo (so the name shows up in a download of their class).
        let firstPage = try await req.store.people(PersonQuery(kind: .students, scope: account.scope, status: .active, limit: 100)).items
        let first = firstPage.first(where: \.hasPhoto) ?? firstPage.first
        var chosen: [PeopleController.Option] = []
        let wanted = (try? req.query.get([String].self, at: "userIds")) ?? []
        if !wanted.isEmpty {
            var query = PersonQuery(kind: .students, scope: account.scope, limit: 500)
            query.anyOfPeople = wanted.prefix(500).map(UserID.init(rawValue:))
            chosen = try await req.store.people(query).items.map {
                .init(value: $0.person.userID.rawValue, label: "\($0.person.lastName), \($0.person.firstName) (\($0.person.loginID?.rawValue ?? $0.person.userID.rawValue))", selected: true)
            }
        }
        let recent = try await req.store.batches(visibleTo: account, kind: .photoExport, limit: 5)
        let board = req.engine.progress
        return try await req.view.render(
            "photos_download",
            DownloadPage(
                layout: LayoutContext(request: req, title: "Download photos", districtName: settings.districtName),
                schools: schools.map { .init(value: $0.displayID, label: "\($0.name) (\($0.displayID))", selected: false) },
                grades: settings.gradeLevels.map { .init(value: $0, label: $0, selected: false) },
                classes: classes.map {
                    .init(value: $0.schoolClass.classID.rawValue, label: "\($0.schoolClass.name) — \($0.schoolName)", selected: false)
                },
                sizes: PhotoDownloads.sizes.map { .init(value: $0.value, label: $0.label, selected: $0.value == "original") },
                tokens: FileNamePattern.personTokens,
                example: JSONText.encode(
                    first.map(GroupZip.values) ?? ["loginId": "19chanw1", "firstName": "Wing Yan", "lastName": "Chan", "userId": "000123"]),
                chosen: chosen, recent: recent.map { UploadsController.row($0, live: board.progress(of: $0.id)) }))
    }

    /// The page's Download button: the download is queued (a worker writes the ZIP) and its page follows it.
    func requestDownload(req: Request) async throws -> Response {
        let account = try req.account(with: .photoExport)
        let form = try req.content.decode(PhotoDownloads.Form.self)
        let batch = try await req.engine.requestExport(
            .photoExport, options: JSONText.encode(try form.request()), by: account)
        return req.redirect(to: "/uploads/\(batch.id.rawValue)?done=export-queued")
    }
}

/// The photo group download (SPEC §5.2): the page's form as a request, and the finished ZIP as a response.
enum PhotoDownloads {
    static let sizes = PhotoExportRequest.presets + [("custom", "Custom — at most the width × height below")]

    /// The download page's fields (check boxes send `schoolIds[]` etc.).
    struct Form: Content {
        var schoolIds: [String]?
        var grades: [String]?
        var classIds: [String]?
        var userIds: [String]?
        var size: String?
        var maxWidth: Int?
        var maxHeight: Int?
        var namePattern: String?
        var folderPerClass: String?

        func request() throws -> PhotoExportRequest {
            var size = self.size ?? "original"
            if size == "custom" {
                guard let width = maxWidth, let height = maxHeight, PhotoBox(width: width, height: height) != nil else {
                    let range = PhotoExportRequest.sideRange
                    throw AppError.invalid(
                        "A custom size needs a maximum width and height between \(range.lowerBound) and \(range.upperBound) px.",
                        details: ["Got width \(maxWidth.map(String.init) ?? "none") and height \(maxHeight.map(String.init) ?? "none")."])
                }
                size = "\(width)x\(height)"
            }
            return PhotoExportRequest(
                schoolIds: schoolIds ?? [], grades: grades ?? [], classIds: classIds ?? [], userIds: userIds ?? [], size: size,
                namePattern: namePattern ?? "", folderPerClass: folderPerClass == "yes")
        }
    }

    /// The finished ZIP of a download the account may see.
    static func download(_ batch: Batch, req: Request) async throws -> Response {
        guard batch.kind == .photoExport else { throw AppError.notFound("No such photo download among those you can see.") }
        guard batch.status == .completed, let summary = batch.report?.export else {
            throw AppError(
                .conflict, "not_ready",
                "This download is \(batch.status.words), not ready yet. Its page shows when it is; try again then.")
        }
        let url = req.engine.exportFile(of: batch.id)
        guard FileManager.default.fileExists(atPath: url.path) else {
            throw AppError(
                .gone, "expired",
                "Downloads are kept for 24 hours and this one has been removed. Make it again on the Download photos page.")
        }
        return try await GroupZip.streamZip(at: url, downloadName: summary.downloadName, req: req, removeAfter: false)
    }
}

/// `POST /api/v1/photo-exports` (SPEC §10): queue a photo group download → 202 with the export; `GET …/{id}` its
/// status and, when done, what it holds and its download link; `GET …/{id}/download` the ZIP.
struct PhotosAPIController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let exports = routes.grouped("photo-exports")
        exports.on(.POST, body: .collect(maxSize: "4mb"), use: create)
        exports.get(":id", use: show)
        exports.get(":id", "download", use: download)
    }

    func create(req: Request) async throws -> Response {
        let account = try req.account(with: .photoExport)
        let request = (req.body.data?.readableBytes ?? 0) == 0
            ? PhotoExportRequest() : try req.content.decode(PhotoExportRequest.self)
        let batch = try await req.engine.requestExport(.photoExport, options: JSONText.encode(request), by: account)
        let response = try await BatchJSON(batch).encodeResponse(status: .accepted, for: req)
        response.headers.replaceOrAdd(name: .location, value: "/api/v1/photo-exports/\(batch.id.rawValue)")
        return response
    }

    func export(_ req: Request) async throws -> Batch {
        let account = try req.account(with: .photoExport)
        let batch = try await req.batchParameter(for: account)
        guard batch.kind == .photoExport else { throw AppError.notFound("No such photo download among those you can see.") }
        return batch
    }

    func show(req: Request) async throws -> BatchJSON {
        let batch = try await export(req)
        return BatchJSON(batch, live: req.engine.progress.progress(of: batch.id))
    }

    func download(req: Request) async throws -> Response {
        try await PhotoDownloads.download(try await export(req), req: req)
    }
}
