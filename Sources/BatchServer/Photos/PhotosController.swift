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
}
