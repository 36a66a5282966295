import BatchCore
import BatchStore
import BatchTestSupport
import Foundation
import Testing

@Suite("Batch engine: lifecycle, queue, apply and undo on SQLite and PostgreSQL")
struct EngineTests {
    @Test("an e-mail batch goes draft → queued → completed, and its report and audit say what changed", arguments: TestDatabase.all)
    func applyBatch(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await EngineFixture.load(into: store, students: 20)
            let engine = try EngineFixture.engine(store)
            let queued = try await EngineFixture.submitEmailBatch(engine, 1...10, domain: "new.example")
            #expect(queued.status == .queued)
            #expect(try await store.items(of: queued.id, state: .ready).total == 10)
            let worker = JobWorker(engine: engine, name: "w1")
            #expect(try await worker.runNext())
            let done = try await store.batch(queued.id)
            #expect(done.status == .completed)
            #expect(done.report?.changedFields["userEmail"] == 10)
            #expect(done.counts.applied == 10)
            // Once applied, the ten rows read as changed, in the list, its filter and one by one.
            let applied = try await store.items(of: queued.id, state: .applied)
            #expect(applied.total == 10 && applied.items.allSatisfy { $0.state == .applied })
            #expect(try await store.items(of: queued.id, state: .ready).total == 0)
            #expect(try await store.items(of: queued.id).items.filter { $0.state == .applied }.count == 10)
            if let first = applied.items.first { #expect(try await store.item(first.id, of: queued.id)?.state == .applied) }
            let addresses = try await EngineFixture.addresses(store)
            #expect(addresses["000001"] == "s000001@new.example")
            #expect(addresses["000011"] == "s000011@old.example")
            let audit = try await store.auditEntries(AuditQuery(batchID: queued.id))
            #expect(audit.items.map(\.action).contains("batch.applied"))
            #expect(try await worker.runNext() == false)
        }
    }

