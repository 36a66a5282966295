import BatchCore
@testable import BatchStore
import BatchTestSupport
import Foundation
import Testing

@Suite("Roster batches (SPEC §4) on the engine: plan, preview counts, apply, undo, on SQLite and PostgreSQL")
struct RosterEngineTests {
    static let header =
        "schoolId,schoolName,userId,userRole,loginId,firstName,lastName,userEmail,userGrade,classId,className,primaryTeacher\n"

    func batch(_ engine: BatchEngine, _ files: [(String, String)], mode: String = "add-update", by account: Account = EngineFixture.clerk)
        async throws -> Batch
    {
        try await EngineFixture.fileBatch(
            engine, kind: .roster, files: files.map { ($0.0, Data($0.1.utf8)) }, by: account, options: #"{"mode":"\#(mode)"}"#)
    }

    func apply(_ engine: BatchEngine, _ batch: Batch, allowMassChanges: Bool = true) async throws -> Batch {
        _ = try await engine.submit(batch.id, confirm: true, allowMassChanges: allowMassChanges, by: Actor(EngineFixture.clerk))
        #expect(try await JobWorker(engine: engine, name: "w").runNext())
        return try await engine.store.batch(batch.id)
    }

    /// Submits the batches in this order, then applies them as the worker takes them: each one queued before the
    /// one before it was applied, so planned again at its apply, not at its submit. Returns them as they ended.
    func applyQueued(_ engine: BatchEngine, _ batches: [Batch]) async throws -> [Batch] {
        for batch in batches {
            _ = try await engine.submit(batch.id, confirm: true, allowMassChanges: true, by: Actor(EngineFixture.clerk))
        }
        for _ in batches { #expect(try await JobWorker(engine: engine, name: "w").runNext()) }
        var ended: [Batch] = []
        for batch in batches { ended.append(try await engine.store.batch(batch.id)) }
        return ended
    }

    /// An empty district with the clerk's account, and the engine.
    func emptyDistrict(_ database: TestDatabase, _ body: (Store, BatchEngine) async throws -> Void) async throws {
        try await database.withStore { store in
            try await store.createAccount(EngineFixture.clerk, passwordHash: "x", by: .system)
            try await body(store, try EngineFixture.engine(store))
        }
    }

    func counts(_ batch: Batch) -> [String: EntityCounts] { Dictionary(uniqueKeysWithValues: batch.entityCounts.map { ($0.entity, $0) }) }

    func items(_ store: Store, _ batch: Batch) async throws -> [BatchItem] { try await store.items(of: batch.id, limit: 1000).items }

    func export(_ store: Store) async throws -> (users: String, demographics: String) {
        let users = CollectedText(), demographics = CollectedText()
        try await store.exportRoster(
            Store.RosterExportQuery(scope: .district), users: { users.append($0) }, demographics: { demographics.append($0) })
        return (users.text, demographics.text)
    }

    /// A batch that received `users` as users.csv from a file; `holdingPlan`: as the command line receives it, its
    /// plan's changes also held in memory for the apply.
    func receivedBatch(_ engine: BatchEngine, users: String, holdingPlan: Bool = false) async throws -> Batch {
        let batch = try await engine.store.createBatch(kind: .roster, options: #"{"mode":"add-update"}"#, by: EngineFixture.clerk)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("users-\(UUID().uuidString).csv")
        try Data(users.utf8).write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        _ = try await engine.receive(files: [("users.csv", url)], into: batch, by: Actor(EngineFixture.clerk), holdingPlan: holdingPlan)
        return try await engine.store.batch(batch.id)
    }

    func heldBatch(_ engine: BatchEngine, users: String) async throws -> Batch {
        try await receivedBatch(engine, users: users, holdingPlan: true)
    }

    @Test("users.csv is written while it is checked and kept only if the checks pass: nothing of a refused file is left", arguments: TestDatabase.all)
    func keptOnlyWhenAccepted(database: TestDatabase) async throws {
        try await emptyDistrict(database) { store, engine in
            let blobs = try #require(engine.blobs as? FileBlobStore)
            let staging = blobs.root.appendingPathComponent("tmp")
            func receive(_ text: String) async throws -> (Batch, String) {
                (try await receivedBatch(engine, users: text), FileBlobStore.key(for: Data(text.utf8)))
            }
            let misspelled = Self.header.replacingOccurrences(of: "firstName", with: "firstname") + "S1,One,101,student,l101,Ann,Lee,,05,C1,5A,\n"
            await #expect(throws: FileRejection.self) { _ = try await receive(misspelled) }
            #expect(!blobs.contains(FileBlobStore.key(for: Data(misspelled.utf8))), "a refused file is not kept")
            #expect(try FileManager.default.contentsOfDirectory(atPath: staging.path).isEmpty, "nor left half-kept")
            let good = Self.header + "S1,One,101,student,l101,Ann,Lee,,05,C1,5A,\n"
            let (batch, key) = try await receive(good)
            let keys = try await store.files(of: batch.id).map(\.blobKey)
            #expect(keys == [key])
            #expect(try blobs.get(key) == Data(good.utf8))
            #expect(try FileManager.default.contentsOfDirectory(atPath: staging.path).isEmpty)
            // The same bytes again: already kept under their key, nothing written twice.
            let (again, sameKey) = try await receive(good)
            let againKeys = try await store.files(of: again.id).map(\.blobKey)
            #expect(sameKey == key && againKeys == [key])
            #expect(try FileManager.default.contentsOfDirectory(atPath: staging.path).isEmpty)
        }
    }

    @Test("a plan held in memory from receive is what the apply writes, and a later plan (a row skipped) replaces it", arguments: TestDatabase.all)
    func heldPlan(database: TestDatabase) async throws {
        try await emptyDistrict(database) { store, engine in
            let users = Self.header + "S1,One,101,student,l101,Ann,Lee,,05,C1,5A,\nS1,One,102,student,l102,Bo,Ng,,05,C1,5A,\n"
            let held = try await heldBatch(engine, users: users)
            let done = try await apply(engine, held)
            #expect(done.status == .completed)
            #expect(try await store.peopleCount(role: .student) == 2)
            // School, class, two people, their memberships and enrollments: listed as written, and counted so.
            let written = try await store.changes(of: held.id, limit: 100)
            #expect(written.items.count == 8 && written.total == 8 && done.report?.changedFields.values.reduce(0, +) == 8)
            // Held again, then a person skips one row: the plan stored now is another, and the held one (which
            // would also create student 103) must not be written.
            let next = try await heldBatch(engine, users: Self.header + "S1,One,103,student,l103,Cy,Wu,,05,C1,5A,\nS1,One,104,student,l104,Di,Ho,,05,C1,5A,\n")
            let row = try #require(try await items(store, next).first { $0.target == "103" })
            _ = try await engine.resolve(itemID: row.id, of: next, target: nil, skip: true, by: Actor(EngineFixture.clerk))
            #expect(try await apply(engine, try await store.batch(next.id)).status == .completed)
            let people = try await store.backend.read { db in try db.query("SELECT user_id FROM people ORDER BY user_id").map { try $0.text("user_id") } }
            #expect(people == ["101", "102", "104"])
        }
    }

    @Test("a plan held in memory is written whole, whether most rows change (a first import) or few (a re-import): the same file planned again afterwards changes nothing", arguments: TestDatabase.all)
    func heldPlansWrittenWhole(database: TestDatabase) async throws {
        try await emptyDistrict(database) { store, engine in
            let generator = RosterGenerator(schools: 1, students: 200)
            var ready: [(ready: Int, total: Int)] = []
            for users in [generator.files(.original).users, generator.files(.changed).users] {
                let batch = try await heldBatch(engine, users: users)
                ready.append((batch.counts.ready, batch.counts.total))
                #expect(try await apply(engine, batch).status == .completed)
                let again = try await receivedBatch(engine, users: users)
                #expect(again.counts.ready == 0 && again.counts.unchanged == batch.counts.total, "\(again.counts)")
            }
            // The first file changes every row; the second fewer than an eighth of them, and its held plan took only theirs.
            #expect(ready[0].ready == ready[0].total)
            #expect(ready[1].ready > 0 && ready[1].ready * 8 < ready[1].total, "\(ready[1])")
        }
    }

    @Test("a first import creates schools, staff, students, classes, enrollments and demographics; the preview counts them first", arguments: TestDatabase.all)
    func firstImport(database: TestDatabase) async throws {
        try await emptyDistrict(database) { store, engine in
            let files = RosterGenerator(schools: 2, students: 40).files(.original)
            let draft = try await batch(engine, [("users.csv", files.users), ("demographics.csv", files.demographics)])
            let preview = counts(draft)
            #expect(preview["schools"]?.created == 2)
            #expect(preview["students"]?.created == 40)
            #expect(preview["demographics"]?.created == 40)
            #expect((preview["staff"]?.created ?? 0) > 0)
            #expect(preview["enrollments"]?.created == 40 * 7 + (preview["classes"]?.created ?? 0))
            #expect(try await store.peopleCount() == 0, "nothing is written before Process")
            let done = try await apply(engine, draft)
            #expect(done.status == .completed)
            #expect(try await store.peopleCount(role: .student) == 40)
            let exported = try await export(store)
            let stored = try await store.backend.read { db in try db.scalarInt("SELECT COUNT(*) FROM demographics") }
            #expect(stored == 40)
            #expect(exported.demographics.split(whereSeparator: \.isNewline).count == 41, "\(exported.demographics.prefix(300))")

            // Download → upload unchanged → every row unchanged.
            let again = try await batch(engine, [("users.csv", exported.users), ("demographics.csv", exported.demographics)])
            let rows = try await items(store, again)
            #expect(!rows.isEmpty)
            #expect(rows.allSatisfy { $0.state == .unchanged }, "\(rows.filter { $0.state != .unchanged }.prefix(3).map { "\($0.label): \($0.changes) \($0.issues.map(\.message))" })")
            let unchanged = counts(again)
            #expect(unchanged["students"]?.unchanged == 40 && unchanged["students"]?.created == 0 && unchanged["students"]?.updated == 0)
            #expect(unchanged["enrollments"]?.unchanged == preview["enrollments"]?.created)
            await #expect(throws: StoreError.self) {
                try await engine.submit(again.id, confirm: true, allowMassChanges: true, by: Actor(EngineFixture.clerk))
            }
        }
    }

    @Test("the preview's filter by kind of record finds each row that changes one, whether its changes are stored as now or as an earlier version stored them", arguments: TestDatabase.all)
    func changesFilter(database: TestDatabase) async throws {
        try await emptyDistrict(database) { store, engine in
            let files = RosterGenerator(schools: 1, students: 12).files(.original)
            let draft = try await batch(engine, [("users.csv", files.users), ("demographics.csv", files.demographics)])
            let all = try await items(store, draft)
            func expected(_ entity: String) -> [Int64] { all.filter { $0.changes.contains { $0.entity == entity } }.map(\.id) }
            func filtered(_ entity: String) async throws -> [Int64] {
                try await store.items(of: draft.id, changing: entity, limit: 1000).items.map(\.id)
            }
            let entities = ["school", "person", "membership", "class", "enrollment", "demographics"]
            for entity in entities {
                #expect(!expected(entity).isEmpty, "\(entity)")
                #expect(try await filtered(entity) == expected(entity), "\(entity)")
            }
            // Every item's changes written as JSONEncoder's objects, as batches stored before (one row an item, no
            // packs): read and found alike.
            try await store.backend.write { db in
                for item in all {
                    try Store.unpack(db, batchID: draft.id, holding: item.id)
                    _ = try db.execute(
                        "UPDATE batch_items SET changes = ? WHERE batch_no = (SELECT batch_no FROM batch_numbers WHERE batch_id = ?) AND item_id = ?",
                        [.text(String(decoding: try JSONEncoder().encode(item.changes), as: UTF8.self)), .id(draft.id), .int(item.id)])
                }
            }
            #expect(try await items(store, draft).map(\.changes) == all.map(\.changes))
            for entity in entities { #expect(try await filtered(entity) == expected(entity), "\(entity), stored as objects") }
        }
    }

    @Test("items stored several to a row read as one row each: pages at every offset, filters, problems first, one item, counts; changed by hand, an item leaves its pack", arguments: TestDatabase.all)
    func packedItems(database: TestDatabase) async throws {
        try await emptyDistrict(database) { store, engine in
            // About 600 rows: several packs, broken by rows with an error (each a row of its own) and by the second file.
            let files = RosterGenerator(schools: 2, students: 70).files(.original)
            var lines = files.users.split(separator: "\r\n").map(String.init)
            let students = lines.indices.filter { lines[$0].contains(",student,") }
            try #require(students.count > 400, "\(lines.count) lines")
            for line in [students[3], students[300], students[301]] { lines[line] = lines[line].replacingOccurrences(of: ",student,", with: ",wizard,") }
            let draft = try await batch(engine, [("users.csv", lines.joined(separator: "\r\n") + "\r\n"), ("demographics.csv", files.demographics)])
            let ofBatch = "batch_no = (SELECT batch_no FROM batch_numbers WHERE batch_id = ?)"
            func rows() async throws -> [(first: Int64, end: Int64?)] {
                try await store.backend.read { db in
                    try db.query("SELECT item_id, pack_end FROM batch_items WHERE \(ofBatch) ORDER BY item_id", [.id(draft.id)])
                        .map { (try $0.int("item_id"), $0["pack_end"].int) }
                }
            }
            let stored = try await rows()
            let all = try await store.backend.read { db in try Store.loadItems(db, batchID: draft.id) }
            #expect(all.map(\.id) == Array(1...Int64(all.count)), "every item once, in order")
            #expect(stored.filter { $0.end != nil }.count >= 4 && stored.count < all.count / 20, "\(stored.count) rows for \(all.count) items")
            #expect(all.filter { $0.state == .error }.count >= 3)
            let errors = Set(all.filter { $0.state == .error }.map(\.id))
            #expect(stored.filter { errors.contains($0.first) }.allSatisfy { $0.end == nil }, "an item with an issue keeps a row of its own")

            // Every page, as slices of the whole list filtered and ordered as asked.
            func group(_ item: BatchItem) -> Int {
                switch item.state {
                case .error: 0
                case .unmatched: 1
                case _ where item.issues.contains { $0.severity == .warning }: 2
                case .ready, .applied: 3
                default: 4
                }
            }
            func checkPages(_ all: [BatchItem], _ note: String) async throws {
                let filters: [(ItemState?, String?, String?)] = [
                    (nil, nil, nil), (.ready, nil, nil), (.error, nil, nil), (nil, "class", nil), (.ready, "enrollment", nil),
                    (nil, "demographics", nil), (nil, nil, "demographics.csv"), (.ready, nil, "users.csv"),
                ]
                for (state, entity, fileName) in filters {
                    for problemsFirst in [false, true] {
                        var wanted = all.filter { item in
                            (state == nil || item.state == state) && (fileName == nil || item.fileName == fileName)
                                && (entity == nil || item.changes.contains { $0.entity == entity })
                        }
                        if problemsFirst { wanted.sort { (group($0), $0.id) < (group($1), $1.id) } }
                        for (offset, limit) in [(0, 1000), (0, 10), (7, 100), (255, 3), (256, 1), (257, 300), (wanted.count - 2, 10), (wanted.count, 5)] {
                            let page = try await store.items(
                                of: draft.id, state: state, changing: entity, fileName: fileName, problemsFirst: problemsFirst,
                                offset: max(offset, 0), limit: limit)
                            let expected = wanted.dropFirst(max(offset, 0)).prefix(limit)
                            #expect(page.items == Array(expected), "\(note) \(state as Any) \(entity as Any) \(fileName as Any) \(problemsFirst) \(offset) \(limit)")
                            #expect(page.total == wanted.count, "\(note) \(state as Any) \(entity as Any) \(fileName as Any)")
                        }
                    }
                }
                for id in [1, 2, 255, 256, 257, Int64(all.count)] {
                    #expect(try await store.item(id, of: draft.id) == all[Int(id) - 1], "\(note) item \(id)")
                }
                #expect(try await store.item(Int64(all.count) + 1, of: draft.id) == nil)
                let (next, counts) = try await store.backend.write { db in
                    (try Store.nextItemID(db, batchID: draft.id), try Store.refreshCounts(db, batchID: draft.id))
                }
                #expect(next == Int64(all.count) + 1 && counts == ItemCounts(all), "\(note)")
            }
            try await checkPages(all, "packed")

            // A row skipped by hand in the middle of a pack: it leaves the pack, a row of its own, and nothing else moves.
            let middle = try #require(stored.first { ($0.end ?? 0) - $0.first > 100 }).first + 50
            let skipped = try await engine.resolve(itemID: middle, of: draft, target: nil, skip: true, by: Actor(EngineFixture.clerk))
            #expect(skipped.state == .skipped)
            var now = all
            now[Int(middle) - 1].state = .skipped
            now[Int(middle) - 1].manualTarget = nil
            let reread = try await store.backend.read { db in try Store.loadItems(db, batchID: draft.id) }
            #expect(reread.count == all.count)
            // (Planned again: another row of the same person or class may now create what the skipped one did.)
            let skippedRow = all[Int(middle) - 1]
            #expect(
                zip(reread, now).allSatisfy { read, was in
                    read == was || read.id == middle || read.target == skippedRow.target || read.input["classId"] == skippedRow.input["classId"]
                }, "only the skipped row and rows it shares a person or class with changed")
            #expect(reread[Int(middle) - 1].state == .skipped)
            let after = try await rows()
            #expect(after.contains { $0.first == middle && $0.end == nil } && after.count > stored.count, "the pack taken apart")

            // Every pack taken apart, as batches were stored before: the same items, the same pages.
            try await store.backend.write { db in
                for item in reread { try Store.unpack(db, batchID: draft.id, holding: item.id) }
            }
            let unpacked = try await rows()
            #expect(unpacked.allSatisfy { $0.end == nil } && unpacked.count == all.count)
            let readUnpacked = try await store.backend.read { db in try Store.loadItems(db, batchID: draft.id) }
            #expect(readUnpacked == reread)
            try await checkPages(reread, "unpacked")
        }
    }

    @Test("a draft previewed before another batch applied the same rows is planned again whole at Process: its items written anew, packed, the same as the files received now; a second file received apart reads the first back", arguments: TestDatabase.all)
    func plannedAgainWhole(database: TestDatabase) async throws {
        try await emptyDistrict(database) { store, engine in
            // (Each file received on its own, as an API client sends them: demographics.csv is planned with the items
            // of users.csv read back, their rows read from the file a pack at a time.)
            let files = RosterGenerator(schools: 2, students: 200).files(.original)
            let both = [("users.csv", files.users), ("demographics.csv", files.demographics)]
            let first = try await batch(engine, both)
            let second = try await batch(engine, both)
            let total = second.counts.total
            #expect(total == first.counts.total && second.counts.ready == total && total > Store.rewriteFrom, "\(total) items")
            _ = try await applyQueued(engine, [first])

            // Every row now says what the data already holds: Process plans the draft again, and there is nothing to do.
            let refusal = try await EngineFixture.refusal {
                _ = try await engine.submit(second.id, confirm: true, allowMassChanges: true, by: Actor(EngineFixture.clerk))
            }
            #expect(refusal?.hasPrefix("Nothing in this batch would change anything") == true, "\(refusal ?? "queued")")
            let replanned = try await store.batch(second.id)
            #expect(replanned.status == .draft && replanned.counts.unchanged == total && replanned.counts.total == total)
            let rows = try await store.backend.read { db in
                try db.scalarInt(
                    "SELECT COUNT(*) FROM batch_items WHERE batch_no = (SELECT batch_no FROM batch_numbers WHERE batch_id = ?)", [.id(second.id)])
            }
            #expect(rows < total / 20, "\(rows) rows for \(total) items: written anew in packs")

            // The same items, counts and pages as the same files received now.
            let fresh = try await batch(engine, both)
            let (again, now) = try await store.backend.read { db in
                (try Store.loadItems(db, batchID: second.id), try Store.loadItems(db, batchID: fresh.id))
            }
            #expect(again.count == total && again == now)
            #expect(replanned.entityCounts == fresh.entityCounts && replanned.counts == fresh.counts)
            let page = try await store.items(of: second.id, offset: 300, limit: 50)
            #expect(page.items == Array(now[300..<350]) && page.total == total)
        }
    }

    @Test("the preview's filter by state finds exactly the rows of that state, those needing attention through their own index", arguments: TestDatabase.all)
    func stateFilter(database: TestDatabase) async throws {
        try await emptyDistrict(database) { store, engine in
            // (The generator writes CRLF, as Excel does: one Character a line break.)
            var lines = RosterGenerator(schools: 1, students: 12).files(.original).users.split(separator: "\r\n").map(String.init)
            // Two rows with an unknown role: errors among rows that will change.
            let students = lines.indices.filter { lines[$0].contains(",student,") }
            try #require(students.count > 20, "\(lines.count) lines")
            for line in [students[1], students[15]] { lines[line] = lines[line].replacingOccurrences(of: ",student,", with: ",wizard,") }
            let draft = try await batch(engine, [("users.csv", lines.joined(separator: "\r\n") + "\r\n")])
            let all = try await items(store, draft)
            let first = try #require(all.first { $0.state == .ready })
            _ = try await engine.resolve(itemID: first.id, of: draft, target: nil, skip: true, by: Actor(EngineFixture.clerk))
            let now = try await items(store, draft)
            for state in ItemState.allCases {
                let page = try await store.items(of: draft.id, state: state, limit: 1000)
                #expect(page.items.map(\.id) == now.filter { $0.state == state }.map(\.id), "\(state)")
                #expect(page.total == now.filter { $0.state == state }.count, "\(state)")
            }
            // (A role changed on one of a person's rows also makes that person's other rows disagree: errors too.)
            let errors = now.filter { $0.state == .error }.count
            #expect(errors >= 2 && now.filter { $0.state == .skipped }.count == 1 && now.contains { $0.state == .ready })
            #expect(try await store.batch(draft.id).counts.error == errors)
            guard database == .sqlite else { return }
            // The query of a state needing attention is answered from its partial index (its condition written out).
            let plan = try await store.backend.read { db in
                try db.query(
                    "EXPLAIN QUERY PLAN SELECT * FROM batch_items WHERE batch_no = 1 AND state = 'error' AND \(Store.needsAttention) ORDER BY item_id")
                    .map { try $0.text("detail") }
            }
            #expect(plan.contains { $0.contains("batch_items_attention") }, "\(plan)")
        }
    }

    @Test("a district's first roster loads the empty tables with their indexes built after: every index and key is there as before, and keys given twice are refused", arguments: TestDatabase.all)
    func firstRosterIndexes(database: TestDatabase) async throws {
        try await emptyDistrict(database) { store, engine in
            // Every index of the database and its definition (PostgreSQL: also the keys, by the constraints).
            func catalog() async throws -> [String] {
                try await store.backend.read { db in
                    switch db.dialect {
                    case .sqlite:
                        return try db.query("SELECT name, sql FROM sqlite_master WHERE type = 'index' ORDER BY name").map {
                            "\(try $0.text(at: 0)) \($0.optionalText(at: 1) ?? "(constraint)")"
                        }
                    case .postgres:
                        let indexes = try db.query("SELECT indexdef FROM pg_indexes WHERE schemaname = current_schema() ORDER BY indexname")
                        let keys = try db.query(
                            """
                            SELECT c.conrelid::regclass::text || ' ' || c.conname || ' ' || pg_get_constraintdef(c.oid) FROM pg_constraint c
                            JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = current_schema() ORDER BY 1
                            """)
                        return try (indexes + keys).map { try $0.text(at: 0) }
                    }
                }
            }
            let before = try await catalog()
            #expect(before.contains { $0.contains("enrollments_user") } && before.contains { $0.contains("people_role_name") })
            let rows = [
                "S01,North,007,student,l007,Wing,Chan,,05,5A,Class 5A,", "S01,North,00123,student,l00123,Mei,Lee,,05,5A,Class 5A,",
                "S01,North,00123,student,l00123,Mei,Lee,,05,5B,Class 5B,",
            ]
            let applied = try await apply(engine, try await batch(engine, [("users.csv", Self.header + rows.joined(separator: "\n") + "\n")]))
            #expect(applied.status == .completed)
            #expect(counts(applied)["enrollments"]?.created == 3)
            let stored = try await store.backend.read { db in
                try db.query("SELECT class_id, user_id FROM enrollments ORDER BY class_id, user_id").map { "\(try $0.text("class_id")) \(try $0.text("user_id"))" }
            }
            #expect(stored == ["5A 00123", "5A 007", "5B 00123"])
            #expect(try await catalog() == before)
            await #expect(throws: (any Error).self) {
                try await store.backend.write { db in
                    try db.execute("INSERT INTO enrollments (class_id, user_id, role, primary_teacher) VALUES ('5B', '00123', 'student', ?)", [.bool(false)])
                }
            }
            await #expect(throws: (any Error).self) {
                try await store.backend.write { db in
                    try db.execute(
                        """
                        INSERT INTO people (user_id, user_role, login_id, first_name, last_name, user_status, search_text, created_at, updated_at)
                        VALUES ('999', 'student', 'l007', 'A', 'B', 'active', '999', 0, 0)
                        """)
                }
            }
        }
    }

