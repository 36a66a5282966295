import BatchCore
import BatchStore
import NIOCore
import Vapor

/// Turns every error into SPEC §10's JSON (for `/api/…` and JSON clients) or an HTML page, with the right status.
/// Bad input never becomes a 500; unexpected failures are logged with their cause and shown without internals.
struct AppErrorMiddleware: AsyncMiddleware {
    func respond(to request: Request, chainingTo next: any AsyncResponder) async throws -> Response {
        do {
            return try await next.respond(to: request)
        } catch {
            let appError = Self.appError(for: error, request: request)
            if appError.status.code >= 500 {
                request.logger.error("\(request.method) \(request.url.path) failed: \(String(reflecting: error))")
            }
            return try await Self.response(for: appError, request: request)
        }
    }

    static func appError(for error: any Error, request: Request) -> AppError {
        switch error {
        case let error as AppError:
            return error
        case let error as StoreError:
            switch error {
            case .notFound: return AppError(.notFound, "not_found", error.userMessage)
            case .duplicate: return AppError(.conflict, "duplicate", error.userMessage)
            case .conflict: return AppError(.conflict, "conflict", error.userMessage)
            case .invalid(let message, let details): return .invalid(message, details: details)
            case .unavailable: return AppError(.serviceUnavailable, "database_unavailable", error.userMessage)
            case .corrupt: return AppError(.internalServerError, "internal_error", error.userMessage)
            }
        case let rejection as FileRejection:
            return AppError(
                .unprocessableEntity, rejection.issues.first?.code ?? "invalid_file",
                "\(rejection.fileName) cannot be used, so it was not kept. Correct it and upload it again.",
                details: rejection.issues.map { "\($0.message) \($0.fix)" })
        case let error as IOError where error.errnoCode == ENOSPC:
            return AppError(
                .insufficientStorage, "disk_full",
                "The server's disk is full, so the file could not be stored. Nothing was changed. Ask your system administrator to free some space.")
        case let error as DecodingError:
            return AppError(.badRequest, "malformed_request", Self.describe(error))
        case let error as any AbortError:
            let code: String
            switch error.status {
            case .notFound: return .notFound()
            case .payloadTooLarge: code = "too_large"
            case .unsupportedMediaType: code = "unsupported_media_type"
            case .badRequest: code = "malformed_request"
            case .methodNotAllowed: code = "method_not_allowed"
            default: code = error.status.code >= 500 ? "internal_error" : "request_refused"
            }
            let message = error.status.code >= 500 ? "The server could not finish this request." : error.reason
            return AppError(error.status, code, message)
        default:
            return AppError(
                .internalServerError, "internal_error",
                "The server could not finish this request. Nothing was changed; try again, and if it happens again ask your system administrator to check the server log.")
        }
    }

    static func describe(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, _): "The field “\(key.stringValue)” is missing."
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            context.codingPath.isEmpty
                ? "The request body is not valid JSON or form data."
                : "The field “\(context.codingPath.map(\.stringValue).joined(separator: "."))” has the wrong type or format."
        @unknown default: "The request body could not be read."
        }
    }

    static func wantsJSON(_ request: Request) -> Bool {
        request.url.path.hasPrefix("/api/") || request.url.path == "/healthz"
            || (request.headers.first(name: .accept)?.contains("application/json") ?? false)
    }

    static func response(for error: AppError, request: Request) async throws -> Response {
        if wantsJSON(request) {
            let response = Response(status: error.status)
            try response.content.encode(
                ErrorBody(error: .init(code: error.code, message: error.message, details: error.details)), as: .json)
            if error.status == .unauthorized { response.headers.replaceOrAdd(name: .wwwAuthenticate, value: "Bearer") }
            return response
        }
        let context = ErrorPage(
            layout: LayoutContext(request: request, title: error.status.reasonPhrase), status: Int(error.status.code),
            heading: error.status.reasonPhrase, message: error.message, details: error.details)
        let view = try await request.view.render("error", context)
        let response = try await view.encodeResponse(status: error.status, for: request)
        return response
    }
}

struct ErrorPage: Encodable {
    var layout: LayoutContext
    var status: Int
    var heading: String
    var message: String
    var details: [String]
}
