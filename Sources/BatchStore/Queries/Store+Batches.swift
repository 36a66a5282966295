import BatchCore

extension Store {
    /// Creates a draft batch.
    public func createBatch(kind: BatchKind, options: String, by account: Account) async throws -> Batch {
        let now = Clock.nowMillis()
        var options = options
        if kind == .roster {
            // The grade list the rows are checked against is the district's when the batch is made.
            var roster = JSONText.decode(RosterHandler.Options.self, options) ?? RosterHandler.Options()
            roster.grades = try await settings().gradeLevels
            roster.mode = roster.mode ?? RosterMode.addUpdate.rawValue
            options = JSONText.encode(roster)
        }
        let batch = Batch(
            id: .generate(), kind: kind, status: .draft, options: options, createdBy: account.id,
            createdByName: account.username, createdAt: now, updatedAt: now, scope: account.scope)
        try await backend.write { db in
            try Self.insertBatch(db, batch)
            try Self.appendAudit(
                db, actor: Actor(account), action: "batch.create", targetType: "batch", targetID: batch.id.rawValue,
                batchID: batch.id, changes: [.init(field: "kind", before: nil, after: kind.rawValue)])
        }
        return batch
    }

    static func insertBatch(_ db: any SQLConnection, _ batch: Batch) throws {
        try db.execute(
            """
            INSERT INTO batches (batch_id, kind, status, options, created_by, created_by_name, district_wide,
                scope_schools, created_at, updated_at, submitted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """,
            [
                .id(batch.id), .text(batch.kind.rawValue), .text(batch.status.rawValue), .text(batch.options), .id(batch.createdBy),
                .text(batch.createdByName), .bool(batch.scope.schoolKeys == nil),
                .text(JSONText.encode((batch.scope.schoolKeys ?? []).map(\.rawValue).sorted())), .int(batch.createdAt),
                .int(batch.updatedAt), batch.submittedAt.map { .int($0) } ?? .null,
            ])
        // Its number, which its items are keyed by.
        try db.execute("INSERT INTO batch_numbers (batch_id) VALUES (?)", [.id(batch.id)])
    }

    /// A batch visible to an account: its own, or any batch for a system administrator; nil otherwise.
    public func batch(_ id: BatchID, visibleTo account: Account) async throws -> Batch? {
        try await backend.read { db in
            try db.first("SELECT * FROM batches WHERE batch_id = ?", [.id(id)]).map(Batch.init(row:))
                .flatMap { Self.isVisible($0, to: account) ? $0 : nil }
        }
    }

    /// A batch by id, whoever made it (for workers and the command line).
    public func batch(_ id: BatchID) async throws -> Batch {
        try await backend.read { db in
            guard let row = try db.first("SELECT * FROM batches WHERE batch_id = ?", [.id(id)]) else {
                throw StoreError.notFound("That batch does not exist.")
            }
            return try Batch(row: row)
        }
    }

    /// Batches an account may see, newest first.
    public func batches(visibleTo account: Account, kind: BatchKind? = nil, status: BatchStatus? = nil, limit: Int = 100)
        async throws -> [Batch]
    {
        try await backend.read { db in
            var filter = SQLFilter()
            if let kind { filter.add("kind = ?", .text(kind.rawValue)) }
            if let status { filter.add("status = ?", .text(status.rawValue)) }
            if account.role != .systemAdmin { filter.add("created_by = ?", .id(account.id)) }
            return try db.query(
                "SELECT * FROM batches \(filter.whereClause) ORDER BY created_at DESC, batch_id LIMIT ?",
                filter.binds + [.int(Int64(min(max(limit, 1), 500)))]
            ).map(Batch.init(row:))
        }
    }

