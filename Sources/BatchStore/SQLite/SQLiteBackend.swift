import Foundation
import GRDB

/// SQLite through GRDB: a WAL database pool (many readers, one writer), foreign keys on.
public final class SQLiteBackend: DatabaseBackend {
    public let dialect = SQLDialect.sqlite
    let pool: DatabasePool

    /// Opens (creating if needed) the database file at `path`.
    public init(path: String) throws {
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(30)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // A 200,000-row batch changes far more pages than SQLite's default 2 MB cache holds: with a small
            // cache the transaction spills to the WAL and reads its own pages back (docs/benchmarks.md).
            try db.execute(sql: "PRAGMA cache_size = -65536")
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
        } catch {
            throw StoreError.unavailable("cannot open SQLite database at \(path): \(error)")
        }
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await mapErrors { try await pool.read { db in try body(GRDBConnection(db: db)) } }
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await mapErrors { try await pool.write { db in try body(GRDBConnection(db: db)) } }
    }

    public func close() async throws {
        try pool.close()
    }

    private func mapErrors<T>(_ work: () async throws -> T) async throws -> T {
        do {
            return try await work()
        } catch let error as DatabaseError {
            if error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE
                || error.extendedResultCode == .SQLITE_CONSTRAINT_PRIMARYKEY
            {
                throw StoreError.duplicate(error.message ?? "unique constraint")
            }
            throw StoreError.unavailable("\(error)")
        }
    }
}

/// One GRDB database handle seen as a `SQLConnection`.
struct GRDBConnection: SQLConnection {
    let db: Database
    var dialect: SQLDialect { .sqlite }

    func query(_ sql: String, _ binds: [SQLValue]) throws -> [SQLRow] {
        let statement = try db.makeStatement(sql: sql)
        let columns = SQLColumns(statement.columnNames)
        let cursor = try Row.fetchCursor(statement, arguments: arguments(binds))
        var rows: [SQLRow] = []
        while let row = try cursor.next() {
            var cells: [SQLValue] = []
            cells.reserveCapacity(columns.names.count)
            for (_, dbValue) in row { cells.append(Self.value(dbValue)) }
            rows.append(SQLRow(columns: columns, cells: cells))
        }
        return rows
    }

    func execute(_ sql: String, _ binds: [SQLValue]) throws -> Int {
        try db.execute(sql: sql, arguments: arguments(binds))
        return db.changesCount
    }

    func bulkInsert(table: String, columns: [String], rows: [[SQLValue]]) throws {
        guard !rows.isEmpty else { return }
        let statement = try db.makeStatement(
            sql: "INSERT INTO \(table) (\(columns.joined(separator: ", "))) VALUES (\(placeholders(columns.count)))")
        for row in rows {
            try statement.execute(arguments: arguments(row))
        }
    }

    func bulkUpdate(table: String, key: String, columns: [String], rows: [[SQLValue]]) throws {
        guard !rows.isEmpty else { return }
        // One statement per row through the primary key: SQLite plans `UPDATE … FROM (VALUES …)` as a scan of the
        // table for every slice (7.8 s instead of under a second for 200,000 rows, docs/benchmarks.md).
        let assignments = columns.map { "\($0) = ?" }.joined(separator: ", ")
        let statement = try db.makeStatement(sql: "UPDATE \(table) SET \(assignments) WHERE \(key) = ?")
        for row in rows {
            try statement.execute(arguments: arguments(Array(row.dropFirst()) + [row[0]]))
        }
    }

    private func arguments(_ binds: [SQLValue]) -> StatementArguments {
        // Through the initialiser of optional existentials: the one taking `[DatabaseValue]` maps with a key path
        // that, unspecialised in GRDB, is instantiated again for every call — 70 % of a bulk insert's time.
        StatementArguments(binds.map { Self.databaseValue($0) as (any DatabaseValueConvertible)? })
    }

    static func databaseValue(_ value: SQLValue) -> DatabaseValue {
        switch value {
        case .null: .null
        case .int(let i): i.databaseValue
        case .double(let d): d.databaseValue
        case .text(let s): s.databaseValue
        case .bool(let b): (b ? Int64(1) : Int64(0)).databaseValue
        case .blob(let bytes): Data(bytes).databaseValue
        }
    }

    static func value(_ dbValue: DatabaseValue) -> SQLValue {
        switch dbValue.storage {
        case .null: .null
        case .int64(let i): .int(i)
        case .double(let d): .double(d)
        case .string(let s): .text(s)
        case .blob(let data): .blob([UInt8](data))
        }
    }
}
