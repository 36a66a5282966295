import BatchCore

/// The durable job queue. Jobs live in the database so that any worker process can run them and none is lost
/// when a process dies: a worker claims a job under a lease and renews it with heartbeats; a job whose lease
/// ran out is claimed again. On PostgreSQL the claim uses `FOR UPDATE SKIP LOCKED`, so workers never wait on
/// each other's claims; SQLite serialises writers, which gives the same guarantee.
///
/// Jobs that touch the same school (their lock keys overlap; `*` overlaps everything) run one after the other in
/// the order they were queued, each against the state the previous one left.
extension Store {
    /// Queues a job in the caller's transaction. Queuing the same action for a batch twice keeps one job.
    static func enqueue(
        _ db: any SQLConnection, batchID: BatchID, action: JobAction, lockKeys: Set<String>, maxAttempts: Int
    ) throws {
        let now = Clock.nowMillis()
        if let existing = try db.first(
            "SELECT job_id, status FROM jobs WHERE batch_id = ? AND action = ?", [.id(batchID), .text(action.rawValue)])
        {
            // A failed job queued again (the person pressed Retry) starts afresh; a live one is left alone.
            guard existing.optionalText("status") == "failed" else { return }
            try db.execute(
                """
                UPDATE jobs SET status = 'queued', attempts = 0, run_after = ?, last_error = NULL, lease_owner = NULL,
                    lease_expires_at = NULL, updated_at = ? WHERE job_id = ?
                """, [.int(now), .int(now), existing["job_id"]])
            return
        }
        let rows = try db.query(
            """
            INSERT INTO jobs (batch_id, action, status, attempts, max_attempts, run_after, completions, created_at,
                updated_at) VALUES (?, ?, 'queued', 0, ?, ?, 0, ?, ?) RETURNING job_id
            """, [.id(batchID), .text(action.rawValue), .int(Int64(maxAttempts)), .int(now), .int(now), .int(now)])
        let jobID = try rows.first?.int("job_id") ?? 0
        try db.bulkInsert(
            table: "job_locks", columns: ["job_id", "lock_key"],
            rows: lockKeys.sorted().map { [.int(jobID), .text($0)] })
    }

    /// Claims the next job this worker may run, or nil when there is none. The job's batch moves to `processing`
    /// (or stays there when a dead worker's job is taken over).
    public func claimJob(worker: String, timing: JobTiming) async throws -> Job? {
        try await backend.write { db in
            let now = Clock.nowMillis()
            let lock = db.dialect == .postgres ? "FOR UPDATE OF j SKIP LOCKED" : ""
            while true {
                guard
                    let row = try db.first(
                        """
                        SELECT j.* FROM jobs j
                        WHERE ((j.status = 'queued' AND j.run_after <= ?) OR (j.status = 'running' AND j.lease_expires_at < ?))
                        AND NOT EXISTS (
                            SELECT 1 FROM job_locks l
                            JOIN job_locks o ON (o.lock_key = l.lock_key OR o.lock_key = '*' OR l.lock_key = '*')
                            JOIN jobs oj ON oj.job_id = o.job_id
                            WHERE l.job_id = j.job_id AND oj.job_id <> j.job_id
                            AND ((oj.status = 'running' AND oj.lease_expires_at >= ?)
                                OR (oj.status IN ('queued', 'running') AND oj.job_id < j.job_id)))
                        ORDER BY j.job_id LIMIT 1 \(lock)
                        """, [.int(now), .int(now), .int(now)])
                else { return nil }
                var job = try Job(row: row)
                if job.attempts >= job.maxAttempts {
                    // Workers kept dying on this job: stop trying and say so.
                    try Self.failJob(
                        db, jobID: job.id, batchID: job.batchID, action: job.action,
                        message: "The worker stopped \(job.attempts) times while running this batch, so it was given up. "
                            + "Nothing of it was applied. Ask your system administrator to check the server log.")
                    continue
                }
                job.attempts += 1
                job.leaseOwner = worker
                try db.execute(
                    """
                    UPDATE jobs SET status = 'running', attempts = ?, lease_owner = ?, lease_expires_at = ?, updated_at = ?
                    WHERE job_id = ?
                    """, [.int(Int64(job.attempts)), .text(worker), .int(now + timing.leaseMillis), .int(now), .int(job.id)])
                let running: BatchStatus = job.action == .undo ? .undoing : .processing
                try db.execute(
                    "UPDATE batches SET status = ?, failure = NULL, updated_at = ? WHERE batch_id = ?",
                    [.text(running.rawValue), .int(now), .id(job.batchID)])
                return job
            }
        }
    }

