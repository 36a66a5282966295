import BatchCore
import Foundation

extension BatchEngine {
    /// Runs a claimed job to the end in one transaction: all of it is applied (or undone) and the job marked done
    /// together, or nothing is. A process killed halfway leaves the data as it was; the job's lease runs out and
    /// another worker (or this one, restarted) runs it again.
    public func run(_ job: Job, worker: String) async throws {
        defer { progress.clear(job.batchID) }
        switch job.action {
        case .apply: try await apply(job, worker: worker)
        case .undo: try await undo(job, worker: worker)
        case .export: try await export(job, worker: worker)
        }
    }

    func apply(_ job: Job, worker: String) async throws {
        let batch = try await store.batch(job.batchID)
        let handler = try handler(for: batch.kind)
        do {
            try await apply(job, batch, handler, worker: worker, ownKeys: handler.checksOwnKeys(applying: batch))
        } catch is FieldWriter.KeysNeeded {
            logger.info("batch \(batch.id): the changes to write remove records; applying with the database's keys")
            try await apply(job, batch, handler, worker: worker, ownKeys: false)
        }
    }

    /// The apply in one transaction; `ownKeys`: with the database's row-by-row key checks off
    /// (`DatabaseBackend.writeCheckingOwnKeys`).
    private func apply(_ job: Job, _ batch: Batch, _ handler: any BatchKindHandler, worker: String, ownKeys: Bool) async throws {
        let board = progress
        let logger = logger
        let body: @Sendable (any SQLConnection) throws -> Void = { db in
            // Idempotent: the apply and the batch's new status commit together, so a batch no longer processing has
            // been applied (or was stopped); only the job is left to close.
            guard batch.status == .processing else {
                try Store.completeJob(db, job, worker: worker)
                return
            }
            var clock = PhaseClock(logger, "apply \(batch.id)")
            var changes: [FieldChange]
            var counts: ItemCounts
            var planned: [BatchItem]?
            let kept = handler.appliesKeptPlan ? try Store.planStamp(db, batchID: batch.id) : nil
            var held = self.keptPlans.take(batch.id, token: kept?.token)
            if let version = kept?.dataVersion, try version == Store.dataVersion(db) {
                // Nothing has been written since the preview was planned: that plan is still the plan, and its
                // items, counts and per-entity counts stand as stored. Its changes are read back, unless this
                // process made that very plan and still holds them.
                if let held {
                    changes = held
                    clock.step("the kept plan's \(changes.count) changes, held since it was made")
                } else {
                    changes = try Store.loadChanges(db, batchID: batch.id)
                    clock.step("load the kept plan's \(changes.count) changes")
                }
                counts = batch.counts
                counts.applied += counts.ready
                counts.ready = 0
            } else {
                let stored = try Store.loadItems(db, batchID: batch.id)
                clock.step("load \(stored.count) items")
                // Planned again inside the transaction: the batch applies to the data as the previous batch left it.
                let replanned = try handler.plan(stored, batch: batch, on: db)
                clock.step("plan")
                changes = replanned.filter { $0.state == .ready }.flatMap(\.changes)
                let differs = try Store.storePlannedAgain(db, batchID: batch.id, stored: stored, planned: replanned) > 0
                clock.step("update items")
                // The counts per entity stored with the preview still hold when the plan came out the same.
                if differs || batch.entityCounts.isEmpty {
                    try Store.saveEntityCounts(db, batchID: batch.id, handler.entityCounts(replanned, on: db))
                    try Store.saveIssueKinds(db, batchID: batch.id, IssueKind.tally(replanned))
                    clock.step("entity counts")
                }
                // The ready items are not rewritten as applied: the batch's status says they are (`Store.wasApplied`).
                counts = ItemCounts(replanned.lazy.map { $0.applied(true) })
                planned = replanned
            }
            let total = Int64(changes.count)
            logger.info("applying batch \(batch.id): \(changes.count) field changes")
            board.post(batch.id, done: 0, total: total)
            if let planned {
                try handler.prepareApply(planned, batch: batch, on: db)
                clock.step("prepare")
            }
            try FieldWriter.write(changes, on: db) { done in
                board.post(batch.id, done: Int64(done), total: total)
            }
            clock.step("write \(changes.count) changes")
            // What was written is not copied into a log: the undo log is the batch's ready items' changes, which are
            // exactly `changes` (the kept plan's, or the new plan's written back to the items above), and which stay
            // as they are once the batch has left draft (`Store.appliedChanges`).
            counts = try Store.saveCounts(db, batchID: batch.id, counts)
            let now = Clock.nowMillis()
            var fields: [String: Int] = [:]
            // Counted a run of one field at a time (a first import's two million changes are nearly all `*`): not a
            // hash a change on the writer's thread.
            var run: (field: String, count: Int)?
            for index in changes.indices {
                if run?.field == changes[index].field {
                    run!.count += 1
                } else {
                    if let run { fields[run.field, default: 0] += run.count }
                    run = (changes[index].field, 1)
                }
            }
            if let run { fields[run.field, default: 0] += run.count }
            // The changes (two million at state size) and items are let go of on another thread, not between the
            // write and its commit.
            // (Moved into the release, the held plan's own reference dropped first: the other thread's reference
            // is the last one.)
            held = nil
            Parallel.release(inBackground: (consume changes, planned.take()))
            changes = []
            let report = BatchReport(counts: counts, changedFields: fields, appliedAt: now)
            let status: BatchStatus = counts.error + counts.unmatched > 0 ? .completedWithErrors : .completed
            try db.execute(
                """
                UPDATE batches SET status = ?, report = ?, finished_at = ?, progress_done = ?, progress_total = ?,
                    updated_at = ? WHERE batch_id = ?
                """,
                [
                    .text(status.rawValue), .text(JSONText.encode(report)), .int(now), .int(total), .int(total), .int(now),
                    .id(batch.id),
                ])
            try Store.auditBatch(
                db, batch, action: "batch.applied",
                changes: fields.keys.sorted().map { .init(field: $0, before: nil, after: "\(fields[$0]!) changed") }
                    + [.init(field: "status", before: "processing", after: status.rawValue)])
            try Store.completeJob(db, job, worker: worker)
        }
        if ownKeys { try await store.backend.writeCheckingOwnKeys(body) } else { try await store.backend.write(body) }
    }

