@testable import BatchStore
import BatchTestSupport
import Foundation
import Logging
import Synchronization
import Testing

@Suite("PostgreSQL connections")
struct PostgresClientTests {
    /// Every message logged at warning level or above, kept for the test to read.
    final class Captured: Sendable {
        let messages = Mutex<[String]>([])
    }

    struct CapturingHandler: LogHandler {
        let captured: Captured
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .warning
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            captured.messages.withLock { $0.append("\(event.level): \(event.message)") }
        }
    }

    @Test("a store used the moment it is opened gets its connection without postgres-nio warning that its pool is not running")
    func usedAtOnce() async throws {
        guard let url = TestDatabase.postgresURL else { return }
        let captured = Captured()
        // The race it had was lost now and then (last in a fresh-clone CI run): many fresh stores, each asked at once.
        for _ in 0..<10 {
            let backend = try PostgresBackend(url: url, logger: Logger(label: "test.postgres") { _ in CapturingHandler(captured: captured) })
            let one = try await backend.read { db in try db.query("SELECT 1 AS one", []).first?.optionalText("one") }
            #expect(one == "1")
            try await backend.close()
        }
        #expect(captured.messages.withLock { $0 }.isEmpty)
    }

    @Test("the pool's log passes on every message but the warning that a connection was asked for before the pool ran")
    func poolLogLeavesOutOnlyLeaseBeforeRun() {
        let captured = Captured()
        let logger = Logger(label: "test.pool") { _ in
            PostgresBackend.PoolLogHandler(inner: CapturingHandler(captured: captured))
        }
        logger.warning("Trying to lease connection from `PostgresClient`, but `PostgresClient.run()` hasn't been called yet.")
        logger.warning("Connection to 127.0.0.1:5432 failed")
        logger.error("Trying to lease connection from `PostgresClient`, but `PostgresClient.run()` hasn't been called yet.")
        logger.info("below the handler's level")
        #expect(captured.messages.withLock { $0 } == [
            "warning: Connection to 127.0.0.1:5432 failed",
            "error: Trying to lease connection from `PostgresClient`, but `PostgresClient.run()` hasn't been called yet.",
        ])
    }

    @Test(
        "a transaction whose connection the server ends fails with an error, never waits for ever, and the next ones run on a new connection",
        .timeLimit(.minutes(2)))
    func connectionEndedInTransaction() async throws {
        guard let url = TestDatabase.postgresURL else { return }
        let backend = try PostgresBackend(url: url)
        let before = try await backend.read { db in try db.query("SELECT pg_backend_pid()::text AS pid", []).first?.optionalText("pid") }
        // (Under load it once waited for ever in the statement that ends the transaction.)
        for _ in 0..<5 {
            await #expect(throws: StoreError.self) {
                try await backend.write { db in
                    _ = try db.query("SELECT pg_terminate_backend(pg_backend_pid())", [])
                    return 1
                }
            }
        }
        let after = try await backend.write { db in try db.query("SELECT pg_backend_pid()::text AS pid", []).first?.optionalText("pid") }
        #expect(after != nil && after != before)
        try await backend.close()
    }
}
