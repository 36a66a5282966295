import BatchCore
import BatchStore
import BatchTestSupport
import CSQLiteConfig
import Foundation
import Testing

@Suite("Store: the same tests on SQLite and PostgreSQL")
struct StoreTests {
    @Test("make test runs the store suite on both databases")
    func bothDatabases() {
        print("Store tests run on: \(TestDatabase.all.map(\.rawValue).joined(separator: ", "))")
        if ProcessInfo.processInfo.environment["SCHOOLBATCH_TEST_POSTGRES_URL"] != nil {
            #expect(TestDatabase.all == [.sqlite, .postgres])
        }
    }

    @Test("a bulk insert keeps every character: tabs, line breaks, backslashes, quotes, Chinese, NULL", arguments: TestDatabase.all)
    func bulkInsertText(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await store.migrate()
            let values = ["plain", "a\tb", "line\nbreak\r\nCRLF", #"back\slash \N \t"#, "\\", "\t\n", "“陳 詠欣”", "end\\", ""]
            let read = try await store.backend.write { db in
                try db.execute("CREATE TABLE copy_check (id BIGINT PRIMARY KEY, value TEXT, other TEXT)")
                try db.bulkInsert(
                    table: "copy_check", columns: ["id", "value", "other"],
                    rows: values.enumerated().map { [.int(Int64($0.offset)), .text($0.element), $0.offset == 0 ? .null : .text("x")] })
                return try db.query("SELECT id, value, other FROM copy_check ORDER BY id").map { row in
                    (try row.text("value"), row.optionalText("other"))
                }
            }
            #expect(read.map(\.0) == values)
            #expect(read.first?.1 == nil && read.dropFirst().allSatisfy { $0.1 == "x" })
        }
    }

