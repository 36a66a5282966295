import BatchCore
import BatchStore
import Vapor

/// Sign in and sign out.
struct SessionController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("login", use: form)
        routes.post("login", use: signIn)
        routes.post("logout", use: signOut)
    }

    struct LoginPage: Encodable {
        var layout: LayoutContext
        var username: String
        var next: String
        var error: String?
        var notice: String?
    }

    struct LoginForm: Content {
        var username: String
        var password: String
        var next: String?
    }

    func form(req: Request) async throws -> Response {
        if req.auth.has(Account.self) { return req.redirect(to: "/") }
        return try await render(
            req, username: "", next: req.query[String.self, at: "next"] ?? "/", error: nil,
            notice: Notice.text(req.query[String.self, at: "done"]), status: .ok)
    }

    func signIn(req: Request) async throws -> Response {
        let form = try req.content.decode(LoginForm.self)
        let next = Self.safeNext(form.next)
        do {
            let account = try await SignIn(request: req).authenticate(username: form.username, password: form.password)
            let token = Secrets.token()
            let config = req.schoolBatch.config
            let expires = Clock.nowMillis() + Int64(config.sessionHours) * 3_600_000
            try await req.store.createSession(
                tokenHash: Secrets.hash(token), accountID: account.id, csrfToken: Secrets.token(), expiresAt: expires)
            let response = req.redirect(to: next, redirectType: .normal)
            response.cookies[AccountAuthenticator.sessionCookie] = .init(
                string: token, maxAge: config.sessionHours * 3600, path: "/", isSecure: CookiePolicy.secure(req),
                isHTTPOnly: true, sameSite: .lax)
            return response
        } catch let error as AppError {
            return try await render(req, username: form.username, next: next, error: error.message, notice: nil, status: error.status)
        }
    }

    func signOut(req: Request) async throws -> Response {
        if case .session(let hash, _) = req.authMethod { try await req.store.deleteSession(tokenHash: hash) }
        let response = req.redirect(to: "/login?done=signed-out", redirectType: .normal)
        response.cookies[AccountAuthenticator.sessionCookie] = .expired
        return response
    }

    private func render(
        _ req: Request, username: String, next: String, error: String?, notice: String?, status: HTTPResponseStatus
    ) async throws -> Response {
        // The sign-in form's CSRF token is a double-submit cookie: there is no session yet.
        let token = req.cookies[CSRFMiddleware.anonymousCookie]?.string ?? Secrets.token()
        var layout = LayoutContext(request: req, title: "Sign in")
        layout.csrf = token
        let page = LoginPage(layout: layout, username: username, next: next, error: error, notice: notice)
        let response = try await req.view.render("login", page).encodeResponse(status: status, for: req)
        response.cookies[CSRFMiddleware.anonymousCookie] = .init(
            string: token, path: "/", isSecure: CookiePolicy.secure(req), isHTTPOnly: true, sameSite: .lax)
        return response
    }

    /// Only paths on this site: never `//evil.example` or `https://…`.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\") else { return "/" }
        return next
    }
}