    /// Renews a lease; false when the job is no longer this worker's.
    public func renewLease(_ job: Job, worker: String, timing: JobTiming) async throws -> Bool {
        try await backend.write { db in
            let now = Clock.nowMillis()
            let renewed = try db.execute(
                "UPDATE jobs SET lease_expires_at = ?, updated_at = ? WHERE job_id = ? AND lease_owner = ? AND status = 'running'",
                [.int(now + timing.leaseMillis), .int(now), .int(job.id), .text(worker)]) == 1
            if renewed { return true }
            // On SQLite a renewal waits for the job's own transaction (one writer) and so runs just after the job
            // has finished: that is not a lost lease. Lost means another worker runs the job now.
            let row = try db.first("SELECT status, lease_owner FROM jobs WHERE job_id = ?", [.int(job.id)])
            return !(row?.optionalText("status") == "running" && row?.optionalText("lease_owner") != worker)
        }
    }

    /// Marks the job done in the caller's transaction (the one that applied it), only if this worker still holds
    /// it: if the lease was lost, the whole transaction rolls back and the work counts once, elsewhere.
    static func completeJob(_ db: any SQLConnection, _ job: Job, worker: String) throws {
        let now = Clock.nowMillis()
        let changed = try db.execute(
            """
            UPDATE jobs SET status = 'done', completions = completions + 1, lease_owner = NULL, lease_expires_at = NULL,
                last_error = NULL, updated_at = ? WHERE job_id = ? AND lease_owner = ? AND status = 'running'
            """, [.int(now), .int(job.id), .text(worker)])
        guard changed == 1 else { throw LostLease() }
    }

    /// Records a failed attempt: the job is retried after a back-off, or, after its last attempt, it and its batch
    /// fail with `message`.
    public func retryOrFail(_ job: Job, worker: String, timing: JobTiming, message: String) async throws {
        try await backend.write { db in
            let now = Clock.nowMillis()
            guard job.attempts < job.maxAttempts else {
                try Self.failJob(db, jobID: job.id, batchID: job.batchID, action: job.action, message: message)
                return
            }
            let changed = try db.execute(
                """
                UPDATE jobs SET status = 'queued', run_after = ?, last_error = ?, lease_owner = NULL,
                    lease_expires_at = NULL, updated_at = ? WHERE job_id = ? AND lease_owner = ?
                """,
                [.int(now + timing.backoff(afterAttempt: job.attempts)), .text(message), .int(now), .int(job.id), .text(worker)])
            if changed == 1 {
                let waiting: BatchStatus = job.action == .undo ? .undoing : .queued
                try db.execute(
                    "UPDATE batches SET status = ?, updated_at = ? WHERE batch_id = ?",
                    [.text(waiting.rawValue), .int(now), .id(job.batchID)])
            }
        }
    }

    /// Gives a claimed job back without counting the attempt (a worker shutting down before it started work).
    public func releaseJob(_ job: Job, worker: String) async throws {
        try await backend.write { db in
            let now = Clock.nowMillis()
            let changed = try db.execute(
                """
                UPDATE jobs SET status = 'queued', attempts = attempts - 1, lease_owner = NULL, lease_expires_at = NULL,
                    updated_at = ? WHERE job_id = ? AND lease_owner = ? AND status = 'running'
                """, [.int(now), .int(job.id), .text(worker)])
            if changed == 1, job.action != .undo {
                try db.execute(
                    "UPDATE batches SET status = 'queued', updated_at = ? WHERE batch_id = ?", [.int(now), .id(job.batchID)])
            }
        }
    }

    static func failJob(_ db: any SQLConnection, jobID: Int64, batchID: BatchID, action: JobAction, message: String) throws {
        let now = Clock.nowMillis()
        try db.execute(
            """
            UPDATE jobs SET status = 'failed', last_error = ?, lease_owner = NULL, lease_expires_at = NULL,
                updated_at = ? WHERE job_id = ?
            """, [.text(message), .int(now), .int(jobID)])
        // A failed apply (or export) fails the batch; a failed undo leaves the batch as it was applied.
        let status: BatchStatus = action == .undo ? .completed : .failed
        try db.execute(
            "UPDATE batches SET status = ?, failure = ?, finished_at = ?, updated_at = ? WHERE batch_id = ?",
            [.text(status.rawValue), .text(message), .int(now), .int(now), .id(batchID)])
        try appendAudit(
            db, actor: .system, action: "batch.\(action.rawValue)_failed", targetType: "batch", targetID: batchID.rawValue,
            batchID: batchID, changes: [.init(field: "error", before: nil, after: message)])
    }

    /// Jobs by status, for the tests and the health of the queue.
    public func jobCounts() async throws -> [String: Int] {
        try await backend.read { db in
            var counts: [String: Int] = [:]
            for row in try db.query("SELECT status, COUNT(*) AS n FROM jobs GROUP BY status") {
                counts[try row.text("status")] = Int(try row.int("n"))
            }
            return counts
        }
    }
}

extension Job {
    init(row: SQLRow) throws {
        self.init(
            id: try row.int("job_id"), batchID: BatchID(rawValue: try row.text("batch_id")),
            action: JobAction(rawValue: try row.text("action")) ?? .apply, attempts: Int(try row.int("attempts")),
            maxAttempts: Int(try row.int("max_attempts")), leaseOwner: row.optionalText("lease_owner"))
    }
}
