import BatchCore
import BatchStore
import Leaf
import Vapor

/// Sets up an application: services, middleware, templates and every route.
public func configure(_ app: Application, services: AppServices) throws {
    app.schoolBatch = services
    app.http.server.configuration.hostname = services.config.hostname
    app.http.server.configuration.port = services.config.port
    app.directory = DirectoryConfiguration(workingDirectory: services.config.resourcesDirectory)
    // Without its templates every page would be an empty answer, the reason only in the log: refused at the start.
    guard FileManager.default.fileExists(atPath: app.directory.viewsDirectory) else {
        throw AppConfig.ResourcesMissing(directory: services.config.resourcesDirectory)
    }
    app.views.use(.leaf)
    app.leaf.cache.isEnabled = app.environment.isRelease

    app.middleware = Middlewares()
    app.middleware.use(AppErrorMiddleware())
    app.middleware.use(FileMiddleware(publicDirectory: app.directory.publicDirectory))
    app.middleware.use(SecurityHeadersMiddleware())
    app.middleware.use(AccountAuthenticator())
    app.middleware.use(CSRFMiddleware())

    try routes(app)
}

func routes(_ app: Application) throws {
    app.get("healthz") { req async throws -> Response in
        do {
            _ = try await req.store.accountCount()
            return try await ["status": "ok"].encodeResponse(for: req)
        } catch {
            let response = Response(status: .serviceUnavailable)
            try response.content.encode(["status": "database unavailable"])
            return response
        }
    }
    app.get("openapi.json") { req async throws -> Response in
        let path = req.application.directory.resourcesDirectory + "openapi.json"
        return try await req.fileio.asyncStreamFile(at: path, mediaType: .json)
    }

    try app.register(collection: SessionController())
    let pages = app.grouped(SignInRedirect())
    try pages.register(collection: HomeController())
    try pages.register(collection: SchoolsController())
    try pages.register(collection: AccountsController())
    try pages.register(collection: PeopleController())
    try pages.register(collection: AuditController())
    try pages.register(collection: UploadsController())
    try pages.register(collection: EmailsController())
    try pages.register(collection: RosterController())
    try pages.register(collection: DocumentsController())
    try pages.register(collection: PhotosController())
    try pages.register(collection: DocumentTypesController())

    let api = app.grouped("api", "v1")
    try api.register(collection: AccessAPIController())
    try api.register(collection: DirectoryAPIController())
    try api.register(collection: BatchesAPIController())
    try api.register(collection: DocumentsAPIController())
    try api.register(collection: PhotosAPIController())
    try api.register(collection: ExportsAPIController())
}

/// Headers that keep pages from being framed or sniffed.
struct SecurityHeadersMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let response = try await next.respond(to: request)
        response.headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        response.headers.replaceOrAdd(name: "X-Frame-Options", value: "DENY")
        response.headers.replaceOrAdd(name: "Referrer-Policy", value: "same-origin")
        return response
    }
}
