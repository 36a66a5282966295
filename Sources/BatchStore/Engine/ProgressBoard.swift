import BatchCore
import Synchronization

/// Live progress of the batches this process is working on. A batch is applied in one transaction, so its
/// progress cannot be read from the database until it commits; the worker posts it here (and, where the
/// database allows a second writer, into the batch row too) so Upload Status can show it as it happens.
public final class ProgressBoard: Sendable {
    private let state = Mutex<[BatchID: (done: Int64, total: Int64)]>([:])

    public init() {}

    public func post(_ batchID: BatchID, done: Int64, total: Int64) {
        state.withLock { $0[batchID] = (done, total) }
    }

    public func clear(_ batchID: BatchID) {
        state.withLock { $0[batchID] = nil }
    }

    public func progress(of batchID: BatchID) -> (done: Int64, total: Int64)? {
        state.withLock { $0[batchID] }
    }
}

