import BatchCore
import Foundation

/// A kind of download (SPEC §5.2, §8): it changes no data; its job writes one file that the person then downloads.
/// A kind plugs in the check of its request and the writing of its file; the queue, the Upload Status screen, the
/// retries and the file's place on disk are the engine's.
public protocol BatchExporter: Sendable {
    var kind: BatchKind { get }
    /// Checks a request (the batch's options) against the district and the account's scope before it is queued:
    /// throws `StoreError.invalid` naming every problem.
    func check(options: String, scope: AccessScope, store: Store) async throws
    /// Writes the download to `url` and says what it holds; `progress` hears (done, total) as it goes.
    func write(_ batch: Batch, to url: URL, engine: BatchEngine, progress: @escaping @Sendable (Int, Int) -> Void)
        async throws
        -> ExportSummary
}