    @Test("a bulk insert of any number of rows writes each row whole and in place; a row of the wrong width is refused", arguments: TestDatabase.all)
    func bulkInsertRows(database: TestDatabase) async throws {
        // SQLite inserts several rows a statement (32 here) and the rest with a shorter statement: 1, 31, 32, 33,
        // 70 rows all arrive, each value in its own row and column (empty texts too, which are not NULL).
        func other(_ index: Int) -> String { index % 5 == 2 ? "" : String(repeating: "x", count: index) }
        try await database.withStore { store in
            try await store.migrate()
            for count in [1, 31, 32, 33, 70] {
                let rows: [[SQLValue]] = (0..<count).map { index in
                    [.int(Int64(index)), .text("text \(index) 陳"), index % 3 == 0 ? .null : .text(other(index)), .bool(index % 2 == 0)]
                }
                let read = try await store.backend.write { db in
                    try db.execute("CREATE TABLE rows_check (id BIGINT PRIMARY KEY, value TEXT NOT NULL, other TEXT, flag BOOLEAN NOT NULL)")
                    try db.bulkInsert(table: "rows_check", columns: ["id", "value", "other", "flag"], rows: rows)
                    let read = try db.query("SELECT id, value, other, flag FROM rows_check ORDER BY id").map { row in
                        "\(try row.int("id"))|\(try row.text("value"))|\(row.optionalText("other") ?? "NULL")|\(row.bool("flag"))"
                    }
                    try db.execute("DROP TABLE rows_check")
                    return read
                }
                let wanted = (0..<count).map { index in
                    "\(index)|text \(index) 陳|\(index % 3 == 0 ? "NULL" : other(index))|\(index % 2 == 0)"
                }
                #expect(read == wanted, "\(count) rows")
            }
            await #expect(throws: (any Error).self) {
                try await store.backend.write { db in
                    try db.execute("CREATE TABLE width_check (id BIGINT PRIMARY KEY, value TEXT)")
                    try db.bulkInsert(table: "width_check", columns: ["id", "value"], rows: (0..<40).map { $0 == 35 ? [.int(Int64($0))] : [.int(Int64($0)), .text("v")] })
                }
            }
        }
    }

    @Test(
        "rows laid out in pieces (texts written as bytes, then joined) arrive as given; a piece with a short row is refused before anything is written",
        arguments: TestDatabase.all)
    func bulkRowsPieces(database: TestDatabase) async throws {
        let texts = ["plain", "a\tb", "line\nbreak\r\n", #"back\slash \N"#, "“陳 詠欣”", "", "{\"a\":\"b\\\"c\"}"]
        try await database.withStore { store in
            try await store.migrate()
            let read = try await store.backend.write { db in
                try db.execute("CREATE TABLE pieces_check (id BIGINT PRIMARY KEY, value TEXT, other TEXT, n BIGINT)")
                // Three pieces of 0, 4 and 10 rows: each row's text written as bytes, its other value as a value.
                let pieces = [0, 4, 10].enumerated().map { piece, size in
                    var out = BulkRows.Builder(width: 4, layout: db.bulkLayout, rows: size, bytesPerRow: 8)
                    for row in 0..<size {
                        let id = piece * 100 + row
                        out.add(.int(Int64(id)))
                        out.addText { $0 += Array(texts[id % texts.count].utf8) }
                        out.add(row % 3 == 0 ? .null : .text(texts[(id + 1) % texts.count]))
                        out.add(.int(Int64(-id)))
                        out.endRow()
                    }
                    return out.rows
                }
                var given: BulkRows? = BulkRows(joining: pieces, width: 4, layout: db.bulkLayout)
                try db.bulkInsert(table: "pieces_check", columns: ["id", "value", "other", "n"], packed: {
                    defer { given = nil }
                    return given
                })
                return try db.query("SELECT id, value, other, n FROM pieces_check ORDER BY id").map { row in
                    "\(try row.int("id"))|\(try row.text("value"))|\(row.optionalText("other") ?? "NULL")|\(try row.int("n"))"
                }
            }
            let wanted = [(1, 4), (2, 10)].flatMap { piece, size in
                (0..<size).map { row in
                    let id = piece * 100 + row
                    return "\(id)|\(texts[id % texts.count])|\(row % 3 == 0 ? "NULL" : texts[(id + 1) % texts.count])|\(-id)"
                }
            }
            #expect(read == wanted)
            await #expect(throws: (any Error).self) {
                try await store.backend.write { db in
                    var out = BulkRows.Builder(width: 2, layout: db.bulkLayout)
                    out.add(.int(1000))
                    out.addText { $0 += Array("whole".utf8) }
                    out.endRow()
                    out.add(.int(1001))
                    out.endRow()
                    var given: BulkRows? = out.rows
                    try db.bulkInsert(table: "pieces_check", columns: ["id", "value"], packed: {
                        defer { given = nil }
                        return given
                    })
                }
            }
            // Rows laid out for the other database, or a row left unended, are refused before anything is written
            // (SQLite would read cells that were never made; PostgreSQL would take the cells' buffer as COPY text).
            for unended in [false, true] {
                await #expect(throws: StoreError.self) {
                    try await store.backend.write { db in
                        let layout: BulkRows.Layout = unended ? db.bulkLayout : (db.bulkLayout == .cells ? .copyText : .cells)
                        var out = BulkRows.Builder(width: 2, layout: layout)
                        out.add(.int(1002))
                        out.add(.text("other"))
                        out.endRow()
                        if unended { out.add(.int(1003)) }
                        var given: BulkRows? = out.rows
                        try db.bulkInsert(table: "pieces_check", columns: ["id", "value"], packed: {
                            defer { given = nil }
                            return given
                        })
                    }
                }
            }
            let left = try await store.backend.read { db in try db.scalarInt("SELECT COUNT(*) FROM pieces_check WHERE id >= 1000") }
            #expect(left == 0)
        }
    }

    @Test("a bulk insert of slices handed out one by one writes them all in order; an error between two leaves none", arguments: TestDatabase.all)
    func bulkInsertSlices(database: TestDatabase) async throws {
        struct SourceFailed: Error {}
        try await database.withStore { store in
            try await store.migrate()
            try await store.backend.write { db in try db.execute("CREATE TABLE slices_check (id BIGINT PRIMARY KEY, value TEXT NOT NULL)") }
            @Sendable func slices(_ sizes: [Int], failingAt failure: Int? = nil) -> () throws -> [[SQLValue]]? {
                var given = 0, next = 0
                return {
                    if given == failure { throw SourceFailed() }
                    guard given < sizes.count else { return nil }
                    let rows: [[SQLValue]] = (next..<(next + sizes[given])).map { [.int(Int64($0)), .text("陳 \($0)")] }
                    next += sizes[given]
                    given += 1
                    return rows
                }
            }
            let read = try await store.backend.write { db in
                try db.bulkInsert(table: "slices_check", columns: ["id", "value"], slices: slices([3, 0, 5, 1]))
                return try db.query("SELECT id, value FROM slices_check ORDER BY id").map { "\(try $0.int("id"))|\(try $0.text("value"))" }
            }
            #expect(read == (0..<9).map { "\($0)|陳 \($0)" })
            await #expect(throws: SourceFailed.self) {
                try await store.backend.write { db in
                    try db.execute("DELETE FROM slices_check")
                    try db.bulkInsert(table: "slices_check", columns: ["id", "value"], slices: slices([2, 4, 3], failingAt: 2))
                }
            }
            let left = try await store.backend.read { db in try db.scalarInt("SELECT COUNT(*) FROM slices_check") }
            #expect(left == 9, "the failed transaction changed nothing")
        }
    }

    @Test(
        "beside: a writer's side reads what the transaction saw of tables it has not written (on SQLite on a reader at once, not seeing the writer's own rows); its error is the caller's",
        arguments: TestDatabase.all)
    func besideReads(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await store.migrate()
            try await store.backend.write { db in
                try db.execute("CREATE TABLE beside_check (id BIGINT PRIMARY KEY, value TEXT NOT NULL)")
                try db.bulkInsert(table: "beside_check", columns: ["id", "value"], rows: (0..<1_000).map { [.int(Int64($0)), .text("陳 \($0)")] })
            }
            let (untouched, written) = try await store.backend.write { db in
                try db.execute("CREATE TABLE beside_written (id BIGINT PRIMARY KEY)")
                try db.execute("INSERT INTO beside_written (id) VALUES (1)")
                let untouched = try db.beside(reading: { reader in
                    try reader.query("SELECT value FROM beside_check ORDER BY id").map { try $0.text("value") }
                }) { try db.scalarInt("SELECT count(*) FROM beside_written") }
                // What the side reads of a table this transaction wrote is where the two databases differ.
                let written = try db.beside(reading: { reader in
                    Result { try reader.scalarInt("SELECT count(*) FROM beside_written") }
                }) { () }
                return (untouched, written.0)
            }
            #expect(untouched.0 == (0..<1_000).map { "陳 \($0)" })
            #expect(untouched.1 == 1)
            switch database {
            // A reader of the pool: the writer's table is not committed yet.
            case .sqlite: #expect(throws: (any Error).self) { try written.get() }
            // The same connection, after the main work.
            case .postgres: #expect(try written.get() == 1)
            }
            await #expect(throws: (any Error).self) {
                try await store.backend.write { db in
                    _ = try db.beside(reading: { reader in try reader.query("SELECT * FROM no_such_table") }) { 1 }
                }
            }
        }
    }

    @Test("an IN list longer than a slice goes as one JSON array and finds every value: quotes, backslashes, tabs, Chinese", arguments: TestDatabase.all)
    func longInList(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await store.migrate()
            let odd = ["plain", "a\tb", "line\nbreak", #"back\slash "quoted""#, "“陳 詠欣”", "end\\", ""]
            let values = (0..<1_200).map { "\(odd[$0 % odd.count])\($0)" }
            let asked = values.filter { !$0.hasPrefix("plain") }
            let found = try await store.backend.write { db in
                try db.execute("CREATE TABLE in_check (value TEXT PRIMARY KEY)")
                try db.bulkInsert(table: "in_check", columns: ["value"], rows: values.map { [.text($0)] })
                return try db.query(chunking: asked.map { .text($0) }) { "SELECT value FROM in_check WHERE value IN (\($0))" }.map { try $0.text("value") }
            }
            #expect(asked.count == 1_028 && found.sorted() == asked.sorted())
            // Handed one at a time (one row's cells reused on SQLite), rows kept by the caller keep their values.
            let (kept, queried) = try await store.backend.read { db in
                var kept: [SQLRow] = []
                try db.forEachRow(chunking: asked.map { .text($0) }, { "SELECT value FROM in_check WHERE value IN (\($0)) ORDER BY value" }) { kept.append($0) }
                return (kept.map { $0.optionalText("value") }, try db.query("SELECT value FROM in_check WHERE value NOT LIKE 'plain%' ORDER BY value").map { $0.optionalText("value") })
            }
            #expect(kept.count == 1_028 && kept == queried)
        }
    }

    @Test("a row's cells read where they are give what the row gives: texts (Chinese, empty), NULL, numbers, yes/no", arguments: TestDatabase.all)
    func cellsInPlace(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await store.migrate()
            let (cells, rows) = try await store.backend.write { db in
                try db.execute("CREATE TABLE cells_check (n BIGINT PRIMARY KEY, name TEXT, flag BOOLEAN)")
                let names: [SQLValue] = [.text("陳 詠欣"), .text(""), .null, .text("Zoë"), .text(String(repeating: "x", count: 300))]
                try db.bulkInsert(table: "cells_check", columns: ["n", "name", "flag"], rows: names.indices.map { [.int(Int64($0)), names[$0], .bool($0 % 2 == 0)] })
                let sql = "SELECT n, name, flag FROM cells_check ORDER BY n"
                var cells: [[String?]] = []
                try db.forEachRow(sql, []) { (row: SQLCells) in
                    cells.append([row.text(at: 0), row.text(at: 1), row.bool(at: 2) ? "yes" : "no", row.withText(at: 1) { $0.map { "\($0.count)" } }])
                }
                let rows = try db.query(sql).map { row -> [String?] in
                    [String(try row.int("n")), row.optionalText(at: 1), row.bool(at: 2) ? "yes" : "no", row.optionalText(at: 1).map { "\($0.utf8.count)" }]
                }
                try db.execute("DROP TABLE cells_check")
                return (cells, rows)
            }
            #expect(cells == rows)
            #expect(cells.map { $0[1] } == ["陳 詠欣", "", nil, "Zoë", String(repeating: "x", count: 300)])
            #expect(cells.map { $0[2] } == ["yes", "no", "yes", "no", "yes"])
        }
    }

    @Test(
        "the roster tables' keys: an enrollment, membership, demographics or class names what exists; deleting a person or class deletes what names them; a named school or ID stays",
        arguments: TestDatabase.all)
    func enrollmentKeys(database: TestDatabase) async throws {
        // SQLite checks its foreign keys; PostgreSQL checks the same once a statement (migration
        // CheckRosterKeysByStatementOnPostgres), for a bulk insert too.
        try await database.withStore { store in
            try await store.migrate()
            try await store.backend.write { db in
                _ = try db.execute("INSERT INTO schools (school_key, school_id, name, created_at, updated_at) VALUES ('k1', 'S1', 'One', 0, 0)")
                // u4 is named by nothing (it changes its ID below).
                for user in ["u1", "u2", "u3", "u4"] {
                    _ = try db.execute(
                        """
                        INSERT INTO people (user_id, user_role, first_name, last_name, user_status, search_text, created_at, updated_at)
                        VALUES (?, 'student', 'A', 'B', 'active', '', 0, 0)
                        """, [.text(user)])
                }
                for id in ["c1", "c2"] {
                    _ = try db.execute(
                        "INSERT INTO classes (class_id, school_key, class_name, created_at, updated_at) VALUES (?, 'k1', ?, 0, 0)",
                        [.text(id), .text(id)])
                }
                try db.bulkInsert(
                    table: "enrollments", columns: ["class_id", "user_id", "role", "primary_teacher"],
                    rows: [("c1", "u1"), ("c1", "u2"), ("c2", "u1"), ("c2", "u3")].map {
                        [.text($0.0), .text($0.1), .text("student"), .bool(false)]
                    })
            }
            func enrollments() async throws -> [String] {
                try await store.backend.read { db in
                    try db.query("SELECT class_id, user_id FROM enrollments ORDER BY class_id, user_id").map {
                        "\(try $0.text("class_id"))|\(try $0.text("user_id"))"
                    }
                }
            }
            /// The write fails because of a key: SQLite's message, or the one PostgreSQL's triggers raise.
            func refused(_ statement: String, _ write: @escaping @Sendable (any SQLConnection) throws -> Void) async {
                let error = await #expect(throws: (any Error).self, "\(statement)") { try await store.backend.write(write) }
                let text = error.map { "\($0)" } ?? ""
                #expect(
                    text.contains("FOREIGN KEY constraint failed") || text.contains("which is not in")
                        || text.contains("is still named by"), "\(statement): \(text)")
            }
            await refused("bulk insert naming nobody") { db in
                try db.bulkInsert(
                    table: "enrollments", columns: ["class_id", "user_id", "role", "primary_teacher"],
                    rows: [[.text("c1"), .text("nobody"), .text("student"), .bool(false)]])
            }
            await refused("insert naming no class") { db in
                _ = try db.execute("INSERT INTO enrollments (class_id, user_id, role, primary_teacher) VALUES ('nowhere', 'u3', 'student', ?)", [.bool(false)])
            }
            await refused("update naming nobody") { db in _ = try db.execute("UPDATE enrollments SET user_id = 'nobody' WHERE user_id = 'u3'") }
            await refused("class ID changed") { db in _ = try db.execute("UPDATE classes SET class_id = 'c9' WHERE class_id = 'c2'") }
            #expect(try await enrollments() == ["c1|u1", "c1|u2", "c2|u1", "c2|u3"])
            try await store.backend.write { db in
                _ = try db.execute("UPDATE people SET first_name = 'Changed' WHERE user_id = 'u1'")
                _ = try db.execute("DELETE FROM people WHERE user_id = 'u1'")
            }
            #expect(try await enrollments() == ["c1|u2", "c2|u3"])
            try await store.backend.write { db in _ = try db.execute("DELETE FROM classes WHERE class_id = 'c2'") }
            #expect(try await enrollments() == ["c1|u2"])

            // The other keys of the tables a roster fills: memberships and demographics go with their person; a school
            // that classes or members name stays.
            try await store.backend.write { db in
                try db.bulkInsert(table: "person_schools", columns: ["user_id", "school_key"], rows: [[.text("u2"), .text("k1")], [.text("u3"), .text("k1")]])
                try db.bulkInsert(
                    table: "demographics", columns: ["user_id", "flags", "updated_at"], rows: [[.text("u2"), .text("-----------"), .int(0)], [.text("u3"), .text("-----------"), .int(0)]])
            }
            for statement in [
                "INSERT INTO person_schools (user_id, school_key) VALUES ('u2', 'nowhere')",
                "INSERT INTO person_schools (user_id, school_key) VALUES ('nobody', 'k1')",
                "INSERT INTO demographics (user_id, flags, updated_at) VALUES ('nobody', '-----------', 0)",
                "INSERT INTO classes (class_id, school_key, class_name, created_at, updated_at) VALUES ('c3', 'nowhere', 'c3', 0, 0)",
                "UPDATE classes SET school_key = 'nowhere' WHERE class_id = 'c1'",
                "DELETE FROM schools WHERE school_key = 'k1'",
                "UPDATE schools SET school_key = 'k9' WHERE school_key = 'k1'",
            ] {
                await refused(statement) { db in _ = try db.execute(statement) }
            }
            // A school and a person nothing names can change their key, and the school can go: the checks do not refuse
            // everything.
            try await store.backend.write { db in
                _ = try db.execute("INSERT INTO schools (school_key, school_id, name, created_at, updated_at) VALUES ('k2', 'S2', 'Two', 0, 0)")
                _ = try db.execute("UPDATE schools SET school_key = 'k3' WHERE school_key = 'k2'")
                _ = try db.execute("UPDATE people SET user_id = 'u5' WHERE user_id = 'u4'")
                _ = try db.execute("DELETE FROM schools WHERE school_key = 'k3'")
            }
            try await store.backend.write { db in _ = try db.execute("DELETE FROM people WHERE user_id = 'u3'") }
            let left = try await store.backend.read { db in
                (
                    try db.query("SELECT user_id FROM person_schools ORDER BY user_id").map { try $0.text("user_id") },
                    try db.query("SELECT user_id FROM demographics ORDER BY user_id").map { try $0.text("user_id") },
                    try db.query("SELECT school_key FROM schools").map { try $0.text("school_key") }
                )
            }
            #expect(left.0 == ["u2"] && left.1 == ["u2"] && left.2 == ["k1"])
        }
    }

    @Test(
        "the bulk-write setup: new SQLite files have 16 KB pages and SQLite keeps no memory statistics; items check their batch on SQLite only",
        arguments: TestDatabase.all)
    func bulkWriteSetup(database: TestDatabase) async throws {
        try await database.withStore { store in
            let (pageSize, itemKeys) = try await store.backend.read { db -> (Int64?, Int) in
                switch db.dialect {
                case .sqlite:
                    let size = try db.query("PRAGMA page_size").first?["page_size"].int
                    let keys = try db.query("SELECT \"table\" AS parent FROM pragma_foreign_key_list('batch_items')")
                    return (size, keys.count)
                case .postgres:
                    let keys = try db.query(
                        """
                        SELECT c.conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
                        WHERE n.nspname = current_schema() AND c.conrelid = 'batch_items'::regclass AND c.contype = 'f'
                        """)
                    return (nil, keys.count)
                }
            }
            switch database {
            case .sqlite:
                #expect(pageSize == 16_384)
                #expect(itemKeys == 1)
                // Statistics off (no process-wide lock an allocation): SQLite counts nothing.
                #expect(sqlite3_memory_used() == 0)
            case .postgres:
                #expect(itemKeys == 0)
            }
        }
    }

    @Test("a closed SQLite database is one file: the log is emptied on close, and what was written is read back")
    func closeEmptiesLog() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sb-close-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: directory) }
        let log = directory.appendingPathComponent("schoolbatch.sqlite-wal").path
        func logSize() -> Int { ((try? FileManager.default.attributesOfItem(atPath: log))?[.size] as? Int) ?? 0 }
        let store = try Store.open(databaseURL: nil, dataDirectory: directory)
        try await store.migrate()
        try await store.createAccount(EngineFixture.clerk, passwordHash: "x", by: .system)
        // A read first: the pool then has a read-only connection too, which it closes last.
        #expect(try await store.accountCount() == 1)
        #expect(logSize() > 0)
        try await store.close()
        #expect(logSize() == 0, "the log is emptied when the database closes")
        let reopened = try Store.open(databaseURL: nil, dataDirectory: directory)
        #expect(try await reopened.accountCount() == 1)
        try await reopened.close()
    }

    @Test("migrating twice is harmless and settings start with the defaults", arguments: TestDatabase.all)
    func migrate(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await store.migrate()
            let settings = try await store.settings()
            #expect(settings.batchUploadEnabled)
            #expect(settings.changeThreshold == 10)
            #expect(settings.gradeLevels == GradeLevels.oneRoster)
        }
    }

    @Test("the items of batches made before items were keyed by their batch's number are kept, each with its batch", arguments: TestDatabase.all)
    func numberedItems(database: TestDatabase) async throws {
        let before = Array(Migrations.all.prefix { !$0.name.hasPrefix("NumberBatchItems") })
        #expect(before.count < Migrations.all.count)
        try await database.withStore(migrations: before) { store in
            try await store.createAccount(EngineFixture.clerk, passwordHash: "x", by: .system)
            let old = [BatchID.generate(), BatchID.generate()]
            try await store.backend.write { db in
                for (index, batch) in old.enumerated() {
                    try db.execute(
                        """
                        INSERT INTO batches (batch_id, kind, status, options, created_by, created_by_name, district_wide,
                            scope_schools, created_at, updated_at) VALUES (?, 'emails', 'draft', '{}', ?, 'clerk', ?, '[]', ?, ?)
                        """, [.id(batch), .id(EngineFixture.clerk.id), .bool(true), .int(Int64(index)), .int(Int64(index))])
                    for item in 1...(index + 1) {
                        try db.execute(
                            """
                            INSERT INTO batch_items (batch_id, item_id, file_name, row_number, input, label, state, changes,
                                issues) VALUES (?, ?, 'emails.csv', ?, ?, ?, 'ready', '[]', '[]')
                            """,
                            [.id(batch), .int(Int64(item)), .int(Int64(item + 1)), .text(#"{"userId":"00\#(index)\#(item)"}"#),
                             .text("batch \(index) row \(item + 1)")])
                    }
                }
            }
            try await store.migrate()
            for (index, batch) in old.enumerated() {
                let items = try await store.items(of: batch)
                #expect(items.total == index + 1)
                #expect(items.items.map(\.label) == (1...(index + 1)).map { "batch \(index) row \($0 + 1)" })
                #expect(items.items.map { $0.input["userId"] } == (1...(index + 1)).map { "00\(index)\($0)" })
            }
            #expect(try await store.item(2, of: old[1])?.row == 3)
            let new = try await store.createBatch(kind: .emails, options: "{}", by: EngineFixture.clerk)
            #expect(try await store.items(of: new.id).total == 0, "a new batch gets a number of its own")
        }
    }

    @Test("enrollments made while their key was the table's primary key are kept, and the key still refuses a pair given twice", arguments: TestDatabase.all)
    func enrollmentsKeyedByIndex(database: TestDatabase) async throws {
        let before = Array(Migrations.all.prefix { $0.name != "EnrollmentsKeyAsIndexOnSQLite" })
        #expect(before.count < Migrations.all.count)
        try await database.withStore(migrations: before) { store in
            let enrollments = "SELECT class_id, user_id, role, primary_teacher FROM enrollments ORDER BY class_id, user_id"
            func rows() async throws -> [String] {
                try await store.backend.read { db in
                    try db.query(enrollments).map { "\(try $0.text("class_id")) \(try $0.text("user_id")) \(try $0.text("role")) \($0.bool("primary_teacher"))" }
                }
            }
            try await store.backend.write { db in
                try db.execute("INSERT INTO schools (school_key, school_id, name, created_at, updated_at) VALUES ('k1', 'S01', 'North', 0, 0)")
                for (user, role) in [("007", "teacher"), ("00123", "student")] {
                    try db.execute(
                        """
                        INSERT INTO people (user_id, user_role, first_name, last_name, user_status, search_text, created_at, updated_at)
                        VALUES (?, ?, 'A', 'B', 'active', ?, 0, 0)
                        """, [.text(user), .text(role), .text(user)])
                }
                for classID in ["5A", "5B"] {
                    try db.execute(
                        "INSERT INTO classes (class_id, school_key, class_name, created_at, updated_at) VALUES (?, 'k1', ?, 0, 0)",
                        [.text(classID), .text(classID)])
                }
                for (classID, user, role, primary) in [("5A", "007", "teacher", true), ("5A", "00123", "student", false), ("5B", "00123", "student", false)] {
                    try db.execute(
                        "INSERT INTO enrollments (class_id, user_id, role, primary_teacher) VALUES (?, ?, ?, ?)",
                        [.text(classID), .text(user), .text(role), .bool(primary)])
                }
            }
            let made = try await rows()
            #expect(made == ["5A 00123 student false", "5A 007 teacher true", "5B 00123 student false"])
            try await store.migrate()
            #expect(try await rows() == made)
            await #expect(throws: (any Error).self) {
                try await store.backend.write { db in
                    try db.execute("INSERT INTO enrollments (class_id, user_id, role, primary_teacher) VALUES ('5B', '00123', 'student', ?)", [.bool(false)])
                }
            }
            // A change of one enrollment finds it through the key, as before.
            try await store.backend.write { db in
                try db.execute(
                    """
                    INSERT INTO enrollments (class_id, user_id, role, primary_teacher) VALUES ('5A', '007', 'teacher', ?)
                    ON CONFLICT (class_id, user_id) DO UPDATE SET primary_teacher = excluded.primary_teacher
                    """, [.bool(false)])
            }
            #expect(try await rows() == ["5A 00123 student false", "5A 007 teacher false", "5B 00123 student false"])
        }
    }

    @Test("demographics flags stored as JSON before are kept, one character a flag, and read as before", arguments: TestDatabase.all)
    func demographicsFlagsStoredAsJSON(database: TestDatabase) async throws {
        let before = Array(Migrations.all.prefix { !$0.name.hasPrefix("DemographicsFlagsAsText") })
        #expect(before.count < Migrations.all.count)
        try await database.withStore(migrations: before) { store in
            // As `Demographics.flagsJSON` wrote them: sorted keys, true or false; a name that is no flag; none.
            let stored = [
                ("0001", #"{"asian":true,"section504":false,"white":true}"#),
                ("0002", #"{"americanIndianOrAlaskaNative":false,"economicallyDisadvantaged":true,"hispanicOrLatinoEthnicity":true,"unknown":true}"#),
                ("0003", "{}"),
            ]
            try await store.backend.write { db in
                for (user, flags) in stored {
                    try db.execute(
                        """
                        INSERT INTO people (user_id, user_role, first_name, last_name, user_status, search_text, created_at, updated_at)
                        VALUES (?, 'student', 'A', 'B', 'active', ?, 0, 0)
                        """, [.text(user), .text(user)])
                    try db.execute(
                        "INSERT INTO demographics (user_id, sex, flags, updated_at) VALUES (?, 'female', ?, 0)", [.text(user), .text(flags)])
                }
            }
            try await store.migrate()
            let texts = try await store.backend.read { db in
                try db.query("SELECT flags FROM demographics ORDER BY user_id").map { try $0.text("flags") }
            }
            #expect(texts == ["--1--1---0-", "10--------1", "-----------"])
            #expect(try await store.person("0001", scope: .district)?.demographics?.flags == ["asian": true, "section504": false, "white": true])
            #expect(try await store.person("0002", scope: .district)?.demographics?.flags == [
                "americanIndianOrAlaskaNative": false, "economicallyDisadvantaged": true, "hispanicOrLatinoEthnicity": true,
            ])
            #expect(try await store.person("0003", scope: .district)?.demographics?.flags == [:])
        }
    }

    @Test("school IDs are unique and case-sensitive; edits are audited", arguments: TestDatabase.all)
    func schools(database: TestDatabase) async throws {
        try await database.withStore { store in
            let admin = Actor(id: nil, name: "tester")
            try await store.createSchool(School(key: "k1", schoolID: "S01", name: "North"), by: admin)
            try await store.createSchool(School(key: "k2", schoolID: "s01", name: "South"), by: admin)
            await #expect(throws: StoreError.self) {
                try await store.createSchool(School(key: "k3", schoolID: "S01", name: "Copy"), by: admin)
            }
            try await store.updateSchool(School(key: "k2", schoolID: "S02", name: "South Campus"), by: admin)
            #expect(try await store.school(id: "S02")?.name == "South Campus")
            #expect(try await store.school(id: "s01") == nil)
            let audit = try await store.auditEntries(AuditQuery(action: "school.update"))
            #expect(audit.items.first?.changes.contains(.init(field: "schoolId", before: "s01", after: "S02")) == true)
        }
    }

    @Test("the activation gate closes for a school without an ID", arguments: TestDatabase.all)
    func gate(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await store.createSchool(School(key: "k1", schoolID: nil, name: "No ID Yet"), by: .system)
            let gate = try await store.activationGate()
            #expect(!gate.isOpen)
            #expect(gate.problems.map(\.schoolName) == ["No ID Yet"])
        }
    }

    @Test("people lists filter by school, grade, class, status and text, within scope", arguments: TestDatabase.all)
    func peopleQueries(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await Fixture.load(into: store)
            let all = try await store.people(PersonQuery(kind: .students, scope: .district))
            #expect(all.total == 4)
            #expect(all.items.map(\.person.lastName) == ["Chan", "García", "Lee", "陳"])
            let scoped = try await store.people(PersonQuery(kind: .students, scope: .schools(["north"])))
            #expect(scoped.items.map(\.person.userID.rawValue).sorted() == ["0001", "0002", "0003"])
            let byClass = try await store.people(PersonQuery(kind: .students, scope: .district, classID: "N-1A"))
            #expect(byClass.items.map(\.person.userID.rawValue).sorted() == ["0001", "0002"])
            #expect(byClass.items.first?.classNames == ["1A"])
            let byGrade = try await store.people(PersonQuery(kind: .students, scope: .district, grade: "02"))
            #expect(byGrade.items.map(\.person.userID.rawValue) == ["0003"])
            let left = try await store.people(PersonQuery(kind: .students, scope: .district, status: .left))
            #expect(left.items.map(\.person.userID.rawValue) == ["0004"])
            let text = try await store.people(PersonQuery(kind: .students, scope: .district, text: "GARC"))
            #expect(text.items.map(\.person.lastName) == ["García"])
            let chinese = try await store.people(PersonQuery(kind: .students, scope: .district, text: "陳"))
            #expect(chinese.total == 1)
            let literal = try await store.people(PersonQuery(kind: .students, scope: .district, text: "%"))
            #expect(literal.total == 0, "a % in the search is a literal character")
            let staff = try await store.people(PersonQuery(kind: .staff, scope: .district))
            #expect(staff.items.map(\.person.role) == [.teacher])
            let paged = try await store.people(PersonQuery(kind: .students, scope: .district, limit: 2, offset: 2))
            #expect(paged.items.map(\.person.lastName) == ["Lee", "陳"])
            #expect(paged.total == 4)
        }
    }

    @Test("a person outside the account's scope is not found", arguments: TestDatabase.all)
    func personScope(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await Fixture.load(into: store)
            #expect(try await store.person("0004", scope: .schools(["north"])) == nil)
            let detail = try #require(try await store.person("0004", scope: .schools(["south"])))
            #expect(detail.person.lastName == "陳")
            #expect(detail.demographics?.birthDate == "2015-03-04")
            #expect(detail.demographics?.flags["asian"] == true)
            let inClass = try #require(try await store.person("0001", scope: .district))
            #expect(inClass.classes.map(\.schoolClass.name) == ["1A"])
        }
    }

    @Test("e-mail addresses are unique regardless of letter case", arguments: TestDatabase.all)
    func emailUnique(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await Fixture.load(into: store)
            var copy = Person(userID: "T9", role: .teacher, firstName: "A", lastName: "B", email: "MS.WONG@school.example", schoolKeys: ["north"])
            await #expect(throws: StoreError.self) { try await store.upsert(people: [copy]) }
            copy.email = "other@school.example"
            try await store.upsert(people: [copy])
        }
    }

    @Test("accounts, sessions and API tokens", arguments: TestDatabase.all)
    func accounts(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await Fixture.load(into: store)
            let account = Account(id: "acc1", username: "clerk", displayName: "Clerk", role: .viewer, scope: .schools(["north"]))
            try await store.createAccount(account, passwordHash: "hash", by: .system)
            await #expect(throws: StoreError.self) {
                try await store.createAccount(Account(id: "acc2", username: "clerk", displayName: "Dup", role: .viewer, scope: .district), passwordHash: "h", by: .system)
            }
            #expect(try await store.credentials(username: "CLERK")?.account == account)
            try await store.createSession(tokenHash: "s1", accountID: account.id, csrfToken: "c1", expiresAt: Clock.nowMillis() + 60_000)
            #expect(try await store.session(tokenHash: "s1")?.csrfToken == "c1")
            try await store.createSession(tokenHash: "s2", accountID: account.id, csrfToken: "c2", expiresAt: Clock.nowMillis() - 1)
            #expect(try await store.session(tokenHash: "s2") == nil, "an expired session is not valid")
            try await store.createAPIToken(tokenHash: "t1", accountID: account.id, name: "test", by: .system)
            #expect(try await store.account(apiTokenHash: "t1")?.username == "clerk")
            var disabled = account
            disabled.disabled = true
            try await store.updateAccount(disabled, passwordHash: nil, by: .system)
            #expect(try await store.session(tokenHash: "s1") == nil, "disabling signs the account out")
            #expect(try await store.account(apiTokenHash: "t1") == nil, "a disabled account's token stops working")
        }
    }

    @Test("failed sign-ins are counted per username within the window", arguments: TestDatabase.all)
    func signInFailures(database: TestDatabase) async throws {
        try await database.withStore { store in
            let since = Clock.nowMillis() - 60_000
            for _ in 0..<3 { _ = try await store.recordSignInFailure(username: "a", remoteAddress: "1.2.3.4", since: since) }
            #expect(try await store.signInFailures(username: "a", since: since).count == 3)
            #expect(try await store.signInFailures(username: "b", since: since).count == 0)
            try await store.clearSignInFailures(username: "a")
            #expect(try await store.signInFailures(username: "a", since: since).count == 0)
        }
    }

    @Test("batches follow the lifecycle and refuse illegal moves", arguments: TestDatabase.all)
    func batches(database: TestDatabase) async throws {
        try await database.withStore { store in
            let account = Account(id: "acc1", username: "clerk", displayName: "Clerk", role: .enrollmentAdmin, scope: .district)
            try await store.createAccount(account, passwordHash: "hash", by: .system)
            let batch = try await store.createBatch(kind: .roster, options: "{}", by: account)
            #expect(batch.status == .draft)
            let cancelled = try await store.transition(batch.id, to: .cancelled, by: Actor(account))
            #expect(cancelled.status == .cancelled)
            await #expect(throws: StoreError.self) { _ = try await store.transition(batch.id, to: .queued, by: Actor(account)) }
            let other = Account(id: "acc2", username: "other", displayName: "Other", role: .enrollmentAdmin, scope: .district)
            #expect(try await store.batch(batch.id, visibleTo: other) == nil, "another account's batch is not visible")
            #expect(try await store.batches(visibleTo: account).map(\.id) == [batch.id])
        }
    }

    @Test("photos keep every earlier version", arguments: TestDatabase.all)
    func photos(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await Fixture.load(into: store)
            let hash1 = String(repeating: "a", count: 64), hash2 = String(repeating: "b", count: 64)
            try await store.addPhoto(userID: "0001", blobKey: hash1, thumbnailKey: hash1, contentHash: hash1, width: 600, height: 750, byteSize: 10, by: .system)
            try await store.addPhoto(userID: "0001", blobKey: hash2, thumbnailKey: hash2, contentHash: hash2, width: 600, height: 750, byteSize: 11, by: .system)
            let current = try #require(try await store.currentPhoto("0001"))
            #expect(current.version == 2)
            #expect(current.blobKey == hash2)
        }
    }

    @Test("the blob store is content-addressed and refuses keys that could be paths")
    func blobs() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sb-blobs-\(UUID().uuidString)")
        let blobs = try FileBlobStore(root: root)
        let key = try blobs.put(Data("hello".utf8))
        #expect(key == "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824")
        #expect(try blobs.put(Data("hello".utf8)) == key)
        #expect(try blobs.get(key) == Data("hello".utf8))
        #expect(throws: StoreError.self) { try blobs.get("../../etc/passwd") }
    }

    @Test("a large file read mapped is kept byte for byte: written straight to disk, its last part the usual way")
    func largeMappedBlob() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("sb-blobs-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let blobs = try FileBlobStore(root: root)
        // 3 MiB and 1,234 bytes: whole disk blocks, then a tail that fills none.
        let bytes = Data((0..<(3 << 20) + 1_234).map { UInt8(truncatingIfNeeded: ($0 &* 2_654_435_761) >> 13) })
        let source = root.appendingPathComponent("users.csv")
        try bytes.write(to: source)
        let mapped = try Data(contentsOf: source, options: .alwaysMapped)
        let key = try blobs.commit(try blobs.stage(mapped))
        #expect(key == FileBlobStore.key(for: bytes))
        #expect(try blobs.get(key) == bytes)
        // The same bytes not starting on a page of memory (a slice): written the usual way, kept the same.
        let shifted = Data([7] + bytes).dropFirst()
        let again = try FileBlobStore(root: root.appendingPathComponent("again"))
        let keyAgain = try again.commit(try again.stage(shifted))
        #expect(try again.get(keyAgain) == bytes)
    }
}

