import BatchCore
import BatchStore
import Foundation
import Vapor

/// `/api/v1/batches`: create a draft batch, read it, list batches, cancel.
struct BatchesAPIController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let batches = routes.grouped("batches")
        batches.post(use: create)
        batches.get(use: list)
        batches.get(":id", use: show)
        batches.post(":id", "cancel", use: cancel)
    }

    struct CreateRequest: Content {
        var kind: String
        var options: [String: String]?
    }

    struct BatchJSON: Content {
        var id: String
        var kind: String
        var status: String
        var options: [String: String]
        var createdBy: String
        var createdAt: Date
        var updatedAt: Date

        init(_ batch: Batch) {
            id = batch.id.rawValue
            kind = batch.kind.rawValue
            status = batch.status.rawValue
            options = (try? JSONDecoder().decode([String: String].self, from: Data(batch.options.utf8))) ?? [:]
            createdBy = batch.createdByName
            createdAt = Date(timeIntervalSince1970: Double(batch.createdAt) / 1000)
            updatedAt = Date(timeIntervalSince1970: Double(batch.updatedAt) / 1000)
        }
    }

    static func options(for kind: BatchKind, _ raw: [String: String]) throws -> [String: String] {
        let allowed: Set<String>
        switch kind {
        case .roster: allowed = ["mode", "allowMassChanges"]
        case .photos, .emails: allowed = []
        case .documents: allowed = ["documentType", "schoolYear", "term", "title"]
        }
        let unknown = raw.keys.filter { !allowed.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw AppError.invalid(
                "Unknown option\(unknown.count == 1 ? "" : "s") for a \(kind.rawValue) batch: \(unknown.joined(separator: ", ")).",
                details: allowed.isEmpty ? ["This kind takes no options."] : ["Accepted: \(allowed.sorted().joined(separator: ", "))."])
        }
        if kind == .roster, let mode = raw["mode"], !["add-update", "sync"].contains(mode) {
            throw AppError.invalid("options.mode must be “add-update” or “sync” (got “\(mode)”).")
        }
        return raw
    }

    func create(req: Request) async throws -> Response {
        let account = try req.account()
        let body = try req.content.decode(CreateRequest.self)
        guard let kind = BatchKind(rawValue: body.kind) else {
            throw AppError.invalid(
                "Unknown batch kind “\(body.kind)”.", details: ["Use one of: \(BatchKind.allCases.map(\.rawValue).joined(separator: ", "))."])
        }
        guard account.can(kind.capability) else { throw AppError.forbidden }
        let options = try Self.options(for: kind, body.options ?? [:])
        if kind == .roster {
            let gate = try await req.store.activationGate()
            guard gate.isOpen else { throw AppError(.conflict, "roster_upload_closed", gate.explanation) }
        }
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        let batch = try await req.store.createBatch(
            kind: kind, options: String(decoding: try encoder.encode(options), as: UTF8.self), by: account)
        return try await BatchJSON(batch).encodeResponse(status: .created, for: req)
    }

    func list(req: Request) async throws -> [BatchJSON] {
        let account = try req.account()
        var kind: BatchKind?
        var status: BatchStatus?
        if let raw = req.query[String.self, at: "kind"], !raw.isEmpty {
            guard let parsed = BatchKind(rawValue: raw) else { throw AppError(.badRequest, "invalid_filter", "Unknown kind “\(raw)”.") }
            kind = parsed
        }
        if let raw = req.query[String.self, at: "status"], !raw.isEmpty {
            guard let parsed = BatchStatus(rawValue: raw) else { throw AppError(.badRequest, "invalid_filter", "Unknown status “\(raw)”.") }
            status = parsed
        }
        return try await req.store.batches(visibleTo: account, kind: kind, status: status).map(BatchJSON.init)
    }

    private func batch(_ req: Request) async throws -> (Account, Batch) {
        let account = try req.account()
        guard let id = req.parameters.get("id"), let batch = try await req.store.batch(BatchID(rawValue: id), visibleTo: account)
        else { throw AppError.notFound("No such batch among those you can see.") }
        return (account, batch)
    }

    func show(req: Request) async throws -> BatchJSON {
        BatchJSON(try await batch(req).1)
    }

    func cancel(req: Request) async throws -> BatchJSON {
        let (account, batch) = try await batch(req)
        guard account.can(batch.kind.capability) else { throw AppError.forbidden }
        return BatchJSON(try await req.store.transition(batch.id, to: .cancelled, by: Actor(account)))
    }
}
