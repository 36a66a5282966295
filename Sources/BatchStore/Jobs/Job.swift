import BatchCore

/// What a job does to its batch.
public enum JobAction: String, Sendable, Codable {
    case apply, undo
    /// Writes a download's file (a photo ZIP).
    case export
}

/// A unit of background work, claimed by one worker at a time under a lease.
public struct Job: Sendable, Hashable {
    public var id: Int64
    public var batchID: BatchID
    public var action: JobAction
    /// How many times a worker has started it (including this time).
    public var attempts: Int
    public var maxAttempts: Int
    public var leaseOwner: String?
}

/// How long a claimed job stays a worker's without a heartbeat, and how retries back off.
public struct JobTiming: Sendable {
    public var leaseMillis: Int64
    public var heartbeatMillis: Int64
    public var retryBaseMillis: Int64
    public var maxAttempts: Int

    public init(leaseMillis: Int64 = 60_000, heartbeatMillis: Int64? = nil, retryBaseMillis: Int64 = 2_000, maxAttempts: Int = 5) {
        self.leaseMillis = leaseMillis
        self.heartbeatMillis = heartbeatMillis ?? max(leaseMillis / 4, 50)
        self.retryBaseMillis = retryBaseMillis
        self.maxAttempts = maxAttempts
    }

    /// The wait before attempt `attempt + 1`: doubling from `retryBaseMillis`, at most ten minutes.
    public func backoff(afterAttempt attempt: Int) -> Int64 {
        min(retryBaseMillis << Int64(max(0, min(attempt - 1, 16))), 600_000)
    }
}

/// A job's lease was lost (it expired and another worker claimed the job), so this worker's work must not count.
public struct LostLease: Error, Sendable {}