    @Test("the same file round-trips leading zeros and Chinese names byte for byte", arguments: TestDatabase.all)
    func roundTrip(database: TestDatabase) async throws {
        try await emptyDistrict(database) { store, engine in
            let users = Self.header
                + "N,North School,000123,student,19chanw1,詠欣,陳,,05,N-5A,5A,\n"
                + "N,North School,000124,student,19garciaj1,José,García,,05,N-5A,5A,\n"
                + "N,North School,T0042,teacher,,Ann,Lee,ann.lee@school.edu,,N-5A,5A,true\n"
            _ = try await apply(engine, try await batch(engine, [("users.csv", users)]))
            let first = try await export(store)
            #expect(first.users.contains(",000123,student,19chanw1,詠欣,陳,"))
            let second = try await batch(engine, [("users.csv", first.users)])
            #expect(try await items(store, second).allSatisfy { $0.state == .unchanged })
            _ = try await engine.cancel(second.id, by: Actor(EngineFixture.clerk))
            #expect(try await export(store).users == first.users)
        }
    }

    @Test(
        "class IDs that differ only in how a letter is encoded (é composed, and e with an accent after it) are two classes, as the database keys them: checked, planned, counted and written as two",
        arguments: TestDatabase.all)
    func classIDsByBytes(database: TestDatabase) async throws {
        try await emptyDistrict(database) { store, engine in
            let composed = "N-Caf\u{E9}", decomposed = "N-Cafe\u{301}"
            #expect(composed == decomposed && Array(composed.utf8) != Array(decomposed.utf8), "equal as Swift strings, not as bytes")
            let users = Self.header
                + "N,North School,000123,student,19chanw1,詠欣,陳,,05,\(composed),Café,\n"
                + "N,North School,000124,student,19garciaj1,José,García,,05,\(decomposed),Café (Mac),\n"
            let draft = try await batch(engine, [("users.csv", users)])
            #expect(try await items(store, draft).allSatisfy { $0.issues.isEmpty }, "not one class under two names")
            #expect(counts(draft)["classes"]?.created == 2)
            #expect(counts(draft)["enrollments"]?.created == 2)
            let done = try await apply(engine, draft)
            #expect(done.status == .completed, "each enrollment's class is written")
            let stored = try await store.backend.read { db in
                try db.query("SELECT class_id, class_name FROM classes ORDER BY class_name", []).map { [try $0.text("class_id"), try $0.text("class_name")] }
            }
            #expect(stored.map { Array($0[0].utf8) } == [Array(composed.utf8), Array(decomposed.utf8)])
            #expect(stored.map { $0[1] } == ["Café", "Café (Mac)"])
        }
    }

