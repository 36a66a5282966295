import BatchCore
import Foundation
import Logging

/// One background worker: claims jobs from the queue and runs them, renewing its lease while it works.
///
/// Stopping (cancelling the task that runs `run()`) lets the current job finish and commit before the loop ends:
/// a batch is one transaction, so there is nothing sensible to interrupt halfway. A process killed outright
/// loses nothing either: the transaction rolls back and the lease runs out.
public struct JobWorker: Sendable {
    public let engine: BatchEngine
    public let name: String
    public let idleMillis: UInt64
    let logger: Logger

    public init(engine: BatchEngine, name: String, idleMillis: UInt64 = 500, logger: Logger = Logger(label: "schoolbatch.worker")) {
        self.engine = engine
        self.name = name
        self.idleMillis = idleMillis
        self.logger = logger
    }

    /// Works until the surrounding task is cancelled.
    public func run() async {
        logger.info("worker \(name) started")
        while !Task.isCancelled {
            let worked: Bool
            do {
                worked = try await runNext()
            } catch {
                logger.warning("worker \(name): \(error)")
                worked = false
            }
            if !worked {
                try? await Task.sleep(nanoseconds: idleMillis * 1_000_000)
            }
        }
        logger.info("worker \(name) stopped")
    }

    /// Claims and runs one job; false when the queue had nothing for this worker.
    @discardableResult
    public func runNext() async throws -> Bool {
        let timing = engine.timing
        guard let job = try await engine.store.claimJob(worker: name, timing: timing) else { return false }
        logger.info("worker \(name) claimed job \(job.id) (\(job.action.rawValue) batch \(job.batchID), attempt \(job.attempts))")
        let store = engine.store
        let board = engine.progress
        let heartbeat = Task {
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(timing.heartbeatMillis) * 1_000_000)
                if Task.isCancelled { break }
                let held = (try? await store.renewLease(job, worker: name, timing: timing)) ?? true
                if !held {
                    logger.warning("worker \(name) lost the lease of job \(job.id)")
                    break
                }
                if let progress = board.progress(of: job.batchID) {
                    try? await store.recordProgress(job.batchID, done: progress.done, total: progress.total)
                }
            }
        }
        defer { heartbeat.cancel() }
        do {
            // Not cancellable: once started, the job's transaction runs to its end.
            try await Task.detached { try await engine.run(job, worker: name) }.value
            logger.info("worker \(name) finished job \(job.id)")
        } catch is LostLease {
            logger.warning("worker \(name): job \(job.id) was taken over by another worker; its work was rolled back")
        } catch {
            logger.error("worker \(name): job \(job.id) failed: \(error)")
            let message = (error as? StoreError)?.userMessage
                ?? (job.action == .export
                    ? "Making the download failed (\(error)). It will be tried again automatically."
                    : "Applying the batch failed; nothing of it was applied. It will be tried again automatically.")
            try await store.retryOrFail(job, worker: name, timing: timing, message: message)
        }
        return true
    }
}

extension Store {
    /// Stores a running batch's progress (only where a second writer may write while the batch's own
    /// transaction is open: PostgreSQL).
    public func recordProgress(_ batchID: BatchID, done: Int64, total: Int64) async throws {
        guard backend.dialect == .postgres else { return }
        try await backend.write { db in
            try db.execute(
                "UPDATE batches SET progress_done = ?, progress_total = ? WHERE batch_id = ?",
                [.int(done), .int(total), .id(batchID)])
        }
    }
}