    func undo(_ job: Job, worker: String) async throws {
        let batch = try await store.batch(job.batchID)
        let board = progress
        // The tables a large batch wrote may be far from what PostgreSQL's statistics of them say (a first roster
        // fills empty tables, and autovacuum gathers them again only later): the undo's deletes by userId then scanned
        // whole tables (a state-size first roster's undo 54–59 s, 32 s once analyzed). Gathered first.
        let tables = try handler(for: batch.kind).tablesWritten
        if batch.status == .undoing, !tables.isEmpty, batch.counts.total >= Self.analyzeItemsFrom {
            await analyzeOnPostgres(tables.joined(separator: ", "))
        }
        try await store.backend.write { db in
            guard batch.status == .undoing else {
                try Store.completeJob(db, job, worker: worker)
                return
            }
            let changes = try Store.appliedChanges(db, batchID: batch.id)
            let current = try FieldWriter.currentValues(of: changes, on: db)
            var restore: [FieldChange] = []
            var changedSince: [FieldChangeSince] = []
            for change in changes {
                let now = current[FieldWriter.slot(change.entity, change.key, change.field)] ?? nil
                if now == change.after {
                    restore.append(
                        FieldChange(
                            entity: change.entity, key: change.key, field: change.field, before: change.after,
                            after: change.before))
                } else {
                    changedSince.append(
                        FieldChangeSince(
                            entity: change.entity, key: change.key, field: change.field, batchValue: change.after,
                            currentValue: now, beforeBatch: change.before))
                }
            }
            // An address can come back only if nobody else has taken it since.
            let blocked = try Self.addressesTakenSince(restore, on: db)
            for change in restore where blocked.contains(change.key) {
                changedSince.append(
                    FieldChangeSince(
                        entity: change.entity, key: change.key, field: change.field, batchValue: change.before,
                        currentValue: change.before, beforeBatch: change.after))
            }
            restore.removeAll { blocked.contains($0.key) && $0.field == "userEmail" }
            board.post(batch.id, done: 0, total: Int64(restore.count))
            try FieldWriter.write(restore, on: db) { done in board.post(batch.id, done: Int64(done), total: Int64(restore.count)) }
            let now = Clock.nowMillis()
            var report = batch.report ?? BatchReport(counts: batch.counts, changedFields: [:], appliedAt: nil)
            report.restored = restore.count
            report.changedSince = changedSince
            report.undoneAt = now
            try db.execute(
                "UPDATE batches SET status = 'undone', report = ?, finished_at = ?, updated_at = ? WHERE batch_id = ?",
                [.text(JSONText.encode(report)), .int(now), .int(now), .id(batch.id)])
            try Store.auditBatch(
                db, batch, action: "batch.undone",
                changes: [
                    .init(field: "restored", before: nil, after: "\(restore.count)"),
                    .init(field: "changed since, left alone", before: nil, after: "\(changedSince.count)"),
                ])
            try Store.completeJob(db, job, worker: worker)
        }
    }

    /// The people whose earlier address another person holds now (so it cannot be given back).
    static func addressesTakenSince(_ restore: [FieldChange], on db: any SQLConnection) throws -> Set<String> {
        let wanted = restore.filter { $0.field == "userEmail" && $0.after != nil }
        guard !wanted.isEmpty else { return [] }
        let restoring = Set(restore.filter { $0.field == "userEmail" }.map(\.key))
        var holder: [String: String] = [:]
        let keys = wanted.compactMap { $0.after.map { SQLValue.text(Store.emailKey($0)) } }
        for row in try db.query(chunking: keys, { "SELECT user_id, email_key FROM people WHERE email_key IN (\($0))" }) {
            holder[try row.text("email_key")] = try row.text("user_id")
        }
        var blocked: Set<String> = []
        for change in wanted {
            guard let address = change.after, let owner = holder[Store.emailKey(address)] else { continue }
            if owner != change.key && !restoring.contains(owner) { blocked.insert(change.key) }
        }
        return blocked
    }
}