    @Test("two files of one name, received at once (two folders' users.csv) or one after the other, each keep their own rows", arguments: TestDatabase.all)
    func sameNameTwice(database: TestDatabase) async throws {
        try await emptyDistrict(database) { store, engine in
            let draft = try await store.createBatch(kind: .roster, options: #"{"mode":"add-update"}"#, by: EngineFixture.clerk)
            // The second file's rows are longer: read where the first file's rows are, they would be other cells.
            let files = [
                Self.header + "N,North School,000123,student,19chanw1,Wing,Chan,,05,N-5A,5A,\n",
                Self.header + "N,North School,000456000,student,19leeka1,Ka Yan Mei,Lee Cheung,,05,N-5B,5B,\n"
                    + "N,North School,000789000,student,19wongs1,Siu Ming,Wong Tai,,05,N-5B,5B,\n",
            ].map { text in
                let url = FileManager.default.temporaryDirectory.appendingPathComponent("same-\(UUID().uuidString)")
                FileManager.default.createFile(atPath: url.path, contents: Data(text.utf8))
                return (fileName: "users.csv", url: url)
            }
            defer { for file in files { try? FileManager.default.removeItem(at: file.url) } }
            _ = try await engine.receive(files: files, into: draft, by: Actor(EngineFixture.clerk))
            let read = try await items(store, draft)
            #expect(read.map { $0.input["userId"] } == ["000123", "000456000", "000789000"])
            #expect(read.map { $0.input["firstName"] } == ["Wing", "Ka Yan Mei", "Siu Ming"])
            #expect(read.allSatisfy { $0.issues.isEmpty }, "\(read.flatMap(\.issues))")
            // One after the other: the batch keeps the first file's blob for that name; the second's rows keep their cells.
            let later = try await store.createBatch(kind: .roster, options: #"{"mode":"add-update"}"#, by: EngineFixture.clerk)
            for file in files { _ = try await engine.receive(files: [file], into: later, by: Actor(EngineFixture.clerk)) }
            let again = try await items(store, later)
            #expect(again.map { $0.input["userId"] } == ["000123", "000456000", "000789000"])
            #expect(again.map { $0.input["lastName"] } == ["Chan", "Lee Cheung", "Wong Tai"])
        }
    }

    @Test(
        "a row is stored as where it is in the kept file and read there again, its label made from it; rows stored as values or whole still read; a kept file gone is a clear error",
        arguments: TestDatabase.all)
    func storedCells(database: TestDatabase) async throws {
        try await emptyDistrict(database) { store, engine in
            // A byte-order mark, CRLF, a quoted cell with a comma and doubled quotes, a cell with spaces around it; a
            // name of this test's own, so that no other test's kept file has these bytes.
            let unique = UUID().uuidString.prefix(8)
            let header = Self.header.replacingOccurrences(of: "\n", with: "\r\n")
            let row = "N,North School,000123,student,19chanw1,  詠欣 ,陳\(unique),,05,N-5A,\"5A, \"\"blue\"\"\","
            let users = "\u{FEFF}" + header + row + "\r\n"
            let demographics = "userId,birthDate,sex\n000123,2014-09-02,female\n"
            let draft = try await batch(engine, [("users.csv", users), ("demographics.csv", demographics)], mode: "sync")
            let stored = try await store.backend.read { db in
                try db.query("SELECT input, label FROM batch_items WHERE batch_no = (SELECT batch_no FROM batch_numbers WHERE batch_id = ?) ORDER BY item_id", [.id(draft.id)])
                    .map { (try $0.text("input"), try $0.text("label")) }
            }
            #expect(stored.count == 3, "the row, the sync item and the demographics row")
            #expect(stored[0].0 == "@\(3 + header.utf8.count)+\(row.utf8.count)", "the row's bytes in the file as uploaded")
            #expect(stored[1].0.hasPrefix("{"), "the sync item's cells are not the file's columns: stored whole")
            #expect(stored[2].0 == "@\("userId,birthDate,sex\n".utf8.count)+\("000123,2014-09-02,female".utf8.count)")
            #expect(stored[0].1 == "" && stored[2].1 == "", "a span item's label is made from its cells when read")
            #expect(stored[1].1.hasPrefix("Not in the file (sync)"), "the sync item keeps its own")
            let read = try await items(store, draft)
            #expect(read[0].label == "000123 · 陳\(unique), 詠欣 · student · class N-5A" && read[2].label == "000123 · demographics")
            #expect(read[1].label == stored[1].1)
            #expect(try await store.item(read[2].id, of: draft.id)?.label == "000123 · demographics")
            let item = read[0]
            #expect(item.input["firstName"] == "詠欣" && item.input["userId"] == "000123" && item.input["className"] == "5A, \"blue\"")
            #expect(item.input["lastName"] == "陳\(unique)" && item.input.count == Self.header.split(separator: ",").count)
            #expect(try await store.itemsWithIssues(of: draft.id, limit: 10).total == 0)
            // A row stored as values (as batches before spans were) or whole (before the column list) reads the same.
            let columns = try await store.backend.read { db in
                try db.first("SELECT columns FROM batch_input_columns WHERE batch_id = ? AND file_name = 'users.csv'", [.id(draft.id)])?
                    .text("columns")
            }
            let names = try #require(columns.flatMap { JSONText.decode([String].self, $0) })
            for text in [try #require(FlatJSON.values(item.input, columns: names)), FlatJSON.object(item.input)] {
                try await store.backend.write { db in
                    _ = try db.execute(
                        "UPDATE batch_items SET input = ?, label = ? WHERE batch_no = (SELECT batch_no FROM batch_numbers WHERE batch_id = ?) AND item_id = ?",
                        [.text(text), .text(item.label), .id(draft.id), .int(item.id)])
                }
                #expect(try await items(store, draft).first?.input == item.input)
                #expect(try await store.item(item.id, of: draft.id)?.input == item.input)
            }
            // The kept file gone from the files folder: reading its rows says so, and which file.
            let second = try await batch(engine, [("users.csv", users)], mode: "sync")
            let blobs = try #require(engine.blobs as? FileBlobStore)
            let key = FileBlobStore.key(for: Data(users.utf8))
            try FileManager.default.removeItem(at: blobs.root.appendingPathComponent(String(key.prefix(2))).appendingPathComponent(String(key.dropFirst(2))))
            await #expect {
                _ = try await items(store, second)
            } throws: { error in
                guard case StoreError.corrupt(let message) = error else { return false }
                return message.contains("users.csv") && message.contains("files folder")
            }
        }
    }

    @Test("re-import of a changed file writes only the differences; sync removes what it leaves out; the guard stops a mass change", arguments: TestDatabase.all)
    func changedAndSync(database: TestDatabase) async throws {
        try await emptyDistrict(database) { store, engine in
            let generator = RosterGenerator(schools: 1, students: 200)
            let original = generator.files(.original)
            _ = try await apply(engine, try await batch(engine, [("users.csv", original.users), ("demographics.csv", original.demographics)]))
            let changed = generator.files(.changed)
            let update = try await batch(engine, [("users.csv", changed.users), ("demographics.csv", changed.demographics)])
            let byEntity = counts(update)
            #expect(byEntity["students"]?.created == 2)
            // Only a student whose grade changed has another birth date (at most three of them): the others' records,
            // read back from the database, compare equal field by field.
            let demographics = try #require(byEntity["demographics"])
            #expect(demographics.created == 2 && demographics.updated + demographics.unchanged == 198 && demographics.updated <= 3, "\(demographics)")
            // Every 20th student changes a preferred name, address or grade (a grade-12 student stays in 12).
            let updated = byEntity["students"]?.updated ?? 0
            #expect((7...10).contains(updated))
            #expect(byEntity["students"]?.removed == 0, "add-update leaves absent students alone")
            #expect((byEntity["students"]?.unchanged ?? 0) == 200 - 2 - updated, "the two gone students are not in the file")
            let applied = try await apply(engine, update)
            #expect(applied.status == .completed)
            let changes = try await store.changes(of: update.id, limit: 1000).items
            #expect(!changes.contains { $0.entity == "class" && $0.field == "*" }, "no class is created again")

            let sync = try await batch(engine, [("users.csv", changed.users)], mode: "sync")
            let removals = counts(sync)
            #expect(removals["students"]?.removed == 2)
            #expect((removals["enrollments"]?.removed ?? 0) == 14)
            try await store.updateSettings(
                { var settings = try await store.settings(); settings.changeThreshold = 0; return settings }(), by: .system)
            await #expect(throws: StoreError.self) {
                try await engine.submit(sync.id, confirm: true, allowMassChanges: false, by: Actor(EngineFixture.clerk))
            }
            func enrollmentRows() async throws -> Int64 { try await store.backend.read { db in try db.scalarInt("SELECT COUNT(*) FROM enrollments") } }
            let enrolledBefore = try await enrollmentRows()
            let synced = try await apply(engine, sync)
            #expect(synced.status == .completed)
            #expect(try await enrollmentRows() == enrolledBefore - 14, "exactly the removed enrollments are gone")
            let left = try await store.backend.read { db in try db.scalarInt("SELECT COUNT(*) FROM people WHERE user_status = 'left'") }
            #expect(left == 2)

            // Undo of the sync batch brings the students and their enrollments back.
            _ = try await engine.requestUndo(sync.id, by: Actor(EngineFixture.clerk))
            #expect(try await JobWorker(engine: engine, name: "w").runNext())
            let leftAfterUndo = try await store.backend.read { db in try db.scalarInt("SELECT COUNT(*) FROM people WHERE user_status = 'left'") }
            #expect(leftAfterUndo == 0)
            #expect(try await enrollmentRows() == enrolledBefore)
            #expect(try await store.batch(sync.id).status == .undone)
        }
    }