    /// Moves a batch to a new status if its lifecycle allows it, atomically (a second, conflicting move fails).
    public func transition(_ id: BatchID, to next: BatchStatus, by actor: Actor) async throws -> Batch {
        try await backend.write { db in
            guard let row = try db.first("SELECT * FROM batches WHERE batch_id = ?", [.id(id)]) else {
                throw StoreError.notFound("That batch does not exist.")
            }
            let batch = try Batch(row: row)
            switch batch.status.transition(to: next) {
            case .failure(let error): throw StoreError.conflict(error.message)
            case .success: break
            }
            let now = Clock.nowMillis()
            let changed = try db.execute(
                "UPDATE batches SET status = ?, updated_at = ? WHERE batch_id = ? AND status = ?",
                [.text(next.rawValue), .int(now), .id(id), .text(batch.status.rawValue)])
            guard changed == 1 else { throw StoreError.conflict("The batch changed at the same moment; reload and try again.") }
            try Self.appendAudit(
                db, actor: actor, action: "batch.\(next.rawValue)", targetType: "batch", targetID: id.rawValue, batchID: id,
                changes: [.init(field: "status", before: batch.status.rawValue, after: next.rawValue)])
            var updated = batch
            updated.status = next
            updated.updatedAt = now
            return updated
        }
    }

    /// Whether a draft's preview was planned before the data last changed (another batch applied or undone, a record
    /// edited): what it promises may no longer be what Process would do, and the file should be checked again
    /// (`BatchEngine.replan`).
    public func previewIsStale(_ batch: Batch) async throws -> Bool {
        guard batch.status == .draft, batch.plannedVersion != nil else { return false }
        return batch.previewIsStale(dataVersion: try await dataVersion())
    }

    /// The current version of the records plans read (`Store.dataVersion`), for many batches' `previewIsStale` at once.
    public func dataVersion() async throws -> Int64 {
        try await backend.read { db in try Self.dataVersion(db) }
    }

    /// Notes that every item of a batch has just been planned, against the data at `version`: the data version read
    /// at the start of the planning transaction, before the plan read anything (on PostgreSQL another transaction
    /// may commit while a plan runs; a version read at its end could be newer than some of what the plan read).
    static func markPlanned(_ db: any SQLConnection, batchID: BatchID, version: Int64) throws {
        try db.execute("UPDATE batches SET planned_version = ? WHERE batch_id = ?", [.int(version), .id(batchID)])
    }

    /// A batch's status, its row locked until the transaction ends on PostgreSQL (SQLite writes one transaction at a
    /// time): a receive, a plan made again, a decision on one item and a submit of one batch go one after the other,
    /// so none of them rewrites a batch another has just submitted.
    static func lockedBatch(_ db: any SQLConnection, batchID: BatchID) throws -> Batch? {
        try db.first("SELECT * FROM batches WHERE batch_id = ?\(db.dialect == .postgres ? " FOR UPDATE" : "")", [.id(batchID)])
            .map(Batch.init(row:))
    }

    static func isVisible(_ batch: Batch, to account: Account) -> Bool {
        account.role == .systemAdmin || batch.createdBy == account.id
    }
}

extension Batch {
    init(row: SQLRow) throws {
        let schools = JSONText.decode([String].self, row.optionalText("scope_schools")) ?? []
        self.init(
            id: BatchID(rawValue: try row.text("batch_id")),
            kind: BatchKind(rawValue: try row.text("kind")) ?? .roster,
            status: BatchStatus(rawValue: try row.text("status")) ?? .failed,
            options: try row.text("options"),
            createdBy: row.optionalText("created_by").map(AccountID.init(rawValue:)),
            createdByName: try row.text("created_by_name"), createdAt: try row.int("created_at"),
            updatedAt: try row.int("updated_at"),
            scope: row.bool("district_wide") ? .district : .schools(Set(schools.map(SchoolKey.init(rawValue:)))))
        progressDone = row["progress_done"].int ?? 0
        progressTotal = row["progress_total"].int ?? 0
        counts = JSONText.decode(ItemCounts.self, row.optionalText("counts")) ?? ItemCounts()
        report = JSONText.decode(BatchReport.self, row.optionalText("report"))
        failure = row.optionalText("failure")
        submittedAt = row["submitted_at"].int
        finishedAt = row["finished_at"].int
        entityCounts = JSONText.decode([EntityCounts].self, row.optionalText("entity_counts")) ?? []
        plannedVersion = row["planned_version"].int
    }
}
