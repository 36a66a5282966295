import BatchCore
import Foundation

extension BatchEngine {
    /// How long a finished download is kept: photos of children should not lie on the server longer than needed.
    public static let exportLifetimeMillis: Int64 = 24 * 3_600_000

    /// Checks and queues a download. It appears on Upload Status at once, as `queued`.
    public func requestExport(_ kind: BatchKind, options: String, by account: Account) async throws -> Batch {
        guard let exporter = exporters[kind] else {
            throw StoreError.conflict("\(kind.label)s are not available in this version of SchoolBatch.")
        }
        try await exporter.check(options: options, scope: account.scope, store: store)
        let now = Clock.nowMillis()
        var queued = Batch(
            id: .generate(), kind: kind, status: .queued, options: options, createdBy: account.id,
            createdByName: account.username, createdAt: now, updatedAt: now, scope: account.scope)
        queued.submittedAt = now
        let batch = queued
        let maxAttempts = timing.maxAttempts
        try await store.backend.write { db in
            try Store.insertBatch(db, batch)
            // No lock keys: a download writes no data, so it waits for no batch and no batch waits for it.
            try Store.enqueue(db, batchID: batch.id, action: .export, lockKeys: [], maxAttempts: maxAttempts)
            try Store.appendAudit(
                db, actor: Actor(account), action: "export.queued", targetType: "batch", targetID: batch.id.rawValue,
                batchID: batch.id, changes: [.init(field: "kind", before: nil, after: kind.rawValue)])
        }
        return batch
    }

    /// The finished download of a batch (it may have been removed after `exportLifetimeMillis`).
    public func exportFile(of batchID: BatchID) -> URL {
        exportDirectory.appendingPathComponent("\(batchID.rawValue).zip")
    }

    /// Writes the download outside any transaction (it only reads data), then marks it done with what it holds. A
    /// worker killed halfway leaves a partial file that the next attempt writes again from the start.
    func export(_ job: Job, worker: String) async throws {
        let batch = try await store.batch(job.batchID)
        guard batch.status == .processing, let exporter = exporters[batch.kind] else {
            try await store.backend.write { db in try Store.completeJob(db, job, worker: worker) }
            return
        }
        try FileManager.default.createDirectory(at: exportDirectory, withIntermediateDirectories: true)
        removeExpiredExports()
        let final = exportFile(of: batch.id)
        let partial = exportDirectory.appendingPathComponent("\(batch.id.rawValue).part-\(UUID().uuidString.prefix(8))")
        let board = progress
        let id = batch.id
        logger.info("writing download \(batch.id)")
        let summary: ExportSummary
        do {
            summary = try await exporter.write(batch, to: partial, engine: self) { done, total in
                board.post(id, done: Int64(done), total: Int64(total))
            }
        } catch {
            try? FileManager.default.removeItem(at: partial)
            throw error
        }
        try? FileManager.default.removeItem(at: final)
        try FileManager.default.moveItem(at: partial, to: final)
        try await store.backend.write { db in
            let now = Clock.nowMillis()
            var report = BatchReport(counts: ItemCounts(), changedFields: [:], appliedAt: now)
            report.export = summary
            try db.execute(
                """
                UPDATE batches SET status = 'completed', report = ?, finished_at = ?, progress_done = ?, progress_total = ?,
                    updated_at = ? WHERE batch_id = ?
                """,
                [
                    .text(JSONText.encode(report)), .int(now), .int(Int64(summary.files)), .int(Int64(summary.files)),
                    .int(now),
                    .id(batch.id),
                ])
            try Store.auditBatch(
                db, batch, action: "export.completed",
                changes: [
                    .init(field: "files", before: nil, after: "\(summary.files)"),
                    .init(field: "missing", before: nil, after: "\(summary.missing)"),
                ])
            try Store.completeJob(db, job, worker: worker)
        }
    }

    /// Deletes downloads older than `exportLifetimeMillis` (their page then says to make them again).
    func removeExpiredExports() {
        let limit = Date(timeIntervalSinceNow: -Double(Self.exportLifetimeMillis) / 1000)
        let files =
            (try? FileManager.default.contentsOfDirectory(
                at: exportDirectory, includingPropertiesForKeys: [.contentModificationDateKey])) ?? []
        for file in files {
            let modified =
                (try? file.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate) ?? Date()
            if modified < limit { try? FileManager.default.removeItem(at: file) }
        }
    }
}
