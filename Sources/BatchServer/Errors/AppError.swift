import Vapor

/// An error a person or a script is meant to read: a stable code, plain words, the right status and, where
/// useful, details (one per problem). At the edge it becomes SPEC §10's JSON or a friendly HTML page.
public struct AppError: AbortError, Sendable {
    public var status: HTTPResponseStatus
    public var code: String
    public var message: String
    public var details: [String]

    public init(_ status: HTTPResponseStatus, _ code: String, _ message: String, details: [String] = []) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
    }

    public var reason: String { message }

    public static func notFound(_ what: String = "That page or record does not exist, or it belongs to a school you cannot see.") -> AppError {
        AppError(.notFound, "not_found", what)
    }
    public static let forbidden = AppError(
        .forbidden, "forbidden", "Your account's role does not allow this. Ask a system administrator if you need it.")
    public static let unauthenticated = AppError(
        .unauthorized, "unauthenticated", "Sign in first, or send an API token as “Authorization: Bearer …”.")
    public static func invalid(_ message: String, details: [String] = []) -> AppError {
        AppError(.unprocessableEntity, "invalid_input", message, details: details)
    }
}

/// The JSON body of an error (SPEC §10).
struct ErrorBody: Content {
    struct Inner: Content {
        var code: String
        var message: String
        var details: [String]
    }
    var error: Inner
}
