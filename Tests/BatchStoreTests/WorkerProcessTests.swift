import BatchCore
import BatchStore
import BatchTestSupport
import Foundation
import Testing

/// Real `schoolbatch worker` processes against a shared database: the queue's guarantees across processes.
@Suite("Worker processes: exactly once, and nothing half applied when killed", .serialized)
struct WorkerProcessTests {
    @Test("two worker processes on PostgreSQL run 200 queued jobs, each exactly once")
    func twoWorkers() async throws {
        guard TestDatabase.postgresURL != nil else {
            print("skipped: needs PostgreSQL (make test starts one)")
            return
        }
        let (store, environment, _) = try await TestDatabase.postgres.makeLocatedStore()
        defer { Task { try? await store.close() } }
        try await EngineFixture.load(into: store, students: 200)
        let engine = try EngineFixture.engine(store)
        var batches: [BatchID] = []
        for index in 1...200 {
            batches.append(try await EngineFixture.submitEmailBatch(engine, index...index, domain: "job\(index).example").id)
        }
        #expect(try await store.jobCounts() == ["queued": 200])
        let workers = try (1...2).map { _ in try WorkerProcess(environment: environment) }
        let finished = try await eventually(seconds: 180) { try await store.jobCounts() == ["done": 200] }
        let codes = workers.map { $0.stop() }
        let counts = try await store.jobCounts()
        #expect(finished, "jobs: \(counts)")
        #expect(codes == [0, 0], "both workers stop cleanly on SIGTERM")
        let perWorker = workers.map { $0.output.components(separatedBy: "finished job").count - 1 }
        print("jobs finished per worker process: \(perWorker)")
        #expect(perWorker.reduce(0, +) == 200, "every job finished once, no job twice")
        #expect(perWorker.allSatisfy { $0 > 0 }, "both workers took jobs")
        let (completions, attempts) = try await store.backend.read { db in
            (try db.scalarInt("SELECT CAST(SUM(completions) AS BIGINT) FROM jobs"), try db.scalarInt("SELECT MAX(attempts) FROM jobs"))
        }
        #expect(completions == 200)
        #expect(attempts == 1)
        let applied = try await store.auditEntries(AuditQuery(action: "batch.applied", limit: 500))
        #expect(Set(applied.items.compactMap(\.batchID)) == Set(batches))
        #expect(applied.total == 200)
        let addresses = try await EngineFixture.addresses(store)
        #expect((1...200).allSatisfy { addresses[EngineFixture.userID($0)] == "\(EngineFixture.loginID($0))@job\($0).example" })
    }

    @Test("a worker killed in the middle of applying leaves the data as it was; restarted, it finishes the batch", arguments: TestDatabase.all)
    func killMidApply(database: TestDatabase) async throws {
        let (store, environment, _) = try await database.makeLocatedStore()
        defer { Task { try? await store.close() } }
        let count = 30_000
        try await EngineFixture.load(into: store, students: count)
        let engine = try EngineFixture.engine(store)
        let before = try await EngineFixture.addresses(store)
        let batch = try await EngineFixture.submitEmailBatch(engine, 1...count, domain: "after.example")
        var env = environment
        env["SCHOOLBATCH_JOB_LEASE_SECONDS"] = "2"

        let first = try WorkerProcess(environment: env)
        #expect(await first.waitForOutput("applying batch \(batch.id.rawValue)", seconds: 120), "\(first.output)")
        try await Task.sleep(nanoseconds: 300_000_000)
        first.kill()
        #expect(try await store.jobCounts() == ["running": 1], "the kill must land before the batch commits; make it bigger")
        #expect(try await store.batch(batch.id).status == .processing)
        #expect(try await EngineFixture.addresses(store) == before, "nothing of the batch is applied")
        #expect(try await store.changes(of: batch.id).total == 0)

        let second = try WorkerProcess(environment: env)
        let completed = try await eventually(seconds: 180) { try await store.batch(batch.id).status == .completed }
        #expect(second.stop() == 0)
        #expect(completed, "\(second.output)")
        var expected = before
        for index in 1...count { expected[EngineFixture.userID(index)] = "\(EngineFixture.loginID(index))@after.example" }
        #expect(try await EngineFixture.addresses(store) == expected)
        #expect(try await store.changes(of: batch.id).total == count)
        let attempts = try await store.backend.read { db in try db.scalarInt("SELECT attempts FROM jobs") }
        #expect(attempts == 2)
    }

