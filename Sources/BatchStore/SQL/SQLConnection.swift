import BatchCore
import Foundation

/// A connection (inside a transaction when writing) on which statements run one after another.
///
/// SQL is written once with `?` placeholders; the PostgreSQL connection numbers them. Statements run
/// synchronously because GRDB, the SQLite library, runs transactions as synchronous closures on its own
/// queue; the PostgreSQL side runs the same closures on a thread of its own, off the event loops.
public protocol SQLConnection {
    var dialect: SQLDialect { get }
    /// Runs a statement and returns its rows.
    func query(_ sql: String, _ binds: [SQLValue]) throws -> [SQLRow]
    /// Runs a statement and hands each row to `body` as it is read, without gathering them (a snapshot of 1.4
    /// million enrollments is read this way: no array of rows, and on SQLite one row's cells reused).
    func forEachRow(_ sql: String, _ binds: [SQLValue], _ body: (SQLRow) throws -> Void) throws
    /// Runs a statement and returns how many rows it changed.
    @discardableResult func execute(_ sql: String, _ binds: [SQLValue]) throws -> Int
    /// Inserts many rows with the fastest path of the backend (a reused prepared statement on SQLite, COPY on
    /// PostgreSQL).
    /// How this connection takes a bulk insert's rows (`BulkRows`): laid out so by whoever makes them.
    var bulkLayout: BulkRows.Layout { get }
    /// Inserts the rows `next` hands out, a slice a call until it gives nil (each laid out as `bulkLayout`), as one
    /// bulk write: on PostgreSQL one COPY for them all (the server never waits between two slices), on SQLite a
    /// reused statement of several rows. A slice with a row of the wrong width is refused before it is written.
    func bulkInsert(table: String, columns: [String], packed next: @escaping () throws -> BulkRows?) throws
    /// Sets `columns` of many rows found by `key`; each row is the key's value, then the columns' values, by the
    /// fastest path of the backend (a reused prepared statement on SQLite, `UPDATE … FROM (VALUES …)` on PostgreSQL).
    func bulkUpdate(table: String, key: String, columns: [String], rows: [[SQLValue]]) throws
    /// Runs `main` on this connection and `side` on another connection at once, when the backend has one that sees
    /// what this transaction sees of the tables `side` reads, provided this transaction has not written them (SQLite:
    /// a reader of the pool, as the writer holds its IMMEDIATE transaction from its start, so nothing commits after
    /// the snapshot both see). Otherwise `side` runs on this connection after `main`.
    func beside<A: Sendable, B>(reading side: @escaping @Sendable (any SQLConnection) throws -> A, _ main: () throws -> B) throws -> (A, B)
}

extension SQLConnection {
    /// Inserts many rows with the fastest path of the backend (a reused prepared statement on SQLite, COPY on
    /// PostgreSQL).
    public func bulkInsert(table: String, columns: [String], rows: [[SQLValue]]) throws {
        guard !rows.isEmpty else { return }
        var rest: BulkRows? = BulkRows(rows, width: columns.count, layout: bulkLayout)
        try bulkInsert(table: table, columns: columns) {
            defer { rest = nil }
            return rest
        }
    }

    /// `bulkInsert(table:columns:packed:)` of slices of rows, each laid out here.
    public func bulkInsert(table: String, columns: [String], slices next: @escaping () throws -> [[SQLValue]]?) throws {
        let layout = bulkLayout
        try bulkInsert(table: table, columns: columns) { try next().map { BulkRows($0, width: columns.count, layout: layout) } }
    }

    public func beside<A: Sendable, B>(reading side: @escaping @Sendable (any SQLConnection) throws -> A, _ main: () throws -> B) throws -> (A, B) {
        try inTurn(side, main)
    }

    /// `beside` on this one connection: `main`, then `side`.
    func inTurn<A, B>(_ side: (any SQLConnection) throws -> A, _ main: () throws -> B) throws -> (A, B) {
        let value = try main()
        return (try side(self), value)
    }

    public func query(_ sql: String) throws -> [SQLRow] { try query(sql, []) }
    @discardableResult public func execute(_ sql: String) throws -> Int { try execute(sql, []) }
    public func first(_ sql: String, _ binds: [SQLValue] = []) throws -> SQLRow? { try query(sql, binds).first }
    /// Reads the rows first (PostgreSQL's connection gathers them anyway).
    public func forEachRow(_ sql: String, _ binds: [SQLValue], _ body: (SQLRow) throws -> Void) throws {
        for row in try query(sql, binds) { try body(row) }
    }