    @Test("a file naming most of the district's people has their records read from whole tables: the same snapshot as read by userId", arguments: TestDatabase.all)
    func wholeTableSnapshot(database: TestDatabase) async throws {
        try await emptyDistrict(database) { store, engine in
            let original = RosterGenerator(schools: 2, students: 60).files(.original)
            _ = try await apply(engine, try await batch(engine, [("users.csv", original.users), ("demographics.csv", original.demographics)]))
            // A later batch gives the first student one more class: their enrollments are no longer together in the table.
            // (The generator ends its lines with CR LF: one Character to Swift.)
            let lines = original.users.split(separator: "\r\n").map(String.init)
            let header = lines[0].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            var cells = lines[1].split(separator: ",", omittingEmptySubsequences: false).map(String.init)
            try #require(cells.count == header.count && !lines[1].contains("\""))
            let moved = cells[try #require(header.firstIndex(of: "userId"))]
            cells[try #require(header.firstIndex(of: "classId"))] = "SCH0001-EXTRA"
            cells[try #require(header.firstIndex(of: "className"))] = "Extra"
            let extra = try await apply(engine, try await batch(engine, [("users.csv", lines[0] + "\n" + cells.joined(separator: ",") + "\n")]))
            #expect(extra.status == .completed)

            let everyone = try await store.backend.read { db in try db.query("SELECT user_id FROM people ORDER BY user_id").map { try $0.text(at: 0) } }
            let named = Set(everyone.prefix(everyone.count * 3 / 4)).union([moved, "NOT-IN-THE-DATABASE"])
            try await store.backend.read { db in
                let byUserID = try RosterSnapshotLoader.NamedPeople(named, on: db, wholeTablesFrom: .max)
                let whole = try RosterSnapshotLoader.NamedPeople(named, on: db, wholeTablesFrom: 1)
                #expect(!byUserID.readsWholeTables && whole.readsWholeTables)
                let asked = try RosterSnapshotLoader.ownedRecords(of: byUserID, on: db), read = try RosterSnapshotLoader.ownedRecords(of: whole, on: db)
                #expect(read.enrollments == asked.enrollments)
                #expect(read.demographics == asked.demographics)
                #expect(read.enrollments[moved]?.map(\.classID).last == "SCH0001-EXTRA" && read.enrollments[moved]?.count == 8)
                #expect(read.enrollments["NOT-IN-THE-DATABASE"] == nil)
                #expect(Set(read.enrollments.keys).isSubset(of: named) && read.enrollments.count > everyone.count / 2)
                let schoolIDs = try RosterSnapshotLoader.schools(on: db).byKey
                let people = try RosterSnapshotLoader.people(whole, schoolIDs: schoolIDs, on: db)
                #expect(people == (try RosterSnapshotLoader.people(byUserID, schoolIDs: schoolIDs, on: db)))
                #expect(people.count == named.count - 1 && people[moved] != nil)
            }
        }
    }

    @Test("undo of a first import removes everything it created", arguments: TestDatabase.all)
    func undoFirstImport(database: TestDatabase) async throws {
        try await emptyDistrict(database) { store, engine in
            let files = RosterGenerator(schools: 1, students: 20).files(.original)
            let done = try await apply(engine, try await batch(engine, [("users.csv", files.users), ("demographics.csv", files.demographics)]))
            _ = try await engine.requestUndo(done.id, by: Actor(EngineFixture.clerk))
            #expect(try await JobWorker(engine: engine, name: "w").runNext())
            let left = try await store.backend.read { db in
                try ["people", "classes", "enrollments", "demographics", "person_schools", "schools"].map {
                    try db.scalarInt("SELECT COUNT(*) FROM \($0)")
                }
            }
            #expect(left == [0, 0, 0, 0, 0, 0])
            #expect(try await store.batch(done.id).report?.changedSince.isEmpty == true)
        }
    }

    @Test("two people who swap login IDs and addresses in one file take each other's; one whose holder keeps it is refused", arguments: TestDatabase.all)
    func loginsAndAddressesSwapped(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await EngineFixture.load(into: store, students: 4)
            let engine = try EngineFixture.engine(store)
            // 000001 and 000003 (both at North) swap; 000004 wants the login ID of 000002, who is not in the file.
            let swap = Self.header
                + "N,,000001,student,s000003,First1,Last1,s000003@old.example,05,,,\n"
                + "N,,000003,student,s000001,First3,Last3,s000001@old.example,05,,,\n"
            let draft = try await batch(engine, [("users.csv", swap + "S,,000004,student,s000002,First4,Last4,,05,,,\n")])
            let found = try await items(store, draft).filter { $0.row != nil }
            #expect(found.map { $0.issues.map(\.code) } == [[], [], ["login_id_in_use"]])
            #expect(found[0].changes.map(\.field).sorted() == ["loginId", "userEmail"] && found[1].state == .ready)
            // The address alone, the login ID kept: the address is still refused.
            let addressOnly = Self.header + "S,,000004,student,s000004,First4,Last4,s000002@old.example,05,,,\n"
            #expect(try await items(store, try await batch(engine, [("users.csv", addressOnly)])).first?.issues.map(\.code) == ["email_in_use"])
            let applied = try await apply(engine, try await batch(engine, [("users.csv", swap)]))
            #expect(applied.status == .completed, "\(applied.failure ?? "") \(applied.status)")
            func logins() async throws -> [String] {
                try await store.backend.read { db in
                    try db.query("SELECT user_id, login_id, email_key FROM people ORDER BY user_id").map {
                        "\($0["user_id"].text ?? ""):\($0["login_id"].text ?? "")" + ($0["email_key"].text == ($0["login_id"].text ?? "") + "@old.example" ? "" : " (address?)")
                    }
                }
            }
            #expect(try await logins() == ["000001:s000003", "000002:s000002", "000003:s000001", "000004:s000004"])
            // Undone, the two swap back.
            _ = try await engine.requestUndo(applied.id, by: Actor(EngineFixture.clerk))
            #expect(try await JobWorker(engine: engine, name: "w").runNext())
            #expect(try await store.batch(applied.id).status == .undone)
            #expect(try await logins() == ["000001:s000001", "000002:s000002", "000003:s000003", "000004:s000004"])
        }
    }

    @Test("planning against the data: scope, lost leading zeros, login IDs and addresses in use, new school or class without a name", arguments: TestDatabase.all)
    func planningRules(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await EngineFixture.load(into: store, students: 6)
            let engine = try EngineFixture.engine(store)
            let northClerk = Account(
                id: "acct-north", username: "northclerk", displayName: "North", role: .enrollmentAdmin, scope: .schools(["north"]))
            try await store.createAccount(northClerk, passwordHash: "x", by: .system)
            let users = Self.header
                + "S,,000002,student,s000002,First2,Last2,,05,,,\n"  // another school
                + "N,,1,student,s000001,First1,Last1,,05,,,\n"  // 000001 with its zeros lost
                + "N,,000009,student,s000004,New,Student,,05,,,\n"  // s000004 belongs to 000004
                + "N,,000010,student,s000010,New,Other,S000004@old.example,05,,,\n"  // address of 000004
                + "NEW,,000011,student,s000011,New,School,,05,,,\n"  // a school nobody named
                + "N,,000003,student,s000003,First3,Last3,,05,N-9Z,,\n"  // a class nobody named
                + "N,,000005,student,s000005,First5,Renamed,s000005@old.example,05,,,\n"  // fine
                + "N,,000012,student,s000012,New,Twelve,S000001@old.example,05,,,\n"  // the address of 000001, at North
            // 000004 (whose login ID and address rows 4 and 5 give) belongs to no school: the district's, whom only a
            // district-wide account sees.
            try await store.backend.write { db in _ = try db.execute("DELETE FROM person_schools WHERE user_id = '000004'", []) }
            let draft = try await batch(engine, [("users.csv", users)], by: northClerk)
            let rows = Dictionary(uniqueKeysWithValues: try await items(store, draft).compactMap { item in item.row.map { ($0, item) } })
            func codes(_ row: Int) -> [String] { rows[row]?.issues.map(\.code) ?? [] }
            #expect(codes(2) == ["school_out_of_scope"])
            #expect(rows[2]?.issues.first?.message.contains("you may not change school S") == true)
            #expect(codes(3) == ["leading_zeros_lost"])
            #expect(rows[3]?.issues.first?.message.contains("did you mean 000001?") == true)
            #expect(codes(4) == ["login_id_in_use"])
            #expect(codes(5) == ["email_in_use"])
            // A clash says whose the login ID or address is, when the uploader may see that person; otherwise only that
            // it is someone at another school.
            #expect(rows[4]?.issues.first?.message == "Row 4, loginId: “s000004” is already the login ID of a person outside your schools.")
            #expect(rows[4]?.issues.first?.fix == "Every person needs a login ID of their own: check this row's; if it is right, ask a district administrator, who can see whose login ID it is.")
            #expect(rows[9]?.issues.first?.message == "Row 9, userEmail: “S000001@old.example” is already the address of First1 Last1 (userId 000001, student at North School (N)).")
            #expect(rows[9]?.issues.first?.fix == "Every person needs an address of their own: check this row's; if it is right, change First1 Last1's first.")
            #expect(codes(9) == ["email_in_use"])
            #expect(codes(6) == ["school_out_of_scope"], "a school-scoped account cannot create a school")
            #expect(codes(7) == ["new_class_needs_name"])
            #expect(rows[8]?.state == .ready)
            #expect(rows[8]?.changes == [FieldChange(entity: "person", key: "000005", field: "lastName", before: "Last5", after: "Renamed")])

            let district = try await batch(engine, [("users.csv", Self.header + "NEW,,000011,student,s000011,New,School,,05,,,\n")])
            #expect(try await items(store, district).first?.issues.map(\.code) == ["new_school_needs_name"])

            // IDs starting with 0 of two lengths in the district (000001 and 0000077, class 007): each damaged ID is
            // found at its own length, and one of another length is not made up.
            let longer = try await batch(engine, [("users.csv", Self.header + "N,,0000077,student,s77,Seven,Longer,,05,007,7A,\n")])
            #expect(try await apply(engine, longer).status == .completed)
            let damaged = try await batch(
                engine,
                [("users.csv", Self.header + "N,,77,student,s77,Seven,Longer,,05,,,\n" + "N,,1,student,s000001,First1,Last1,,05,,,\n"
                    + "N,,000005,student,s000005,First5,Last5,,05,7,7A,\n" + "N,,777,student,s777,New,Person,,05,,,\n")])
            let found = try await items(store, damaged)
            #expect(found.map { $0.issues.map(\.code) } == [["leading_zeros_lost"], ["leading_zeros_lost"], ["leading_zeros_lost"], []])
            #expect(found[0].issues.first?.message.contains("did you mean 0000077?") == true)
            #expect(found[1].issues.first?.message.contains("did you mean 000001?") == true)
            #expect(found[2].issues.first?.message.contains("did you mean 007?") == true)

            // A demographics.csv row giving the same damaged userId has the same problem, not "skipped because of
            // users.csv" (correcting users.csv alone would not let it through); a row of a person whose error is
            // elsewhere is skipped, and says which users.csv row to correct.
            let both = try await batch(
                engine,
                [
                    ("users.csv", Self.header + "N,,1,student,s000001,First1,Last1,,05,,,\n" + "N,,000002,student,s000002,First2,Last2,,5th,,,\n"),
                    ("demographics.csv", "userId,birthDate,sex\n1,2015-01-01,female\n000002,2015-01-01,male\n"),
                ])
            let demographicRows = try await items(store, both).filter { $0.fileName == "demographics.csv" }
            #expect(demographicRows.map { $0.issues.map(\.code) } == [["leading_zeros_lost"], [RosterFile.dependsOnBadRow]])
            #expect(demographicRows[0].issues.first?.message == "Row 2, userId: leading zeros appear to have been removed by a spreadsheet — did you mean 000001?")
            #expect(demographicRows[0].issues.first?.fix.hasPrefix("Write 000001") == true)
            #expect(
                demographicRows[1].issues.first?.message
                    == "Row 3, userId: skipped because users.csv row 3, about the same person (userId 000002), has an error.")
        }
    }

