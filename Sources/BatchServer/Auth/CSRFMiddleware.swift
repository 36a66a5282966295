import Vapor

/// Refuses state-changing requests that a browser may have been tricked into sending.
///
/// - Signed-in browser requests must carry the session's token (form field `_csrf` or header `X-CSRF-Token`).
/// - The sign-in form, before there is a session, uses a double-submit cookie.
/// - A request whose `Origin` names another site is refused outright.
/// - API-token requests, and JSON requests without a session (scripts signing in), are not cookie-borne forms and
///   need no token.
struct CSRFMiddleware: AsyncMiddleware {
    static let anonymousCookie = "sb_csrf"
    static let field = "_csrf"

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        let safe: [HTTPMethod] = [.GET, .HEAD, .OPTIONS]
        if !safe.contains(request.method) {
            try await check(request)
        }
        return try await next.respond(to: request)
    }

    private func check(_ request: Request) async throws {
        if let origin = request.headers.first(name: .origin), origin != "null",
            let originHost = URL(string: origin)?.host, let host = request.headers.first(name: .host)
        {
            let hostOnly = host.split(separator: ":").first.map(String.init) ?? host
            if originHost != hostOnly {
                throw AppError(.forbidden, "cross_site_request", "This form was sent from another website and was refused.")
            }
        }
        let expected: String
        switch request.authMethod {
        case .apiToken: return
        case .session(_, let token): expected = token
        case nil:
            // A request with no session that is not a form cannot come from a cross-site page: browsers send
            // cross-site bodies only as forms (a JSON body needs a CORS preflight, which is never granted).
            let isForm = request.headers.contentType.map { $0 == .urlEncodedForm || $0 == .formData || $0 == .plainText } ?? true
            if !isForm { return }
            guard let cookie = request.cookies[Self.anonymousCookie]?.string else {
                throw Self.refusal
            }
            expected = cookie
        }
        var sent = request.headers.first(name: "X-CSRF-Token")
        if sent == nil, request.headers.contentType == .formData {
            // File uploads stream: their forms carry the token in the address, so the body is never read here.
            sent = request.query[String.self, at: Self.field]
        }
        if sent == nil, request.headers.contentType == .urlEncodedForm {
            _ = try await request.body.collect(max: 1 << 20).get()
            sent = try? request.content.get(String.self, at: Self.field)
        }
        guard let sent, Secrets.equal(sent, expected) else { throw Self.refusal }
    }

    static let refusal = AppError(
        .forbidden, "csrf_failed",
        "This form has expired or did not come from SchoolBatch. Go back, reload the page and try again.")
}

/// Whether cookies get the `Secure` flag.
enum CookiePolicy {
    static func secure(_ request: Request) -> Bool {
        switch request.application.schoolBatch.config.secureCookies {
        case .always: return true
        case .never: return false
        case .auto:
            if request.headers.first(name: "X-Forwarded-Proto") == "https" { return true }
            // Browsers accept Secure cookies from loopback over plain HTTP; elsewhere they would drop them.
            let host = request.headers.first(name: .host)?.split(separator: ":").first.map(String.init) ?? ""
            return host == "localhost" || host == "127.0.0.1" || host == "[::1]"
        }
    }
}
