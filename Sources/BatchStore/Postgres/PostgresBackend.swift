import BatchCore
import Foundation
import Logging
import NIOCore
import NIOSSL
import PostgresNIO

/// PostgreSQL through postgres-nio's connection pool.
///
/// The store's statements are synchronous closures (see `SQLConnection`); here they run on a thread of their
/// own that waits on the connection's futures, never on an event loop.
public final class PostgresBackend: DatabaseBackend {
    public let dialect = SQLDialect.postgres
    let client: PostgresClient
    let logger: Logger
    private let runTask: Task<Void, Never>

    /// Connects to a `postgres://user[:password]@host[:port]/database[?sslmode=require&search_path=schema]` URL. `searchPath` puts every table in a
    /// schema of its own (the tests use it to isolate runs).
    public init(url: String, searchPath: String? = nil, logger: Logger = Logger(label: "schoolbatch.postgres")) throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme,
            scheme == "postgres" || scheme == "postgresql", let host = components.host
        else {
            throw StoreError.unavailable("DATABASE_URL is not a postgres:// URL: \(url)")
        }
        let database = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
        let wantsTLS = components.queryItems?.first(where: { $0.name == "sslmode" })?.value == "require"
        var configuration = PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: components.user ?? "postgres",
            password: components.password, database: database.isEmpty ? nil : database,
            tls: wantsTLS ? .require(.makeClientConfiguration()) : .disable)
        // `?search_path=schema` in the URL does the same for processes started from the command line.
        if let searchPath = searchPath ?? components.queryItems?.first(where: { $0.name == "search_path" })?.value {
            configuration.options.additionalStartupParameters = [("search_path", searchPath)]
        }
        self.logger = logger
        var poolLogger = logger
        poolLogger.handler = PoolLogHandler(inner: logger.handler)
        let client = PostgresClient(configuration: configuration, backgroundLogger: poolLogger)
        self.client = client
        runTask = Task { await client.run() }
    }

    /// The pool's log, less one warning. postgres-nio warns when a connection is asked for before `run()` has been
    /// called. `init` starts `run()` at once, but a command that uses the database at once can still ask in the
    /// instant before that task reaches it (seen now and then, more under load; a gate opened just before `run()` made
    /// it rarer, not gone). The request then waits in the pool's queue and is served as soon as the pool runs, so the
    /// warning tells a user nothing, and is left out. Everything else the pool logs is passed on.
    struct PoolLogHandler: LogHandler {
        var inner: any LogHandler
        static let leaseBeforeRun = "Trying to lease connection from `PostgresClient`, but `PostgresClient.run()`"

        var metadata: Logger.Metadata {
            get { inner.metadata }
            set { inner.metadata = newValue }
        }
        var logLevel: Logger.Level {
            get { inner.logLevel }
            set { inner.logLevel = newValue }
        }
        var metadataProvider: Logger.MetadataProvider? {
            get { inner.metadataProvider }
            set { inner.metadataProvider = newValue }
        }
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { inner[metadataKey: key] }
            set { inner[metadataKey: key] = newValue }
        }

        func log(event: LogEvent) {
            if event.level == .warning, event.message.description.hasPrefix(Self.leaseBeforeRun) { return }
            inner.log(event: event)
        }
    }

    public func read<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await run(transaction: false, body)
    }

    public func write<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await run(transaction: true, body)
    }

    /// The setting by which a transaction says it checks its roster keys itself (migration
    /// `CheckOwnRosterKeysOnPostgres`): its value is that transaction's ID, so that it holds for no other.
    static let ownKeysSetting = "schoolbatch.own_keys"
    /// True in the transaction that set `ownKeysSetting`.
    static let ownKeysHeld = "current_setting('\(ownKeysSetting)', true) = pg_current_xact_id()::text"

    /// The roster tables' key triggers leave this one transaction's keys to the body (set local to the transaction,
    /// to its ID), which looks up and locks each parent its new rows name (`RosterWriter.check`).
    public func writeCheckingOwnKeys<T: Sendable>(_ body: @escaping @Sendable (any SQLConnection) throws -> T) async throws -> T {
        try await run(transaction: true) { db in
            _ = try db.query("SELECT set_config('\(Self.ownKeysSetting)', pg_current_xact_id()::text, true)", [])
            return try body(db)
        }
    }

    public func close() async throws {
        runTask.cancel()
    }

    /// The pool handed out a connection the server had already ended, and nothing was run on it.
    private struct EndedBeforeStart: Error {}

    /// A statement or transaction whose connection the server ended before answering.
    static let connectionEnded = StoreError.unavailable("PostgreSQL closed the connection before answering")

    private func run<T: Sendable>(
        transaction: Bool, _ body: @escaping @Sendable (any SQLConnection) throws -> T
    ) async throws -> T {
        // Just after the server ends a connection, the pool can still hand it out (seen in a loaded test run: the
        // write after five ended ones failed at its BEGIN). Nothing has run on it then, so the work is run once more
        // on another connection.
        do {
            return try await runOnce(transaction: transaction, body)
        } catch is EndedBeforeStart {
            logger.warning("PostgreSQL had ended the connection the pool handed out; running on another")
            do {
                return try await runOnce(transaction: transaction, body)
            } catch is EndedBeforeStart {
                throw PostgresBackend.connectionEnded
            }
        }
    }

    private func runOnce<T: Sendable>(
        transaction: Bool, _ body: @escaping @Sendable (any SQLConnection) throws -> T
    ) async throws -> T {
        let logger = self.logger
        do {
            return try await client.withConnection { connection in
                try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                    DispatchQueue.global(qos: .userInitiated).async {
                        let sql = BlockingPostgresConnection(connection: connection, logger: logger)
                        if connection.isClosed {
                            continuation.resume(throwing: EndedBeforeStart())
                            return
                        }
                        do {
                            guard transaction else {
                                continuation.resume(returning: try body(sql))
                                return
                            }
                            // READ COMMITTED whatever the server's default: the statement triggers that check the
                            // roster tables' keys need each query to see what committed before it, as a key's own
                            // check does (migration CheckRosterKeysByStatementOnPostgres).
                            do {
                                try sql.execute("BEGIN ISOLATION LEVEL READ COMMITTED")
                            } catch where connection.isClosed {
                                throw EndedBeforeStart()
                            }
                            do {
                                let value = try body(sql)
                                try sql.execute("COMMIT")
                                continuation.resume(returning: value)
                            } catch {
                                do {
                                    try sql.execute("ROLLBACK")
                                } catch let rollback {
                                    // Still inside the transaction, or unknown: closed, so that the pool makes a new
                                    // connection instead of handing this one on with the transaction open.
                                    logger.error("ROLLBACK failed (\(rollback)); closing the connection")
                                    sql.close()
                                }
                                throw error
                            }
                        } catch {
                            continuation.resume(throwing: error)
                        }
                    }
                }
            }
        } catch let error as StoreError {
            throw error
        } catch let error as EndedBeforeStart {
            throw error
        } catch let error as PSQLError {
            throw Self.map(error)
        } catch where String(reflecting: type(of: error)).hasPrefix("PostgresNIO.") {
            // The pool or the connection failed.
            throw StoreError.unavailable("\(error)")
        }
    }

    static func map(_ error: PSQLError) -> StoreError {
        if let state = error.serverInfo?[.sqlState], state == "23505" {
            return .duplicate(error.serverInfo?[.message] ?? "unique constraint")
        }
        let message = error.serverInfo?[.message] ?? "\(error.code)"
        return .unavailable("PostgreSQL: \(message)")
    }
}