/// Two schools, a class, four students and a teacher.
enum Fixture {
    static func load(into store: Store) async throws {
        try await store.createSchool(School(key: "north", schoolID: "N", name: "North School"), by: .system)
        try await store.createSchool(School(key: "south", schoolID: "S", name: "South School"), by: .system)
        try await store.upsert(classes: [SchoolClass(classID: "N-1A", schoolKey: "north", name: "1A", grade: "01")])
        try await store.upsert(people: [
            Person(userID: "0001", role: .student, loginID: "19chanw1", firstName: "Wing Yan", lastName: "Chan", grade: "01", schoolKeys: ["north"]),
            Person(userID: "0002", role: .student, loginID: "19garciaj1", firstName: "José", lastName: "García", grade: "01", schoolKeys: ["north"]),
            Person(userID: "0003", role: .student, loginID: "18leem1", firstName: "Mia", lastName: "Lee", grade: "02", schoolKeys: ["north"]),
            Person(userID: "0004", role: .student, loginID: "19chenx1", firstName: "詠欣", lastName: "陳", grade: "01", status: .left, schoolKeys: ["south"]),
            Person(userID: "T1", role: .teacher, firstName: "Mei", lastName: "Wong", email: "ms.wong@school.example", schoolKeys: ["north"]),
        ])
        try await store.upsert(enrollments: [
            Enrollment(classID: "N-1A", userID: "0001", role: .student), Enrollment(classID: "N-1A", userID: "0002", role: .student),
            Enrollment(classID: "N-1A", userID: "T1", role: .teacher, primaryTeacher: true),
        ])
        try await store.upsert(demographics: [
            Demographics(userID: "0004", birthDate: "2015-03-04", sex: "female", flags: ["asian": true], homeLanguage: "yue", countryOfBirthCode: "HK")
        ])
    }
}
