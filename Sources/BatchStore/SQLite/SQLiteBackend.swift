import BatchCore
import CSQLiteConfig
import Foundation
import GRDB
import GRDBSQLite

/// SQLite through GRDB: a WAL database pool (many readers, one writer), foreign keys on (but for the writes that
/// check their own, `writeCheckingOwnKeys`).
public final class SQLiteBackend: DatabaseBackend {
    public let dialect = SQLDialect.sqlite
    let pool: DatabasePool
    /// Checkpoints the log beside the writer instead of inside its commits.
    let checkpointer: WALCheckpointer

    /// Opens (creating if needed) the database file at `path`. `writerCacheMB`: the page cache of the connection
    /// that writes (`AppConfig.sqliteWriterCacheMB`); readers keep 64 MB each.
    public init(path: String, writerCacheMB: Int = 64) throws {
        _ = Self.processSettings
        var configuration = Configuration()
        configuration.foreignKeysEnabled = true
        configuration.busyMode = .timeout(30)
        configuration.prepareDatabase { db in
            // 16 KB pages for a new database (an existing one keeps its own; this runs before WAL mode fixes the
            // size): a state-size roster writes a gigabyte of batch items in one transaction, and with pages four
            // times larger SQLite walks and writes a quarter as many (docs/decisions.md).
            try db.execute(sql: "PRAGMA page_size = 16384")
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
            // A 200,000-row batch changes far more pages than SQLite's default 2 MB cache holds: with a small
            // cache the transaction spills to the WAL and reads its own pages back (docs/benchmarks.md).
            try db.execute(sql: "PRAGMA cache_size = -65536")
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        let checkpointer = WALCheckpointer(path: path)
        self.checkpointer = checkpointer
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            // The one writer connection gets a larger cache: a state-size roster's apply changes gigabytes of pages
            // in one transaction, and every page the cache cannot hold is written to the WAL early and read back.
            let writerCacheKB = writerCacheMB * 1024
            try pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA cache_size = -\(writerCacheKB)")
                checkpointer.install(on: db)
            }
        } catch {
            throw StoreError.unavailable("cannot open SQLite database at \(path): \(error)")
        }
    }

    /// SQLite's process-wide settings, made once before its first connection opens: no memory statistics (each
    /// allocation SQLite made took a process-wide lock to count it; nothing here reads them, docs/decisions.md).
    static let processSettings: Int32 = schoolbatch_sqlite_memstatus_off()

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await mapErrors { try await pool.read { db in try body(GRDBConnection(db: db)) } }
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await mapErrors { try await pool.write { [pool] db in try body(GRDBConnection(db: db, readers: pool)) } }
    }

    /// The transaction runs with `PRAGMA foreign_keys = OFF` (a setting SQLite takes only outside a transaction),
    /// set back on before the writer connection serves anything else, whether the body committed or threw: through
    /// SQLite itself, which GRDB's refusal of statements after a cancelled task cannot stop, and checked. A roster's
    /// 1.4 million enrollments each looked up their class and person while inserted: in the `sqlite3` shell, 3.3 s
    /// with the keys and 2.1 s without (docs/decisions.md, round 16).
    public func writeCheckingOwnKeys<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await mapErrors {
            try await pool.writeWithoutTransaction { db in
                try db.execute(sql: "PRAGMA foreign_keys = OFF")
                let outcome = Result<T, any Error> {
                    var value: T?
                    try db.inTransaction(.immediate) {
                        value = try body(GRDBConnection(db: db, readers: pool))
                        return .commit
                    }
                    guard let value else { throw StoreError.corrupt("a write returned nothing") }
                    return value
                }
                // A writer left without its keys would let every later write skip them: that is no state to go on in.
                guard Self.foreignKeysOn(db.sqliteConnection) else {
                    preconditionFailure("SQLite's foreign keys could not be turned back on after a write that checked its own")
                }
                return try outcome.get()
            }
        }
    }

    /// Turns the connection's foreign keys on (outside a transaction) and tells whether they are.
    static func foreignKeysOn(_ connection: OpaquePointer?) -> Bool {
        guard let connection, sqlite3_exec(connection, "PRAGMA foreign_keys = ON", nil, nil, nil) == SQLITE_OK else { return false }
        var statement: OpaquePointer?
        guard sqlite3_prepare_v2(connection, "PRAGMA foreign_keys", -1, &statement, nil) == SQLITE_OK else { return false }
        defer { sqlite3_finalize(statement) }
        return sqlite3_step(statement) == SQLITE_ROW && sqlite3_column_int(statement, 0) == 1
    }

    /// Empties the log, then closes. SQLite removes the log when its last connection closes, but the pool closes its
    /// read-only connections last, and they may not: every command left the log behind at its largest (1.4 GB after a
    /// state-size roster import), for the next process to read through when it opens the database (about 5 s).
    public func close() async throws {
        checkpointer.close()
        // Busy (a reader still open) or failing: the log stays, as before, and the next open reads it.
        _ = try? await pool.writeWithoutTransaction { db in try db.checkpoint(.truncate) }
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
    /// The pool whose readers see what this writer's transaction saw at its start (`beside`); nil on a reader.
    var readers: DatabasePool? = nil
    var dialect: SQLDialect { .sqlite }

    func beside<A: Sendable, B>(reading side: @escaping @Sendable (any SQLConnection) throws -> A, _ main: () throws -> B) throws -> (A, B) {
        guard let readers else { return try inTurn(side, main) }
        let (read, value) = try Parallel.both({ Result { try readers.read { db in try side(GRDBConnection(db: db)) } } }) { try main() }
        return (try read.get(), value)
    }

    func query(_ sql: String, _ binds: [SQLValue]) throws -> [SQLRow] {
        var rows: [SQLRow] = []
        try step(sql, binds) { handle, columns, width in
            var cells: [SQLValue] = []
            cells.reserveCapacity(Int(width))
            for column in 0..<width { cells.append(Self.cell(handle, column)) }
            rows.append(SQLRow(columns: columns, cells: cells))
        }
        return rows
    }

    func forEachRow(_ sql: String, _ binds: [SQLValue], _ body: (SQLRow) throws -> Void) throws {
        var row: SQLRow?
        try step(sql, binds) { handle, columns, width in
            // One row's cells overwritten in place (a row `body` kept is copied first, as any value).
            if row == nil { row = SQLRow(columns: columns, cells: Array(repeating: .null, count: Int(width))) }
            for column in 0..<width { row!.cells[Int(column)] = Self.cell(handle, column) }
            try body(row!)
        }
    }

    /// `SQLConnection.forEachRow(_:_:cells:)`: each row's cells read in SQLite's own buffers.
    func forEachRowInPlace(_ sql: String, _ binds: [SQLValue], _ body: (SQLCells) throws -> Void) throws {
        try step(sql, binds) { handle, _, _ in try body(SQLCells(statement: handle)) }
    }

    /// Prepares and binds the statement, and calls `each` on every row it steps to.
    private func step(
        _ sql: String, _ binds: [SQLValue], _ each: (OpaquePointer, SQLColumns, Int32) throws -> Void
    ) throws {
        let statement = try db.makeStatement(sql: sql)
        let columns = SQLColumns(statement.columnNames)
        let handle = statement.sqliteStatement
        defer { withExtendedLifetime(statement) { _ = sqlite3_reset(handle) } }
        let width = Int32(columns.names.count)
        try withBound(BulkRows([binds], width: binds.count, layout: .cells), to: handle, sql: sql) {
            while true {
                let code = sqlite3_step(handle)
                if code == SQLITE_DONE { return }
                guard code == SQLITE_ROW else { throw failure(code, sql: sql) }
                try each(handle, columns, width)
            }
        }
    }

    func execute(_ sql: String, _ binds: [SQLValue]) throws -> Int {
        try db.execute(sql: sql, arguments: arguments(binds))
        return db.changesCount
    }

    var bulkLayout: BulkRows.Layout { .cells }

    func bulkInsert(table: String, columns: [String], packed next: @escaping () throws -> BulkRows?) throws {
        // Several rows a statement: SQLite keeps its cursors open from one row to the next of a statement, so a row
        // that goes after the last one of a B-tree (the items' keys and states, a first import's IDs) is placed
        // without walking down from the root again, and the statement's setup is paid once for all its rows
        // (docs/decisions.md, round 16). `OR FAIL`: a row that breaks a rule stops the statement but does not
        // undo the rows before it, as when each row was a statement of its own; otherwise SQLite copies every page
        // a statement changes first into a statement journal, to undo it alone (with several rows a statement that
        // made the 206,000 people slower to insert than one row a statement). A foreign key checked in the statement
        // makes SQLite keep that journal anyway. Every caller ends its transaction on the error.
        let perStatement = max(1, min(Self.rowsPerInsert, Self.bindsPerInsert / max(columns.count, 1)))
        let head = "INSERT OR FAIL INTO \(table) (\(columns.joined(separator: ", "))) VALUES "
        let one = "(\(placeholders(columns.count)))"
        // Every statement but the last of a slice has `perStatement` rows: prepared once, and again for a shorter one.
        var prepared: (rows: Int, statement: Statement, sql: String)?
        while let rows = try next() {
            try rows.check(table: table, layout: bulkLayout)
            for start in stride(from: 0, to: rows.count, by: perStatement) {
                let count = min(perStatement, rows.count - start)
                if prepared?.rows != count {
                    let sql = head + repeatElement(one, count: count).joined(separator: ", ")
                    prepared = (count, try db.makeStatement(sql: sql), sql)
                }
                guard let (_, statement, sql) = prepared else { return }
                try withExtendedLifetime(statement) { try run(statement.sqliteStatement, rows, start..<(start + count), sql: sql) }
            }
        }
    }

    /// Rows of one bulk insert statement, and at most this many values bound in it (SQLite allows 32,766).
    static let rowsPerInsert = 32
    static let bindsPerInsert = 512

    func bulkUpdate(table: String, key: String, columns: [String], rows: [[SQLValue]]) throws {
        guard !rows.isEmpty else { return }
        // One statement per row through the primary key: SQLite plans `UPDATE … FROM (VALUES …)` as a scan of the
        // table for every slice (7.8 s instead of under a second for 200,000 rows, docs/benchmarks.md). The key is
        // placeholder ?1, as it comes first in the row.
        let sql = "UPDATE \(table) SET " + columns.enumerated().map { "\($1) = ?\($0 + 2)" }.joined(separator: ", ") + " WHERE \(key) = ?1"
        let statement = try db.makeStatement(sql: sql)
        let packed = BulkRows(rows, width: columns.count + 1, layout: .cells)
        try packed.check(table: table, layout: bulkLayout)
        try withExtendedLifetime(statement) {
            for row in 0..<packed.count { try run(statement.sqliteStatement, packed, row..<(row + 1), sql: sql) }
        }
    }

    // Bulk statements bind and step through SQLite's own functions on GRDB's prepared statement: GRDB's
    // `StatementArguments` boxes every value in an existential and checks its count for every row, which was more
    // than half of a bulk insert's time (docs/decisions.md).

    /// Binds `range` of the rows and runs the statement to its end.
    private func run(_ handle: OpaquePointer, _ rows: BulkRows, _ range: Range<Int>, sql: String) throws {
        let code = try withBound(rows, range, to: handle, sql: sql) { sqlite3_step(handle) }
        sqlite3_reset(handle)
        guard code == SQLITE_DONE || code == SQLITE_ROW else { throw failure(code, sql: sql) }
    }

    /// Binds the values of rows `range` (all of them when nil) to a fresh statement, or to one `run` has reset, and
    /// calls `body` while they are bound. SQLite reads the texts and blobs where they are in the rows' bytes
    /// (`SQLITE_STATIC`): copying each of them had been a tenth of the writer's time when storing a state-size
    /// roster's items. A statement is stepped only within `body`, and every value is bound again before the next row.
    private func withBound<T>(
        _ rows: BulkRows, _ range: Range<Int>? = nil, to handle: OpaquePointer, sql: String, _ body: () throws -> T
    ) throws -> T {
        let range = range ?? 0..<rows.count
        let wanted = Int(sqlite3_bind_parameter_count(handle))
        guard range.count * rows.width == wanted, !rows.ragged else {
            throw DatabaseError(resultCode: .SQLITE_MISUSE, message: "\(range.count) rows of \(rows.width) values for \(wanted) placeholders", sql: sql)
        }
        func check(_ code: Int32) throws { guard code == SQLITE_OK else { throw failure(code, sql: sql) } }
        return try rows.bytes.withUnsafeBufferPointer { bytes in
            try rows.cells.withUnsafeBufferPointer { cells in
                var index: Int32 = 1
                for cell in cells[(range.lowerBound * rows.width)..<(range.upperBound * rows.width)] {
                    switch cell.kind {
                    case .null: try check(sqlite3_bind_null(handle, index))
                    case .int: try check(sqlite3_bind_int64(handle, index, cell.number))
                    case .double: try check(sqlite3_bind_double(handle, index, Double(bitPattern: UInt64(bitPattern: cell.number))))
                    case .text:
                        // (An empty text lends no address; SQLite would take a null pointer for NULL.)
                        let start = cell.count == 0 ? Self.empty : bytes.baseAddress! + Int(cell.number)
                        try check(sqlite3_bind_text(handle, index, start, cell.count, nil /* SQLITE_STATIC */))
                    case .blob:
                        let start = cell.count == 0 ? Self.empty : bytes.baseAddress! + Int(cell.number)
                        try check(sqlite3_bind_blob(handle, index, UnsafeRawPointer(start), cell.count, nil /* SQLITE_STATIC */))
                    }
                    index += 1
                }
                return try body()
            }
        }
    }

    /// The address given for an empty text or blob.
    nonisolated(unsafe) private static let empty: UnsafePointer<UInt8> = {
        let byte = UnsafeMutablePointer<UInt8>.allocate(capacity: 1)
        byte.initialize(to: 0)
        return UnsafePointer(byte)
    }()

    private func failure(_ code: Int32, sql: String) -> DatabaseError {
        let connection = db.sqliteConnection
        let extended = connection.map { sqlite3_extended_errcode($0) } ?? code
        let message = connection.flatMap { sqlite3_errmsg($0) }.map { String(cString: $0) }
        return DatabaseError(resultCode: ResultCode(rawValue: extended), message: message, sql: sql)
    }

    static func cell(_ handle: OpaquePointer, _ column: Int32) -> SQLValue {
        switch sqlite3_column_type(handle, column) {
        case SQLITE_NULL: return .null
        case SQLITE_INTEGER: return .int(sqlite3_column_int64(handle, column))
        case SQLITE_FLOAT: return .double(sqlite3_column_double(handle, column))
        case SQLITE_BLOB:
            let count = Int(sqlite3_column_bytes(handle, column))
            guard count > 0, let bytes = sqlite3_column_blob(handle, column) else { return .blob([]) }
            return .blob(Array(UnsafeRawBufferPointer(start: bytes, count: count)))
        default:
            guard let text = sqlite3_column_text(handle, column) else { return .text("") }
            let count = Int(sqlite3_column_bytes(handle, column))
            return .text(String(decoding: UnsafeBufferPointer(start: text, count: count), as: UTF8.self))
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
}

extension SQLCells {
    /// A cell's text as SQLite holds it (an integer or real cell is turned into its text by SQLite).
    static func withText<R>(_ statement: OpaquePointer, _ column: Int32, _ body: (UnsafeBufferPointer<UInt8>?) throws -> R) rethrows -> R {
        guard sqlite3_column_type(statement, column) != SQLITE_NULL else { return try body(nil) }
        guard let text = sqlite3_column_text(statement, column) else { return try body(UnsafeBufferPointer(start: nil, count: 0)) }
        return try body(UnsafeBufferPointer(start: text, count: Int(sqlite3_column_bytes(statement, column))))
    }

    /// A cell as a whole number, as `SQLValue.int` reads it (nil: NULL).
    static func int(_ statement: OpaquePointer, _ column: Int32) -> Int64? {
        if sqlite3_column_type(statement, column) == SQLITE_INTEGER { return sqlite3_column_int64(statement, column) }
        return GRDBConnection.cell(statement, column).int
    }

    /// A cell as a yes/no, as `SQLRow.bool(at:)` reads it (NULL is false).
    static func bool(_ statement: OpaquePointer, _ column: Int32) -> Bool {
        if sqlite3_column_type(statement, column) == SQLITE_INTEGER { return sqlite3_column_int64(statement, column) != 0 }
        return GRDBConnection.cell(statement, column).bool ?? false
    }
}
