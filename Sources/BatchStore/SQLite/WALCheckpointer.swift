import Foundation
import GRDB
import GRDBSQLite

/// Copies the write-ahead log back into the database file on a thread and connection of its own.
///
/// SQLite's automatic checkpoint runs inside the commit of the connection that pushed the log over 1,000 pages, so
/// the writer waits for it: after a state-size roster's receive that was 9 s of copying a 2.4 GB log (docs/
/// decisions.md) before the preview could be shown or the apply start. Here the writer's commit only notes the log's
/// size (`sqlite3_wal_hook`, which replaces the automatic checkpoint); past the same 1,000 pages a passive
/// checkpoint starts on another connection, beside whatever the writer does next. Passive: it never blocks a reader
/// or the writer, and copies only what no open read still needs.
final class WALCheckpointer: @unchecked Sendable {
    /// The log size, in pages, from which a checkpoint starts (SQLite's own default for its automatic one).
    static let threshold: Int32 = 1000

    private let path: String
    private let state = NSCondition()
    private var connection: DatabaseQueue?
    private var running = false
    private var again = false
    private var closed = false

    init(path: String) { self.path = path }

    /// Installs the hook on the writer connection. The pool holds the checkpointer for as long as the hook can fire.
    func install(on db: Database) {
        guard let handle = db.sqliteConnection else { return }
        let context = Unmanaged.passUnretained(self).toOpaque()
        _ = sqlite3_wal_hook(
            handle,
            { context, _, _, pages in
                if pages >= WALCheckpointer.threshold, let context {
                    Unmanaged<WALCheckpointer>.fromOpaque(context).takeUnretainedValue().request()
                }
                return SQLITE_OK
            }, context)
    }

    /// Starts a checkpoint, or asks the running one to go round once more.
    func request() {
        state.lock()
        defer { state.unlock() }
        guard !closed else { return }
        if running {
            again = true
            return
        }
        running = true
        Thread.detachNewThread { [self] in run() }
    }

    private func run() {
        while true {
            do {
                if connection == nil { connection = try DatabaseQueue(path: path) }
                _ = try connection?.writeWithoutTransaction { db in try db.checkpoint(.passive) }
            } catch {
                // Busy or failing: the log stays as it is and the next commit over the threshold tries again.
            }
            state.lock()
            if again && !closed {
                again = false
                state.unlock()
                continue
            }
            running = false
            state.broadcast()
            state.unlock()
            return
        }
    }

    /// Waits for a running checkpoint and closes the connection; the pool's own close then checkpoints the rest.
    func close() {
        state.lock()
        closed = true
        while running { state.wait() }
        let connection = connection
        self.connection = nil
        state.unlock()
        try? connection?.close()
    }
}
