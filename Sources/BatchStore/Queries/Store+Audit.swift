import BatchCore

/// Filters of the audit log page.
public struct AuditQuery: Sendable {
    public var actorName: String?
    public var action: String?
    public var targetID: String?
    public var batchID: BatchID?
    public var limit: Int
    public var offset: Int
    public init(
        actorName: String? = nil, action: String? = nil, targetID: String? = nil, batchID: BatchID? = nil,
        limit: Int = 100, offset: Int = 0
    ) {
        self.actorName = actorName
        self.action = action
        self.targetID = targetID
        self.batchID = batchID
        self.limit = min(max(limit, 1), 500)
        self.offset = max(offset, 0)
    }
}

extension Store {
    /// Writes one audit line in the caller's transaction, so it exists exactly when the change does.
    /// A batch's own line, written in the name of the person who made it (a worker acts on their behalf).
    static func auditBatch(_ db: any SQLConnection, _ batch: Batch, action: String, changes: [AuditEntry.Change]) throws {
        try appendAudit(
            db, actor: Actor(id: batch.createdBy, name: batch.createdByName), action: action, targetType: "batch",
            targetID: batch.id.rawValue, batchID: batch.id, changes: changes)
    }

    static func appendAudit(
        _ db: any SQLConnection, actor: Actor, action: String, targetType: String, targetID: String,
        batchID: BatchID? = nil, changes: [AuditEntry.Change]
    ) throws {
        try db.execute(
            """
            INSERT INTO audit_log (at, actor_id, actor_name, action, target_type, target_id, batch_id, changes)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .int(Clock.nowMillis()), .id(actor.id), .text(actor.name), .text(action), .text(targetType),
                .text(targetID), .id(batchID), .text(JSONText.encode(changes)),
            ])
    }

    /// Audit lines, newest first.
    public func auditEntries(_ query: AuditQuery) async throws -> Page<AuditEntry> {
        try await backend.read { db in
            var filter = SQLFilter()
            if let actor = query.actorName, !actor.isEmpty { filter.add("actor_name = ?", .text(actor)) }
            if let action = query.action, !action.isEmpty { filter.add("action LIKE ?", .text("\(action)%")) }
            if let target = query.targetID, !target.isEmpty { filter.add("target_id = ?", .text(target)) }
            if let batch = query.batchID { filter.add("batch_id = ?", .id(batch)) }
            let total = Int(try db.scalarInt("SELECT COUNT(*) AS n FROM audit_log \(filter.whereClause)", filter.binds))
            let items = try db.query(
                "SELECT * FROM audit_log \(filter.whereClause) ORDER BY id DESC LIMIT ? OFFSET ?",
                filter.binds + [.int(Int64(query.limit)), .int(Int64(query.offset))]
            ).map { row in
                AuditEntry(
                    id: try row.int("id"), at: try row.int("at"),
                    actorID: row.optionalText("actor_id").map(AccountID.init(rawValue:)),
                    actorName: try row.text("actor_name"), action: try row.text("action"),
                    targetType: try row.text("target_type"), targetID: try row.text("target_id"),
                    batchID: row.optionalText("batch_id").map(BatchID.init(rawValue:)),
                    changes: JSONText.decode([AuditEntry.Change].self, row.optionalText("changes")) ?? [])
            }
            return Page(items: items, total: total, offset: query.offset, limit: query.limit)
        }
    }

    /// The distinct action names, for the audit page's filter.
    public func auditActions() async throws -> [String] {
        try await backend.read { db in
            try db.query("SELECT DISTINCT action FROM audit_log ORDER BY action").compactMap { $0.optionalText("action") }
        }
    }
}
