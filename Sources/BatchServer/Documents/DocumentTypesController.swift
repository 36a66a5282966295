import BatchCore
import BatchStore
import Vapor

/// The district's list of document types (SPEC §7), managed by system administrators.
struct DocumentTypesController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let types = routes.grouped("settings", "document-types")
        types.get(use: page)
        types.post(use: save)
    }

    struct Page: Encodable {
        var layout: LayoutContext
        var types: [String]
        var notice: String?
        var errors: [String]
    }

    func page(req: Request) async throws -> View {
        _ = try req.account(with: .manageSettings)
        let settings = try await req.store.settings()
        return try await req.view.render(
            "document_types",
            Page(
                layout: LayoutContext(request: req, title: "Document types", districtName: settings.districtName),
                types: settings.documentTypes, notice: Notice.text(req.query[String.self, at: "done"]), errors: []))
    }

    struct Form: Content {
        var types: [String]?
        var add: String?
        var remove: String?
    }

    /// Saves the edited names, adds one, or removes one. Documents already stored keep the type they were filed under.
    func save(req: Request) async throws -> Response {
        let account = try req.account(with: .manageSettings)
        let form = try req.content.decode(Form.self)
        var settings = try await req.store.settings()
        var types = form.types ?? settings.documentTypes
        if let remove = form.remove { types.removeAll { $0 == remove } }
        if let add = form.add, !add.trimmingCharacters(in: .whitespaces).isEmpty { types.append(add) }
        switch DocumentBatch.cleanTypes(types) {
        case .failure(let error):
            let view = try await req.view.render(
                "document_types",
                Page(
                    layout: LayoutContext(request: req, title: "Document types", districtName: settings.districtName),
                    types: settings.documentTypes, notice: nil, errors: error.problems))
            return try await view.encodeResponse(status: .unprocessableEntity, for: req)
        case .success(let cleaned):
            settings.documentTypes = cleaned
            try await req.store.updateSettings(settings, by: Actor(account))
            return req.redirect(to: "/settings/document-types?done=settings-saved")
        }
    }
}