/// The result a task leaves for the thread waiting on it (`BlockingPostgresConnection.waitFor`), set before the
/// thread is woken.
private final class Outcome<T>: @unchecked Sendable {
    var result: Result<T, any Error> = .failure(StoreError.unavailable("PostgreSQL: no answer"))
}

/// One pooled connection seen as a `SQLConnection`; every call waits for its result.
struct BlockingPostgresConnection: SQLConnection {
    let connection: PostgresConnection
    let logger: Logger
    var dialect: SQLDialect { .postgres }

    /// The rows come through postgres-nio's row sequence, each made into a `SQLRow` as it arrives. Its future-based
    /// `query` gathers the rows in an array that it copies whole each time a batch of rows arrives: reading a state-size
    /// district's 1.43 million enrollments spent most of a 29 s roster plan copying rows (docs/decisions.md, round 15).
    func query(_ sql: String, _ binds: [SQLValue]) throws -> [SQLRow] {
        let query = PostgresQuery(unsafeSQL: Self.numberPlaceholders(sql), binds: Self.bindings(binds))
        let connection = self.connection, logger = self.logger
        return try waitFor {
            var rows: [SQLRow] = []
            var columns: SQLColumns?
            for try await row in try await connection.query(query, logger: logger) {
                var cells: [SQLValue] = []
                cells.reserveCapacity(columns?.names.count ?? 8)
                var names: [String] = []
                for cell in row {
                    cells.append(try Self.value(cell))
                    if columns == nil { names.append(cell.columnName) }
                }
                if columns == nil { columns = SQLColumns(names) }
                rows.append(SQLRow(columns: columns!, cells: cells))
            }
            return rows
        }
    }

    /// Closes the connection (the pool then drops it); an error closing it is only logged.
    func close() {
        let connection = self.connection
        do {
            try waitFor { try await connection.close() }
        } catch {
            logger.error("closing a PostgreSQL connection failed: \(error)")
        }
    }

    func execute(_ sql: String, _ binds: [SQLValue]) throws -> Int {
        try run(sql, binds).metadata.rows ?? 0
    }

    var bulkLayout: BulkRows.Layout { .copyText }