    @Test("demographics: created with its users.csv; alone, every row says it needs one; a row for a non-student is refused", arguments: TestDatabase.all)
    func demographics(database: TestDatabase) async throws {
        try await emptyDistrict(database) { store, engine in
            let demographics = "userId,birthDate,sex,asian,homeLanguage,countryOfBirthCode\n000123,2014-09-02,female,true,yue,HK\nT0042,1980-01-01,male,,,\n"
            let alone = try await batch(engine, [("demographics.csv", demographics)])
            #expect(try await items(store, alone).allSatisfy { $0.issues.contains { $0.code == "demographics_without_users" } })
            let users = Self.header
                + "N,North School,000123,student,19chanw1,詠欣,陳,,05,,,\n"
                + "N,North School,T0042,teacher,,Ann,Lee,ann.lee@school.edu,,,,\n"
            let together = try await batch(engine, [("demographics.csv", demographics), ("users.csv", users)])
            let rows = try await items(store, together)
            #expect(rows.first { $0.input["userId"] == "000123" && $0.input["userRole"] == nil }?.state == .ready)
            #expect(rows.first { $0.input["userId"] == "T0042" && $0.input["userRole"] == nil }?.issues.map(\.code) == ["not_in_users"])
            _ = try await apply(engine, together)
            let exported = try await export(store)
            #expect(exported.demographics.contains("000123,2014-09-02,female,,,true,"))
        }
    }

