import BatchStore
import Foundation
import Logging

/// Background workers of one process: `schoolbatch serve` runs `SCHOOLBATCH_WORKERS` of them beside the web
/// server, `schoolbatch worker` runs them alone.
public final class WorkerPool: Sendable {
    private let tasks: [Task<Void, Never>]

    public init(engine: BatchEngine, count: Int, processName: String = ProcessInfo.processInfo.hostName) {
        let prefix = "\(processName)-\(getpid())-\(UUID().uuidString.prefix(6))"
        tasks = (0..<max(0, count)).map { index in
            let worker = JobWorker(engine: engine, name: "\(prefix)-\(index + 1)")
            return Task { await worker.run() }
        }
    }

    /// Stops taking new jobs and waits for the jobs in hand to finish.
    public func stop() async {
        for task in tasks { task.cancel() }
        for task in tasks { await task.value }
    }
}

/// Waits for SIGINT or SIGTERM.
public enum TerminationSignal {
    public static func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let resumed = ResumeOnce(continuation)
            for sig in [SIGINT, SIGTERM] {
                signal(sig, SIG_IGN)
                let source = DispatchSource.makeSignalSource(signal: sig, queue: .global())
                source.setEventHandler { resumed.resume() }
                source.resume()
                Holder.sources.append(source)
            }
        }
    }

    /// Keeps the signal sources alive for the life of the process.
    private enum Holder { nonisolated(unsafe) static var sources: [any DispatchSourceSignal] = [] }

    private final class ResumeOnce: @unchecked Sendable {
        private var continuation: CheckedContinuation<Void, Never>?
        private let lock = NSLock()
        init(_ continuation: CheckedContinuation<Void, Never>) { self.continuation = continuation }
        func resume() {
            lock.lock()
            let pending = continuation
            continuation = nil
            lock.unlock()
            pending?.resume()
        }
    }
}