    /// Every row of the roster tables, as text, in key order: the database as a person would compare it.
    static func rosterDump(_ store: Store) async throws -> [String: [String]] {
        try await store.backend.read { db in
            var dump: [String: [String]] = [:]
            for (table, order) in [
                ("schools", "school_id"), ("people", "user_id"), ("person_schools", "user_id, school_key"), ("classes", "class_id"),
                ("enrollments", "class_id, user_id"), ("demographics", "user_id"),
            ] {
                dump[table] = try db.query("SELECT * FROM \(table) ORDER BY \(order)").map { row in
                    row.cells.map { $0.text ?? "∅" }.joined(separator: "|")
                }
            }
            return dump
        }
    }

    @Test("a worker killed while applying a roster batch leaves every roster table exactly as before; restarted, it finishes", arguments: TestDatabase.all)
    func killMidRosterApply(database: TestDatabase) async throws {
        let (store, environment, _) = try await database.makeLocatedStore()
        defer { Task { try? await store.close() } }
        try await store.createAccount(EngineFixture.clerk, passwordHash: "x", by: .system)
        let engine = try EngineFixture.engine(store)
        // A district that exists already (one school), then a file for ten schools: updates, new people, new classes.
        let small = RosterGenerator(schools: 1, students: 100).files(.original)
        let first = try await EngineFixture.fileBatch(
            engine, kind: .roster, files: [("users.csv", Data(small.users.utf8)), ("demographics.csv", Data(small.demographics.utf8))])
        _ = try await engine.submit(first.id, confirm: true, allowMassChanges: true, by: Actor(EngineFixture.clerk))
        #expect(try await JobWorker(engine: engine, name: "setup").runNext())
        let big = RosterGenerator(schools: 10, students: 4_000).files(.changed)
        let batch = try await EngineFixture.fileBatch(
            engine, kind: .roster, files: [("users.csv", Data(big.users.utf8)), ("demographics.csv", Data(big.demographics.utf8))],
            options: #"{"mode":"sync"}"#)
        _ = try await engine.submit(batch.id, confirm: true, allowMassChanges: true, by: Actor(EngineFixture.clerk))
        let before = try await Self.rosterDump(store)
        var env = environment
        env["SCHOOLBATCH_JOB_LEASE_SECONDS"] = "2"

        let killed = try WorkerProcess(environment: env)
        #expect(await killed.waitForOutput("applying batch \(batch.id.rawValue)", seconds: 240), "\(killed.output)")
        try await Task.sleep(nanoseconds: 200_000_000)
        killed.kill()
        #expect(try await store.jobCounts()["running"] == 1, "the kill must land before the batch commits; make it bigger")
        #expect(try await store.batch(batch.id).status == .processing)
        #expect(try await Self.rosterDump(store) == before, "nothing of the batch is applied")
        #expect(try await store.changes(of: batch.id).total == 0)

        let second = try WorkerProcess(environment: env)
        let completed = try await eventually(seconds: 300) {
            [.completed, .completedWithErrors].contains(try await store.batch(batch.id).status)
        }
        #expect(second.stop() == 0)
        #expect(completed, "\(second.output)")
        let after = try await Self.rosterDump(store)
        #expect(after["people"]?.count ?? 0 > before["people"]?.count ?? 0)
        #expect(after["schools"]?.count == 10)
    }
}
