// The e-mail batch at district scale (issue 6): 200,000 rows previewed (received, read, checked, planned against
// the database and stored) and applied (submitted, then one worker job), on SQLite, release build.
import BatchCore
import BatchStore
import Foundation

enum EmailBench {
    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Runs `runs` batches, each changing every student's address; returns the median seconds of each step.
    static func run(students: Int, runs: Int) async throws -> (preview: Double, submit: Double, apply: Double, samples: [String]) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sb-email-bench-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = Store(backend: try SQLiteBackend(path: directory.appendingPathComponent("bench.sqlite").path))
        try await store.migrate()
        let schools = (0..<200).map { School(key: SchoolKey(rawValue: "school-\($0)"), schoolID: SchoolID(rawValue: String(format: "%04d", $0)), name: "School \($0)") }
        for school in schools { try await store.createSchool(school, by: .system) }
        let people = (0..<students).map { n in
            Person(
                userID: UserID(rawValue: String(format: "%08d", n)), role: .student, loginID: LoginID(rawValue: "s\(n)"),
                firstName: "First\(n)", lastName: "Last\(n)", email: "s\(n)@old.example", grade: "05",
                schoolKeys: [schools[n % schools.count].key])
        }
        try await store.insertNew(people: people)
        try await store.analyze()
        let clerk = Account(id: "acct-bench", username: "bench", displayName: "Bench", role: .studentRecords, scope: .district)
        try await store.createAccount(clerk, passwordHash: "x", by: .system)
        let engine = BatchEngine(
            store: store, blobs: try FileBlobStore(root: directory.appendingPathComponent("blobs")), handlers: [EmailsHandler()])
        var previews: [Double] = [], submits: [Double] = [], applies: [Double] = [], samples: [String] = []
        for run in 1...runs {
            var csv = "loginId,userEmail\n"
            csv.reserveCapacity(students * 40)
            for n in 0..<students { csv += "s\(n),s\(n).run\(run)@new.example\n" }
            let file = directory.appendingPathComponent("emails-\(run).csv")
            try Data(csv.utf8).write(to: file)

            var start = ContinuousClock.now
            let batch = try await store.createBatch(kind: .emails, options: "{}", by: clerk)
            let received = try await engine.receive(fileName: "emails.csv", contentsOf: file, into: batch, by: Actor(clerk))
            let preview = seconds(ContinuousClock.now - start)
            precondition(received.counts.ready == students, "every row should change: \(received.counts)")

            start = ContinuousClock.now
            _ = try await engine.submit(batch.id, confirm: true, allowMassChanges: true, by: Actor(clerk))
            let submit = seconds(ContinuousClock.now - start)

            start = ContinuousClock.now
            let ran = try await JobWorker(engine: engine, name: "bench").runNext()
            let apply = seconds(ContinuousClock.now - start)
            let done = try await store.batch(batch.id)
            precondition(ran && done.status == .completed && done.counts.applied == students, "the batch should apply: \(done.status)")
            previews.append(preview)
            submits.append(submit)
            applies.append(apply)
            samples.append(String(format: "run %d: preview %.2f s, submit %.2f s, apply %.2f s", run, preview, submit, apply))
            print("  " + samples.last!)
        }
        try await store.close()
        return (median(previews), median(submits), median(applies), samples)
    }

    static func section(students: Int, runs: Int) async throws -> String {
        print("E-mail batch: \(students) rows, \(runs) runs (SQLite)")
        let result = try await run(students: students, runs: runs)
        return """
            ## E-mail batch of \(students.formatted()) rows (issue 6)

            SQLite, release build, `make bench`; \(students.formatted()) students in 200 schools, a CSV that changes every
            address; median of \(runs) runs on this 2-core machine. *Preview* is what happens between the upload
            arriving and the preview being ready: read and check the CSV, plan every row against the database
            (students, scope, addresses held by others) and store the items. *Apply* is the worker's job: plan again
            inside the transaction, write the addresses, record every before → after, mark the items, the report.

            | step | median s |
            |---|---|
            | preview (receive → inspect → plan → store \(students.formatted()) items) | \(String(format: "%.2f", result.preview)) |
            | Process (submit: counts, mass-change check, lock keys, queue the job) | \(String(format: "%.2f", result.submit)) |
            | apply (one job, one transaction) | \(String(format: "%.2f", result.apply)) |

            \(result.samples.map { "- \($0)" }.joined(separator: "\n"))

            Target (issue 6): preview and apply each under 10 s. Where an apply's time went, timed inside the job at
            200,000 rows (2026-11-22), before → after this round of work: load the items 1.9 → 1.6 s (the JSON
            columns decoded on two threads), plan 3.9 → 2.4 s (each lookup is one statement with the keys bound as
            one JSON array — `json_each` / `jsonb_array_elements_text` — instead of 400 `IN (…)` slices; result rows
            share their column names instead of a dictionary per row; a student's schools come in the same query),
            write the addresses 2.7 s, record the changes 0.9 s, mark the items 0.7 s. The apply went from 12.7 s
            to 8.7 s (medians of the runs of each day).

            """
    }
}