    @Test("a batch applied after another is planned again against the data as that one left it", arguments: TestDatabase.all)
    func replanAtApply(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await EngineFixture.load(into: store, students: 2)
            let engine = try EngineFixture.engine(store)
            let first = try await batch(engine, [("users.csv", Self.header + "N,,000001,student,s000001,First1,Changed,,05,,,\n")])
            let second = try await batch(engine, [("users.csv", Self.header + "N,,000001,student,s000001,First1,Changed,,06,,,\n")])
            let done = try await applyQueued(engine, [first, second])[1]
            let changes = try await store.changes(of: done.id).items
            #expect(changes == [FieldChange(entity: "person", key: "000001", field: "userGrade", before: "05", after: "06")])

            // A change made outside batches (a school renamed on its page) between the preview and the apply: the
            // kept plan no longer holds, so the apply plans again and records nothing stale.
            let third = try await batch(
                engine, [("users.csv", "schoolId,schoolName,userId,userRole,loginId,firstName,lastName,userGrade\nN,North,000001,student,s000001,First1,Changed,06\n")])
            #expect(counts(third)["schools"]?.updated == 1)
            _ = try await engine.submit(third.id, confirm: true, allowMassChanges: true, by: Actor(EngineFixture.clerk))
            try await store.updateSchool(School(key: "north", schoolID: "N", name: "North"), by: .system)
            #expect(try await JobWorker(engine: engine, name: "w").runNext())
            let renamed = try await store.batch(third.id)
            #expect(try await store.changes(of: renamed.id).items.isEmpty, "the school already has the name the file gives it")
            #expect(try await store.school(id: "N")?.name == "North")

            // A draft whose preview went stale before its submit is planned again there: the one change it promised
            // is made already, so there is nothing to process, and the submit says so instead of queueing it.
            let fourth = try await batch(
                engine, [("users.csv", "schoolId,schoolName,userId,userRole,loginId,firstName,lastName,userGrade\nN,Nord,000001,student,s000001,First1,Changed,06\n")])
            #expect(counts(fourth)["schools"]?.updated == 1)
            try await store.updateSchool(School(key: "north", schoolID: "N", name: "Nord"), by: .system)
            #expect(try await store.previewIsStale(try await store.batch(fourth.id)))
            let refusal = try await EngineFixture.refusal {
                _ = try await engine.submit(fourth.id, confirm: true, allowMassChanges: true, by: Actor(EngineFixture.clerk))
            }
            #expect(refusal?.hasPrefix("Nothing in this batch would change anything") == true, "\(refusal ?? "queued")")
            let checked = try await store.batch(fourth.id)
            #expect(checked.status == .draft && counts(checked)["schools"]?.unchanged == 1)
            #expect(try await store.previewIsStale(checked) == false)
        }
    }

    /// On SQLite, no row names a parent that is not there (`PRAGMA foreign_key_check` finds nothing).
    func keysHold(_ store: Store, _ database: TestDatabase) async throws {
        guard database == .sqlite else { return }
        let broken = try await store.backend.read { db in try db.query("PRAGMA foreign_key_check").count }
        #expect(broken == 0, "rows naming a missing parent")
    }

    @Test("an apply that only adds checks what its new rows name: a class or person deleted behind SchoolBatch's back since the preview stops it, nothing written", arguments: TestDatabase.all)
    func parentGoneAtApply(database: TestDatabase) async throws {
        // The second file enrols a new student in the existing class C1, or the existing student 101 in a new class
        // C2; then the class or the person is deleted outside SchoolBatch (no batch or page moved the data version),
        // so the apply writes the kept plan, with the database's own key checks off (SQLite's row by row, PostgreSQL's
        // statement triggers: `writeCheckingOwnKeys`), and must find the parent gone.
        let cases = [
            (line: "S1,One,102,student,l102,Bo,Ng,,05,C1,5A,", delete: "DELETE FROM classes WHERE class_id = 'C1'", missing: "the class C1", left: ["101"]),
            (line: "S1,One,101,student,l101,Ann,Lee,,05,C2,5B,", delete: "DELETE FROM people WHERE user_id = '101'", missing: "the person 101", left: []),
        ]
        for (line, delete, missing, left) in cases {
            try await emptyDistrict(database) { store, engine in
                _ = try await apply(engine, try await batch(engine, [("users.csv", Self.header + "S1,One,101,student,l101,Ann,Lee,,05,C1,5A,\n")]))
                let next = try await batch(engine, [("users.csv", Self.header + line + "\n")])
                #expect(counts(next)["enrollments"]?.created == 1)
                try await store.backend.write { db in _ = try db.execute(delete) }
                let stopped = try await apply(engine, next)
                #expect(stopped.status != .completed)
                let (people, classes) = try await store.backend.read { db in
                    (
                        try db.query("SELECT user_id FROM people ORDER BY user_id").map { try $0.text("user_id") },
                        try db.query("SELECT class_id FROM classes ORDER BY class_id").map { try $0.text("class_id") }
                    )
                }
                #expect(people == left && !classes.contains("C2"), "nothing of the batch is written: \(missing)")
                let error = try await store.backend.read { db in
                    try db.first("SELECT last_error FROM jobs WHERE batch_id = ?", [.id(next.id)])?.optionalText("last_error") ?? ""
                }
                #expect(error.contains("\(missing), which is no longer in the database"), "\(error)")
                #expect(!error.isEmpty)
                try await keysHold(store, database)
                // Every other write has its keys checked again: an enrollment naming no class is refused.
                await #expect(throws: (any Error).self) {
                    try await store.backend.write { db in
                        _ = try db.execute("INSERT INTO enrollments (class_id, user_id, role, primary_teacher) VALUES ('C9', '101', 'student', ?)", [.bool(false)])
                    }
                }
                // On PostgreSQL the triggers leave the keys only to the transaction whose ID the setting holds: set to
                // anything else, they still check.
                if database == .postgres {
                    await #expect(throws: (any Error).self) {
                        try await store.backend.write { db in
                            _ = try db.query("SELECT set_config('schoolbatch.own_keys', 'on', true)")
                            _ = try db.execute("INSERT INTO enrollments (class_id, user_id, role, primary_teacher) VALUES ('C9', '101', 'student', ?)", [.bool(false)])
                        }
                    }
                }
            }
        }
    }

    @Test("an add-update batch planned again at apply is written whatever it turns out to change; a sync batch keeps the keys and removes what its file leaves out", arguments: TestDatabase.all)
    func removalsAtApply(database: TestDatabase) async throws {
        try await emptyDistrict(database) { store, engine in
            // An add-update file ends 101's enrollment in C2, which does not exist yet at its preview (nothing to
            // remove: the apply may go without SQLite's row-by-row key checks); a batch applied first enrols 101 in
            // C2, so the plan made again at apply removes it after all, and is written with the keys.
            _ = try await apply(engine, try await batch(engine, [("users.csv", Self.header + "S1,One,101,student,l101,Ann,Lee,,05,C1,5A,\n")]))
            let ending = try await batch(
                engine,
                [("users.csv", "action," + Self.header + "delete,S1,One,101,student,l101,Ann,Lee,,05,C2,5B,\n,S1,One,103,student,l103,Cy,Wu,,05,C1,5A,\n")])
            #expect(ending.entityCounts.allSatisfy { $0.removed == 0 } && counts(ending)["students"]?.created == 1)
            let enrolling = try await batch(engine, [("users.csv", Self.header + "S1,One,101,student,l101,Ann,Lee,,05,C2,5B,\n")])
            let ended = try await applyQueued(engine, [enrolling, ending])[1]
            #expect(ended.status == .completed)
            let enrollments = try await store.backend.read { db in
                try db.query("SELECT user_id, class_id FROM enrollments ORDER BY user_id, class_id").map { "\(try $0.text("user_id"))|\(try $0.text("class_id"))" }
            }
            #expect(enrollments == ["101|C1", "103|C1"], "101 has left C2; 103 is enrolled")
            try await keysHold(store, database)

            let base = Self.header + "S1,One,101,student,l101,Ann,Lee,,05,C1,5A,\nS1,One,101,student,l101,Ann,Lee,,05,C2,5B,\n"
                + "S1,One,103,student,l103,Cy,Wu,,05,C1,5A,\n"
            let sync = try await batch(engine, [("users.csv", base.replacingOccurrences(of: "Ann,Lee", with: "Ann,Li"))], mode: "sync")
            #expect(sync.entityCounts.allSatisfy { $0.removed == 0 } && counts(sync)["students"]?.updated == 1)
            let adding = try await batch(engine, [("users.csv", Self.header + "S1,One,102,student,l102,Bo,Ng,,05,C1,5A,\n")])
            let synced = try await applyQueued(engine, [adding, sync])[1]
            #expect(synced.status == .completed)
            let (status, enrolled) = try await store.backend.read { db in
                (
                    try db.first("SELECT user_status FROM people WHERE user_id = '102'")?.optionalText("user_status"),
                    try db.scalarInt("SELECT COUNT(*) FROM enrollments WHERE user_id = '102'")
                )
            }
            #expect(status == "left" && enrolled == 0, "the student the file leaves out has left, with no classes")
            try await keysHold(store, database)
        }
    }

    @Test("an apply with nothing written since the preview writes the kept plan: the same records as planning again", arguments: TestDatabase.all)
    func keptPlanAtApply(database: TestDatabase) async throws {
        try await emptyDistrict(database) { store, engine in
            let files = RosterGenerator(schools: 1, students: 12).files(.original)
            let draft = try await batch(engine, [("users.csv", files.users), ("demographics.csv", files.demographics)])
            let planned = try await items(store, draft).filter { $0.state == .ready }.flatMap(\.changes)
            #expect(planned.count > 100)
            let done = try await apply(engine, draft)
            #expect(done.status == .completed)
            #expect(done.counts.applied == draft.counts.ready && done.counts.ready == 0)
            #expect(try await store.changes(of: done.id, limit: 10_000).items == planned)
            #expect(try await store.peopleCount(role: .student) == 12)
        }
    }

    @Test("sync over the threshold: a file that leaves out a quarter of a school's students stops before applying, with the numbers", arguments: TestDatabase.all)
    func syncOverThreshold(database: TestDatabase) async throws {
        try await emptyDistrict(database) { store, engine in
            let files = RosterGenerator(schools: 1, students: 100).files(.original)
            _ = try await apply(engine, try await batch(engine, [("users.csv", files.users)]))
            // The same school with every fourth student left out: 25 students become left, their enrollments end.
            let lines = files.users.split(separator: "\r\n", omittingEmptySubsequences: true).map(String.init)
            let kept = [lines[0]] + lines.dropFirst().filter { line in
                guard let user = line.split(separator: ",", omittingEmptySubsequences: false).dropFirst(3).first, let number = Int(user) else { return true }
                return number % 4 != 0 || !line.contains(",student,")
            }
            let sync = try await batch(engine, [("users.csv", kept.joined(separator: "\r\n") + "\r\n")], mode: "sync")
            #expect(counts(sync)["students"]?.removed == 25)
            let refusal = try await EngineFixture.refusal {
                _ = try await engine.submit(sync.id, confirm: true, allowMassChanges: false, by: Actor(EngineFixture.clerk))
            }
            #expect(refusal?.contains("more than the 10%") == true, "\(refusal ?? "not refused")")
            #expect(refusal?.contains("Allow mass changes") == true)
            #expect(try await store.batch(sync.id).status == .draft, "nothing queued, nothing applied")
            let done = try await apply(engine, sync, allowMassChanges: true)
            #expect(done.status == .completed)
        }
    }

    @Test("undo restores what nobody changed since and lists what it leaves alone", arguments: TestDatabase.all)
    func undoChangedSince(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await EngineFixture.load(into: store, students: 2)
            let engine = try EngineFixture.engine(store)
            let roster = try await apply(
                engine,
                try await batch(engine, [("users.csv", Self.header + "N,,000001,student,s000001,First1,Renamed,,06,,,\nN,,000002,student,s000002,First2,Renamed,,06,,,\n")]))
            #expect(roster.status == .completed)
            // Someone changes 000002's grade again afterwards.
            let later = try await apply(engine, try await batch(engine, [("users.csv", Self.header + "N,,000002,student,s000002,First2,Renamed,,07,,,\n")]))
            #expect(later.status == .completed)
            _ = try await engine.requestUndo(roster.id, by: Actor(EngineFixture.clerk))
            #expect(try await JobWorker(engine: engine, name: "w").runNext())
            let undone = try await store.batch(roster.id)
            #expect(undone.status == .undone)
            let people = try await store.backend.read { db in
                try db.query("SELECT user_id, last_name, user_grade FROM people ORDER BY user_id").map {
                    "\(try $0.text("user_id")) \(try $0.text("last_name")) \($0.optionalText("user_grade") ?? "")"
                }
            }
            #expect(people == ["000001 Last1 05", "000002 Last2 07"], "000002's lastName comes back; its grade, changed since, stays")
            #expect(undone.report?.changedSince.map { "\($0.key) \($0.field)" } == ["000002 userGrade"])
        }
    }
}