    /// `COPY … FROM STDIN` (text format): the rows go as one stream, with no statement to parse and no binds per row.
    /// One COPY for every slice: with a COPY a slice, the server waited between two for the next one's first rows,
    /// and the writer for the server to finish the last (docs/decisions.md, round 20). Each slice comes as COPY's text
    /// already (made on the other cores, `BulkRows`), and goes a megabyte at a time, so the server starts storing a
    /// slice before the whole of it is sent.
    func bulkInsert(table: String, columns: [String], packed next: @escaping () throws -> BulkRows?) throws {
        let connection = self.connection, logger = self.logger
        // Called only while `waitFor` waits here: never at once with anything else that `next` touches.
        let source = Unchecked(next)
        try waitFor {
            try await connection.copyFrom(table: table, columns: columns, logger: logger) { writer in
                let piece = 1 << 20
                while let rows = try source.value() {
                    try rows.check(table: table, layout: .copyText)
                    var start = 0
                    while start < rows.bytes.count {
                        let end = min(start + piece, rows.bytes.count)
                        try await writer.write(ByteBuffer(bytes: rows.bytes[start..<end]))
                        start = end
                    }
                }
            }
        }
    }

    /// A value handed to the concurrency pool's task that `waitFor` waits for.
    private struct Unchecked<T>: @unchecked Sendable {
        let value: T
        init(_ value: T) { self.value = value }
    }

    /// Runs `work` (postgres-nio's async calls) on the concurrency pool and waits for it here: this thread is one of
    /// the store's own (`PostgresBackend.run`), never one of the pool's. The server's errors become `StoreError`s.
    private func waitFor<T: Sendable>(_ work: @escaping @Sendable () async throws -> T) throws -> T {
        let outcome = Outcome<T>()
        let done = DispatchSemaphore(value: 0)
        Task {
            do { outcome.result = .success(try await work()) } catch { outcome.result = .failure(error) }
            done.signal()
        }
        // A statement sent as the server ends the connection may never be answered (seen once in a loaded test run:
        // a transaction's closing statement after `pg_terminate_backend`): while waiting, the connection is looked
        // at once a second, and once it is closed, its answer is given a second more, then the wait ends with an
        // error instead of never.
        var answered = false
        while !answered {
            answered = done.wait(timeout: .now() + .seconds(1)) == .success
            if !answered && connection.isClosed {
                answered = done.wait(timeout: .now() + .seconds(1)) == .success
                if !answered { throw PostgresBackend.connectionEnded }
            }
        }
        do {
            return try outcome.result.get()
        } catch let error as PSQLError {
            throw PostgresBackend.map(error)
        }
    }

    func bulkUpdate(table: String, key: String, columns: [String], rows: [[SQLValue]]) throws {
        guard !rows.isEmpty else { return }
        let width = columns.count + 1
        let perStatement = max(1, 60_000 / width)
        let names = ["k"] + columns.indices.map { "c\($0)" }
        let assignments = columns.indices.map { "\(columns[$0]) = v.c\($0)" }.joined(separator: ", ")
        var start = 0
        while start < rows.count {
            let chunk = rows[start..<min(rows.count, start + perStatement)]
            let tuples = Array(repeating: "(\(placeholders(width)))", count: chunk.count).joined(separator: ", ")
            let sql = "WITH v(\(names.joined(separator: ", "))) AS (VALUES \(tuples)) "
                + "UPDATE \(table) SET \(assignments) FROM v WHERE \(table).\(key) = v.k"
            try execute(sql, chunk.flatMap { $0 })
            start += perStatement
        }
    }

    private func run(_ sql: String, _ binds: [SQLValue]) throws -> PostgresQueryResult {
        let query = PostgresQuery(unsafeSQL: Self.numberPlaceholders(sql), binds: Self.bindings(binds))
        let connection = self.connection, logger = self.logger
        return try waitFor { try await connection.query(query, logger: logger).get() }
    }

    static func bindings(_ binds: [SQLValue]) -> PostgresBindings {
        var bindings = PostgresBindings(capacity: binds.count)
        for value in binds {
            switch value {
            case .null: bindings.appendNull()
            case .int(let i): bindings.append(i)
            case .double(let d): bindings.append(d)
            case .text(let s): bindings.append(s)
            case .bool(let b): bindings.append(b)
            case .blob(let bytes): bindings.append(ByteBuffer(bytes: bytes))
            }
        }
        return bindings
    }

    /// Turns `?` placeholders into `$1, $2, …`, leaving quoted text alone.
    static func numberPlaceholders(_ sql: String) -> String {
        var result = ""
        result.reserveCapacity(sql.utf8.count + 16)
        var number = 0
        var inQuote = false
        for character in sql {
            if character == "'" { inQuote.toggle() }
            if character == "?" && !inQuote {
                number += 1
                result += "$\(number)"
            } else {
                result.append(character)
            }
        }
        return result
    }

    static func value(_ cell: PostgresCell) throws -> SQLValue {
        guard cell.bytes != nil else { return .null }
        switch cell.dataType {
        case .bool: return .bool(try cell.decode(Bool.self))
        case .int2, .int4, .int8: return .int(try cell.decode(Int64.self))
        case .float4, .float8: return .double(try cell.decode(Double.self))
        case .numeric: return .double(Double(try cell.decode(String.self)) ?? 0)
        case .bytea:
            var buffer = try cell.decode(ByteBuffer.self)
            return .blob(buffer.readBytes(length: buffer.readableBytes) ?? [])
        default: return .text(try cell.decode(String.self))
        }
    }
}