    @Test("submitting twice is harmless: one job, applied once", arguments: TestDatabase.all)
    func submitTwice(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await EngineFixture.load(into: store, students: 5)
            let engine = try EngineFixture.engine(store)
            let batch = try await EngineFixture.submitEmailBatch(engine, 1...3, domain: "twice.example")
            let again = try await engine.submit(batch.id, confirm: true, allowMassChanges: true, by: Actor(EngineFixture.clerk))
            #expect(again.status == .queued)
            #expect(try await store.jobCounts() == ["queued": 1])
            let worker = JobWorker(engine: engine, name: "w1")
            #expect(try await worker.runNext())
            let third = try await engine.submit(batch.id, confirm: true, allowMassChanges: true, by: Actor(EngineFixture.clerk))
            #expect(third.status == .completed)
            #expect(try await worker.runNext() == false)
            #expect(try await store.changes(of: batch.id).total == 3)
        }
    }

    @Test("submit refuses without confirmation, with nothing to change, and over the mass-change threshold", arguments: TestDatabase.all)
    func submitRefusals(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await EngineFixture.load(into: store, students: 10)
            let engine = try EngineFixture.engine(store)
            let batch = try await store.createBatch(kind: .emails, options: "{}", by: EngineFixture.clerk)
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("e-\(UUID().uuidString).csv")
            try EngineFixture.csv(1...5, domain: "old.example").write(to: file)
            _ = try await engine.receive(fileName: "same.csv", contentsOf: file, into: batch, by: Actor(EngineFixture.clerk))
            await #expect(throws: StoreError.self) {
                try await engine.submit(batch.id, confirm: false, allowMassChanges: true, by: Actor(EngineFixture.clerk))
            }
            do {
                _ = try await engine.submit(batch.id, confirm: true, allowMassChanges: true, by: Actor(EngineFixture.clerk))
                Issue.record("a batch that changes nothing was submitted")
            } catch let error as StoreError {
                #expect(error.userMessage.contains("Nothing in this batch would change"))
            }
            let big = try await store.createBatch(kind: .emails, options: "{}", by: EngineFixture.clerk)
            try EngineFixture.csv(1...5, domain: "mass.example").write(to: file)
            _ = try await engine.receive(fileName: "mass.csv", contentsOf: file, into: big, by: Actor(EngineFixture.clerk))
            let refusal = try await EngineFixture.refusal {
                _ = try await engine.submit(big.id, confirm: true, allowMassChanges: false, by: Actor(EngineFixture.clerk))
            }
            #expect(refusal?.contains("allowMassChanges") == true, "5 of 10 people changed without allowMassChanges")
            let allowed = try await engine.submit(big.id, confirm: true, allowMassChanges: true, by: Actor(EngineFixture.clerk))
            #expect(allowed.status == .queued)
        }
    }

    @Test("a second file, a file after submit and a cancelled batch's job are refused or dropped", arguments: TestDatabase.all)
    func lifecycleRefusals(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await EngineFixture.load(into: store, students: 4)
            let engine = try EngineFixture.engine(store)
            let batch = try await EngineFixture.submitEmailBatch(engine, 1...2, domain: "x.example")
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("e-\(UUID().uuidString).csv")
            try EngineFixture.csv(1...2, domain: "y.example").write(to: file)
            await #expect(throws: StoreError.self) {
                _ = try await engine.receive(
                    fileName: "late.csv", contentsOf: file, into: try await store.batch(batch.id), by: Actor(EngineFixture.clerk))
            }
            let cancelled = try await engine.cancel(batch.id, by: Actor(EngineFixture.clerk))
            #expect(cancelled.status == .cancelled)
            #expect(try await JobWorker(engine: engine, name: "w").runNext() == false)
            #expect(try await EngineFixture.addresses(store)["000001"] == "s000001@old.example")
            await #expect(throws: StoreError.self) { try await engine.requestUndo(batch.id, by: Actor(EngineFixture.clerk)) }
        }
    }

    /// A district of `students` students, and an e-mail batch giving the `changing` ones a new.example address,
    /// applied by the returned worker; with the addresses before it.
    func appliedEmailBatch(_ store: Store, students: Int, changing: ClosedRange<Int>) async throws
        -> (engine: BatchEngine, before: [String: String], batch: Batch, worker: JobWorker)
    {
        try await EngineFixture.load(into: store, students: students)
        let engine = try EngineFixture.engine(store)
        let before = try await EngineFixture.addresses(store)
        let batch = try await EngineFixture.submitEmailBatch(engine, changing, domain: "new.example")
        let worker = JobWorker(engine: engine, name: "w1")
        try await worker.runNext()
        return (engine, before, batch, worker)
    }

    @Test("undo restores the earlier state and reports, without overwriting, a field changed since", arguments: TestDatabase.all)
    func undo(database: TestDatabase) async throws {
        try await database.withStore { store in
            let (engine, before, batch, worker) = try await appliedEmailBatch(store, students: 6, changing: 1...4)
            // Someone edits student 2 by hand after the batch.
            try await store.backend.write { db in
                try db.execute(
                    "UPDATE people SET user_email = 'by.hand@school.example', email_key = 'by.hand@school.example' WHERE user_id = '000002'")
            }
            let undoing = try await engine.requestUndo(batch.id, by: Actor(EngineFixture.clerk))
            #expect(undoing.status == .undoing)
            try await worker.runNext()
            let undone = try await store.batch(batch.id)
            #expect(undone.status == .undone)
            #expect(undone.report?.restored == 3)
            #expect(
                undone.report?.changedSince == [
                    FieldChangeSince(
                        entity: "person", key: "000002", field: "userEmail", batchValue: "s000002@new.example",
                        currentValue: "by.hand@school.example", beforeBatch: "s000002@old.example")
                ])
            var expected = before
            expected["000002"] = "by.hand@school.example"
            #expect(try await EngineFixture.addresses(store) == expected)
        }
    }

    @Test("a batch applied with the older separate change log is listed and undone from that log", arguments: TestDatabase.all)
    func undoFromOlderLog(database: TestDatabase) async throws {
        try await database.withStore { store in
            let (engine, before, batch, worker) = try await appliedEmailBatch(store, students: 4, changing: 1...2)
            #expect(try await store.changes(of: batch.id).items.map(\.key) == ["000001", "000002"])
            // As an apply before the log was read from the items left it: the log in `batch_changes`. The items'
            // changes are emptied so that only the log can say what to put back.
            try await store.backend.write { db in
                for (seq, user) in ["000001", "000002"].enumerated() {
                    try db.execute(
                        """
                        INSERT INTO batch_changes (batch_id, seq, entity, entity_key, field, before_value, after_value)
                        VALUES (?, ?, 'person', ?, 'userEmail', ?, ?)
                        """,
                        [.id(batch.id), .int(Int64(seq + 1)), .text(user), .text("s\(user)@old.example"), .text("s\(user)@new.example")])
                }
                try db.execute("UPDATE batch_items SET changes = '[]' WHERE batch_no = (SELECT batch_no FROM batch_numbers WHERE batch_id = ?)", [.id(batch.id)])
            }
            let logged = try await store.changes(of: batch.id)
            #expect(logged.total == 2 && logged.items.map(\.after) == ["s000001@new.example", "s000002@new.example"])
            _ = try await engine.requestUndo(batch.id, by: Actor(EngineFixture.clerk))
            try await worker.runNext()
            #expect(try await store.batch(batch.id).report?.restored == 2)
            #expect(try await EngineFixture.addresses(store) == before)
        }
    }

    @Test("two students swapping addresses in one batch is no conflict, and undo swaps them back", arguments: TestDatabase.all)
    func swap(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await EngineFixture.load(into: store, students: 2)
            let engine = try EngineFixture.engine(store)
            let batch = try await store.createBatch(kind: .emails, options: "{}", by: EngineFixture.clerk)
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("e-\(UUID().uuidString).csv")
            try Data("loginId,userEmail\ns000001,s000002@old.example\ns000002,S000001@old.example\n".utf8).write(to: file)
            _ = try await engine.receive(fileName: "swap.csv", contentsOf: file, into: batch, by: Actor(EngineFixture.clerk))
            _ = try await engine.submit(batch.id, confirm: true, allowMassChanges: true, by: Actor(EngineFixture.clerk))
            let worker = JobWorker(engine: engine, name: "w1")
            try await worker.runNext()
            #expect(try await EngineFixture.addresses(store) == ["000001": "s000002@old.example", "000002": "S000001@old.example"])
            _ = try await engine.requestUndo(batch.id, by: Actor(EngineFixture.clerk))
            try await worker.runNext()
            #expect(try await EngineFixture.addresses(store) == ["000001": "s000001@old.example", "000002": "s000002@old.example"])
        }
    }

    @Test("a job whose worker stopped heart-beating is claimed again after its lease, and its work counts once", arguments: TestDatabase.all)
    func leaseExpiry(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await EngineFixture.load(into: store, students: 3)
            // Long enough that a busy machine (tests run in parallel) does not outlive it between two claims (2 s
            // once did, on PostgreSQL, during a full run on a slower machine).
            let timing = JobTiming(leaseMillis: 5_000)
            let engine = try EngineFixture.engine(store, timing: timing)
            let batch = try await EngineFixture.submitEmailBatch(engine, 1...3, domain: "lease.example")
            let dead = try #require(try await store.claimJob(worker: "dead", timing: timing))
            #expect(try await store.batch(batch.id).status == .processing)
            #expect(try await store.claimJob(worker: "other", timing: timing) == nil)
            try await Task.sleep(nanoseconds: 5_100_000_000)
            let taken = try #require(try await store.claimJob(worker: "other", timing: timing))
            #expect(taken.id == dead.id)
            #expect(taken.attempts == 2)
            #expect(try await store.renewLease(dead, worker: "dead", timing: timing) == false, "another worker runs it now")
            // The dead worker wakes up: its commit is refused, nothing of its work remains.
            await #expect(throws: LostLease.self) { try await engine.run(dead, worker: "dead") }
            #expect(try await EngineFixture.addresses(store)["000001"] == "s000001@old.example")
            try await engine.run(taken, worker: "other")
            #expect(try await store.batch(batch.id).status == .completed)
            #expect(try await store.jobCounts() == ["done": 1])
            // On SQLite a heartbeat waits behind the job's own transaction and renews just after it: not lost.
            #expect(try await store.renewLease(taken, worker: "other", timing: timing))
        }
    }

    @Test("batches touching the same school run in the order they were submitted; other schools don't wait", arguments: TestDatabase.all)
    func ordering(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await EngineFixture.load(into: store, students: 4)
            let timing = JobTiming()
            let engine = try EngineFixture.engine(store, timing: timing)
            // Students 1 and 3 are in North, 2 and 4 in South.
            let first = try await EngineFixture.submitEmailBatch(engine, 1...1, domain: "first.example")
            let second = try await EngineFixture.submitEmailBatch(engine, 3...3, domain: "second.example")
            let south = try await EngineFixture.submitEmailBatch(engine, 2...2, domain: "south.example")
            let a = try #require(try await store.claimJob(worker: "a", timing: timing))
            #expect(a.batchID == first.id)
            let b = try #require(try await store.claimJob(worker: "b", timing: timing))
            #expect(b.batchID == south.id, "the second North batch must wait for the first")
            #expect(try await store.claimJob(worker: "c", timing: timing) == nil)
            try await engine.run(a, worker: "a")
            let c = try #require(try await store.claimJob(worker: "c", timing: timing))
            #expect(c.batchID == second.id)
        }
    }

    @Test("a failing job is retried with back-off and, after its last attempt, fails its batch with a reason", arguments: TestDatabase.all)
    func retries(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await EngineFixture.load(into: store, students: 2)
            let timing = JobTiming(leaseMillis: 60_000, retryBaseMillis: 1, maxAttempts: 2)
            let engine = try EngineFixture.engine(store, timing: timing)
            let batch = try await EngineFixture.submitEmailBatch(engine, 1...1, domain: "retry.example")
            let first = try #require(try await store.claimJob(worker: "w", timing: timing))
            try await store.retryOrFail(first, worker: "w", timing: timing, message: "the disk is full")
            #expect(try await store.batch(batch.id).status == .queued)
            try await Task.sleep(nanoseconds: 20_000_000)
            let second = try #require(try await store.claimJob(worker: "w", timing: timing))
            #expect(second.attempts == 2)
            try await store.retryOrFail(second, worker: "w", timing: timing, message: "the disk is full")
            let failed = try await store.batch(batch.id)
            #expect(failed.status == .failed)
            #expect(failed.failure == "the disk is full")
            // A failed batch can be submitted again and then applies.
            _ = try await engine.submit(batch.id, confirm: true, allowMassChanges: true, by: Actor(EngineFixture.clerk))
            #expect(try await JobWorker(engine: engine, name: "w").runNext())
            #expect(try await store.batch(batch.id).status == .completed)
        }
    }
}