    /// `forEachRow` handing each row's cells where they are (`SQLCells`): on SQLite a text is read as its bytes in
    /// SQLite's own buffer, for loops over millions of rows that would otherwise make a string of every cell; on
    /// PostgreSQL from the row as `forEachRow` gives it.
    public func forEachRow(_ sql: String, _ binds: [SQLValue], cells body: (SQLCells) throws -> Void) throws {
        if let sqlite = self as? GRDBConnection { return try sqlite.forEachRowInPlace(sql, binds, body) }
        try forEachRow(sql, binds) { try body(SQLCells(row: $0)) }
    }
    /// Runs a statement with an `IN (…)` list over many values, in slices that stay well under both databases' bind
    /// limits; `make` gets each slice's placeholders. Returns the rows of every slice.
    ///
    /// A long list of texts (more than one slice) goes as one bound JSON array instead, read back as a set by the
    /// database (`json_each` on SQLite, `jsonb_array_elements_text` on PostgreSQL): one statement for 200,000
    /// values rather than 400.
    public func query(chunking values: [SQLValue], by size: Int = 500, _ make: (String) -> String) throws -> [SQLRow] {
        var rows: [SQLRow] = []
        try eachSlice(values, by: size, make) { sql, binds in
            let slice = try query(sql, binds)
            // (The one statement of a long list: its rows as they are, not copied into another array.)
            if rows.isEmpty { rows = slice } else { rows += slice }
        }
        return rows
    }

    /// `query(chunking:)` handing each row to `body` as it is read (`forEachRow`).
    public func forEachRow(chunking values: [SQLValue], by size: Int = 500, _ make: (String) -> String, _ body: (SQLRow) throws -> Void) throws {
        try eachSlice(values, by: size, make) { try forEachRow($0, $1, body) }
    }

    /// `forEachRow(chunking:)` handing each row's cells where they are (`SQLCells`).
    public func forEachRow(chunking values: [SQLValue], by size: Int = 500, _ make: (String) -> String, cells body: (SQLCells) throws -> Void) throws {
        try eachSlice(values, by: size, make) { try forEachRow($0, $1, cells: body) }
    }

    /// `query(chunking:)` for statements that return nothing.
    public func execute(chunking values: [SQLValue], by size: Int = 500, _ make: (String) -> String) throws {
        try eachSlice(values, by: size, make) { try execute($0, $1) }
    }

    /// The statements and binds of `query(chunking:)`: one with a JSON-array bind, or one a slice.
    private func eachSlice(
        _ values: [SQLValue], by size: Int, _ make: (String) -> String, _ run: (String, [SQLValue]) throws -> Void
    ) throws {
        if let set = textSet(values, over: size) { return try run(make(set.expression), [set.bind]) }
        for start in stride(from: 0, to: values.count, by: size) {
            let slice = Array(values[start..<min(start + size, values.count)])
            try run(make(placeholders(slice.count)), slice)
        }
    }

    /// The values as one JSON-array bind and the subquery that reads it as a set, when there are more than `size`
    /// of them and all are texts; nil otherwise.
    func textSet(_ values: [SQLValue], over size: Int) -> (expression: String, bind: SQLValue)? {
        guard values.count > size else { return nil }
        var texts: [String] = []
        texts.reserveCapacity(values.count)
        for value in values {
            guard case .text(let text) = value else { return nil }
            texts.append(text)
        }
        let expression = switch dialect {
        case .sqlite: "SELECT value FROM json_each(?)"
        case .postgres: "SELECT jsonb_array_elements_text(?::jsonb)"
        }
        return (expression, .text(FlatJSON.array(texts)))
    }

    public func scalarInt(_ sql: String, _ binds: [SQLValue] = []) throws -> Int64 {
        try query(sql, binds).first?.cells.first?.int ?? 0
    }

