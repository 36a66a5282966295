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
        photos.get("download.zip", use: downloadZip)
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
    }

    func downloadPage(req: Request) async throws -> View {
        let account = try req.account(with: .photoExport)
        let settings = try await req.store.settings()
        let schools = try await req.store.schools().filter { account.scope.allows($0.key) }
        let classes = try await req.store.classes(scope: account.scope)
        let first = try await req.store.people(PersonQuery(kind: .students, scope: account.scope, limit: 1)).items.first
        return try await req.view.render(
            "photos_download",
            DownloadPage(
                layout: LayoutContext(request: req, title: "Download photos", districtName: settings.districtName),
                schools: schools.map { .init(value: $0.key.rawValue, label: $0.name, selected: false) },
                grades: settings.gradeLevels.map { .init(value: $0, label: $0, selected: false) },
                classes: classes.map {
                    .init(value: $0.schoolClass.classID.rawValue, label: "\($0.schoolClass.name) — \($0.schoolName)", selected: false)
                },
                sizes: PhotoDownloads.presets.map { .init(value: $0.value, label: $0.label, selected: $0.value == "original") },
                tokens: FileNamePattern.personTokens,
                example: JSONText.encode(first.map(GroupZip.values) ?? ["loginId": "19chanw1", "firstName": "Wing Yan", "lastName": "Chan"])))
    }

    func downloadZip(req: Request) async throws -> Response {
        let account = try req.account(with: .photoExport)
        let form = try req.query.decode(PhotoDownloads.Form.self)
        return try await PhotoDownloads.zip(form, account: account, req: req)
    }
}

/// The photo group download (SPEC §5.2), for the page and `POST /api/v1/photo-exports`.
enum PhotoDownloads {
    static let presets: [(value: String, label: String)] = [
        ("original", "Original size"), ("240x300", "Small — at most 240 × 300 px"), ("480x600", "Medium — at most 480 × 600 px"),
        ("custom", "Custom — at most the width × height below"),
    ]

    struct Form: Content {
        var school: String?
        var grade: String?
        var classId: String?
        var size: String?
        var maxWidth: Int?
        var maxHeight: Int?
        var pattern: String?
        var folderPerClass: String?
    }

    /// The largest box a photo is scaled into, or nil for the original.
    static func box(_ form: Form) throws -> (width: Int, height: Int)? {
        switch form.size ?? "original" {
        case "original", "": return nil
        case "custom":
            guard let width = form.maxWidth, let height = form.maxHeight, (16...4000).contains(width), (16...4000).contains(height) else {
                throw AppError.invalid(
                    "A custom size needs a maximum width and height between 16 and 4000 px.",
                    details: ["Got width \(form.maxWidth.map(String.init) ?? "none") and height \(form.maxHeight.map(String.init) ?? "none")."])
            }
            return (width, height)
        case let preset:
            let parts = preset.split(separator: "x").compactMap { Int($0) }
            guard parts.count == 2, presets.contains(where: { $0.value == preset }) else {
                throw AppError.invalid(
                    "Unknown size “\(preset)”.", details: ["Use one of: \(presets.map(\.value).joined(separator: ", "))."])
            }
            return (parts[0], parts[1])
        }
    }

    static func zip(_ form: Form, account: Account, req: Request) async throws -> Response {
        let names = FileNamePattern(form.pattern ?? "")
        guard names.unknownTokens.isEmpty else {
            throw AppError.invalid(
                "Unknown name part\(names.unknownTokens.count == 1 ? "" : "s"): \(names.unknownTokens.map { "{\($0)}" }.joined(separator: ", ")).",
                details: ["Use: \(FileNamePattern.personTokens.map { "{\($0)}" }.joined(separator: " "))"])
        }
        let box = try box(form)
        let filters = PeopleController.Filters(school: form.school, grade: form.grade, classId: form.classId, status: "active")
        let (students, photos) = try await req.store.photos(for: filters.query(kind: .students, scope: account.scope))
        let blobs = req.schoolBatch.blobs
        let entries = photos.map { person, photo in
            GroupZip.Entry(
                person: person, values: [:], ext: "jpg", index: ["\(photo.width)", "\(photo.height)", "\(photo.version)"],
                bytes: {
                    guard let original = try blobs.get(photo.blobKey) else { return nil }
                    guard let box else { return original }
                    return try PhotoStorage.resized(original, maxWidth: box.width, maxHeight: box.height)
                })
        }
        return try await GroupZip.response(
            entries, students: students, pattern: names, folderPerClass: form.folderPerClass == "yes",
            indexColumns: ["originalWidth", "originalHeight", "version"], req: req, downloadName: "photos.zip")
    }
}

/// `POST /api/v1/photo-exports`: the photo group download for scripts; the JSON body has the page's fields
/// (`school`, `grade`, `classId`, `size`, `maxWidth`, `maxHeight`, `pattern`, `folderPerClass: "yes"`); the answer is
/// the ZIP.
struct PhotosAPIController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.post("photo-exports", use: export)
    }

    func export(req: Request) async throws -> Response {
        let account = try req.account(with: .photoExport)
        let form = (try? req.content.decode(PhotoDownloads.Form.self)) ?? PhotoDownloads.Form()
        return try await PhotoDownloads.zip(form, account: account, req: req)
    }
}
