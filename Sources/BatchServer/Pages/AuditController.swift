import BatchCore
import BatchStore
import Vapor

/// The audit log page for system administrators, with filters.
struct AuditController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("audit", use: list)
    }

    struct Row: Encodable {
        var at: String
        var actor: String
        var action: String
        var target: String
        var batch: String
        var changes: [String]
    }

    struct AuditPage: Encodable {
        var layout: LayoutContext
        var rows: [Row]
        var total: Int
        var actions: [PeopleController.Option]
        var actor: String
        var target: String
        var batchFilter: String
        var nextLink: String?
    }

    struct Filters: Content {
        var actor: String?
        var action: String?
        var target: String?
        var batch: String?
        var page: Int?
    }

    static let timeFormat: DateFormatter = {
        let formatter = DateFormatter()
        formatter.dateFormat = "yyyy-MM-dd HH:mm:ss"
        formatter.timeZone = TimeZone.current
        return formatter
    }()

    func list(req: Request) async throws -> View {
        _ = try req.account(with: .viewAudit)
        let filters = try req.query.decode(Filters.self)
        let page = max(1, filters.page ?? 1)
        let result = try await req.store.auditEntries(
            AuditQuery(
                actorName: filters.actor, action: filters.action, targetID: filters.target,
                batchID: filters.batch.flatMap { $0.isEmpty ? nil : BatchID(rawValue: $0) }, limit: 100,
                offset: (page - 1) * 100))
        let actions = try await req.store.auditActions()
        let rows = result.items.map { entry in
            Row(
                at: Self.timeFormat.string(from: Date(timeIntervalSince1970: Double(entry.at) / 1000)), actor: entry.actorName,
                action: entry.action, target: "\(entry.targetType) \(entry.targetID)", batch: entry.batchID?.rawValue ?? "",
                changes: entry.changes.map { "\($0.field): \($0.before ?? "—") → \($0.after ?? "—")" })
        }
        var next: String?
        if page * 100 < result.total {
            var components = URLComponents()
            components.path = "/audit"
            components.queryItems = [
                URLQueryItem(name: "actor", value: filters.actor ?? ""), URLQueryItem(name: "action", value: filters.action ?? ""),
                URLQueryItem(name: "target", value: filters.target ?? ""), URLQueryItem(name: "batch", value: filters.batch ?? ""),
                URLQueryItem(name: "page", value: String(page + 1)),
            ]
            next = components.string
        }
        return try await req.view.render(
            "audit",
            AuditPage(
                layout: LayoutContext(request: req, title: "Audit log"), rows: rows, total: result.total,
                actions: actions.map { .init(value: $0, label: $0, selected: $0 == filters.action) },
                actor: filters.actor ?? "", target: filters.target ?? "", batchFilter: filters.batch ?? "", nextLink: next))
    }
}