    /// Runs `load`, which inserts rows into `table`, with the table's indexes dropped first and made again after
    /// from their own definitions (read from the catalog), when the table is empty. Made at once, an index is a
    /// sort; kept while the rows go in, each row is put in its place. A state-size district's first roster on
    /// PostgreSQL (psql, same rows): its 1.43 million enrollments 4.6 s with their key and index, 1.8 s loaded and
    /// then indexed; its 206,000 people 1.9 s and 0.9 s (docs/decisions.md, round 22). In the caller's transaction:
    /// a rollback puts back what was dropped, and an index that finds a key given twice fails it. Kept as they are:
    /// on SQLite an index made for a constraint of the table's definition (it cannot be dropped), on PostgreSQL a
    /// key that another table's foreign key refers to. (PostgreSQL locks the table against readers until the
    /// transaction ends, as it does for any change of a table's definition.)
    public func withIndexesBuiltAfter(loading table: String, _ load: () throws -> Void) throws {
        guard try query("SELECT 1 FROM \(table) LIMIT 1").isEmpty else { return try load() }
        var drops: [String] = [], creates: [String] = []
        switch dialect {
        case .sqlite:
            let indexes = "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name"
            for row in try query(indexes, [.text(table)]) {
                drops.append("DROP INDEX \"\(try row.text(at: 0))\"")
                creates.append(try row.text(at: 1))
            }
        case .postgres:
            let constraints = """
                SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c
                WHERE c.conrelid = ?::regclass AND c.contype IN ('p', 'u')
                    AND NOT EXISTS (SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.conindid = c.conindid)
                ORDER BY c.conname
                """
            for row in try query(constraints, [.text(table)]) {
                let name = try row.text(at: 0)
                drops.append("ALTER TABLE \(table) DROP CONSTRAINT \"\(name)\"")
                creates.append("ALTER TABLE \(table) ADD CONSTRAINT \"\(name)\" \(try row.text(at: 1))")
            }
            let indexes = """
                SELECT c.relname, pg_get_indexdef(i.indexrelid) FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
                WHERE i.indrelid = ?::regclass AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
                ORDER BY c.relname
                """
            for row in try query(indexes, [.text(table)]) {
                drops.append("DROP INDEX \"\(try row.text(at: 0))\"")
                creates.append(try row.text(at: 1))
            }
        }
        for statement in drops { try execute(statement) }
        try load()
        for statement in creates { try execute(statement) }
    }

    /// Whether this transaction leaves the foreign keys to its own code (`DatabaseBackend.writeCheckingOwnKeys`).
    public func foreignKeysOff() throws -> Bool {
        switch dialect {
        case .sqlite: return try scalarInt("PRAGMA foreign_keys") == 0
        case .postgres:
            return try first("SELECT \(PostgresBackend.ownKeysHeld) AS own")?.bool("own") == true
        }
    }
}

/// A database: SQLite through GRDB or PostgreSQL through postgres-nio.
public protocol DatabaseBackend: Sendable {
    var dialect: SQLDialect { get }
    /// Runs a read-only closure on a connection.
    func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T
    /// Runs a closure in one transaction: everything it wrote is committed when it returns and rolled back when
    /// it throws.
    func write<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T
    /// `write`, for a body that checks the keys of what it writes itself (a roster's apply, `RosterWriter`): on
    /// SQLite the foreign keys are not checked row by row in this one transaction (`foreignKeysOff` tells the body),
    /// so the body may only insert rows whose parents it then checks, and must delete nothing a key would cascade
    /// to or protect. On PostgreSQL the statement triggers that check the roster tables' keys leave them to the body
    /// in this one transaction (`PostgresBackend.writeCheckingOwnKeys`); the body locks the parents it checks.
    func writeCheckingOwnKeys<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T
    func close() async throws
}

extension DatabaseBackend {
    public func writeCheckingOwnKeys<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await write(body)
    }
}

/// Builds `IN (?, ?, …)` lists and `WHERE` clauses with their binds.
public struct SQLFilter: Sendable {
    public private(set) var clauses: [String] = []
    public private(set) var binds: [SQLValue] = []
    public init() {}

    public mutating func add(_ clause: String, _ values: SQLValue...) {
        add(clause, binds: values)
    }

    public mutating func add(_ clause: String, binds values: [SQLValue]) {
        clauses.append(clause)
        binds.append(contentsOf: values)
    }

    /// `column IN (…)`; an empty list matches nothing.
    public mutating func add(column: String, in values: [SQLValue]) {
        add(in: values) { "\(column) IN (\($0))" }
    }

    /// A clause around an `IN` list (`make` gets the placeholders); an empty list matches nothing.
    public mutating func add(in values: [SQLValue], _ make: (String) -> String) {
        if values.isEmpty {
            add("1 = 0")
        } else {
            add(make(placeholders(values.count)), binds: values)
        }
    }

    public var whereClause: String { clauses.isEmpty ? "" : "WHERE " + clauses.joined(separator: " AND ") }
}

/// `?, ?, ?` for n placeholders.
public func placeholders(_ count: Int) -> String {
    Array(repeating: "?", count: count).joined(separator: ", ")
}
