import BatchCore
import BatchStore
import Vapor

extension Account: Authenticatable {}

/// How the current request was authenticated.
enum AuthMethod: Sendable {
    case session(tokenHash: String, csrfToken: String)
    case apiToken
}

extension Request {
    private struct AuthMethodKey: StorageKey { typealias Value = AuthMethod }
    var authMethod: AuthMethod? {
        get { storage[AuthMethodKey.self] }
        set { storage[AuthMethodKey.self] = newValue }
    }

    /// The signed-in account, or a 401 (API) / sign-in redirect (pages, via `SignInRedirect`).
    func account() throws -> Account {
        guard let account = auth.get(Account.self) else { throw AppError.unauthenticated }
        return account
    }

    /// The signed-in account when it has a capability; 403 otherwise.
    func account(with capability: Capability) throws -> Account {
        let account = try account()
        guard account.can(capability) else { throw AppError.forbidden }
        return account
    }

    /// The CSRF token of the browser session (empty for token-authenticated requests).
    var csrfToken: String {
        if case .session(_, let token) = authMethod { return token }
        return cookies[CSRFMiddleware.anonymousCookie]?.string ?? ""
    }
}

/// Finds the account of a request from `Authorization: Bearer …` or the session cookie.
struct AccountAuthenticator: AsyncMiddleware {
    static let sessionCookie = "sb_session"

    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        if let bearer = request.headers.bearerAuthorization {
            guard let account = try await request.store.account(apiTokenHash: Secrets.hash(bearer.token)) else {
                throw AppError(.unauthorized, "invalid_token", "This API token is not valid (it may have been revoked, or its account disabled).")
            }
            request.auth.login(account)
            request.authMethod = .apiToken
        } else if let cookie = request.cookies[Self.sessionCookie]?.string, !cookie.isEmpty {
            let hash = Secrets.hash(cookie)
            if let session = try await request.store.session(tokenHash: hash) {
                request.auth.login(session.account)
                request.authMethod = .session(tokenHash: hash, csrfToken: session.csrfToken)
            }
        }
        return try await next.respond(to: request)
    }
}

/// Pages send a visitor who is not signed in to the sign-in page, then back.
struct SignInRedirect: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        guard request.auth.has(Account.self) else {
            let target = request.url.path + (request.url.query.map { "?\($0)" } ?? "")
            let encoded = target.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "/"
            return request.redirect(to: "/login?next=\(encoded)")
        }
        return try await next.respond(to: request)
    }
}
