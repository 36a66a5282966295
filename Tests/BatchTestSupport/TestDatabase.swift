import BatchStore
import Foundation

/// The databases a store test runs on: SQLite always, PostgreSQL when `SCHOOLBATCH_TEST_POSTGRES_URL` names a
/// server (`make test` starts a throwaway one). Each test gets a database of its own: a new SQLite file, or a new
/// PostgreSQL schema.
public enum TestDatabase: String, Sendable, CaseIterable, CustomStringConvertible {
    case sqlite, postgres

    public var description: String { rawValue }

    public static var postgresURL: String? {
        ProcessInfo.processInfo.environment["SCHOOLBATCH_TEST_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
    }

    /// SQLite, plus PostgreSQL when a server is available.
    public static var all: [TestDatabase] { postgresURL == nil ? [.sqlite] : [.sqlite, .postgres] }

    /// A fresh, migrated store; closed after `body`. `migrations`: the schema's history up to where the test starts.
    public func withStore<T>(migrations: [Migration] = Migrations.all, _ body: (Store) async throws -> T) async throws -> T {
        let store = try await makeLocatedStore(migrations: migrations).store
        do {
            let result = try await body(store)
            try await store.close()
            return result
        } catch {
            try? await store.close()
            throw error
        }
    }

    /// A fresh, migrated store the caller closes.
    public func makeStore() async throws -> Store {
        try await makeLocatedStore().store
    }

    /// A fresh, migrated store, with the environment that points a `schoolbatch` process at the same database
    /// (`SCHOOLBATCH_DATA_DIR` for SQLite, `DATABASE_URL` for PostgreSQL).
    public func makeLocatedStore(migrations: [Migration] = Migrations.all) async throws -> (
        store: Store, environment: [String: String], dataDirectory: URL
    ) {
        let store: Store
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sb-test-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // An empty DATABASE_URL means SQLite in the data directory, whatever the test run's environment says.
        var environment = ["SCHOOLBATCH_DATA_DIR": directory.path, "DATABASE_URL": ""]
        switch self {
        case .sqlite:
            store = Store(backend: try SQLiteBackend(path: directory.appendingPathComponent("schoolbatch.sqlite").path))
        case .postgres:
            guard let url = Self.postgresURL else { throw TestDatabaseError.noPostgres }
            let schema = "t_\(UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased())"
            let admin = try PostgresBackend(url: url)
            try await admin.write { db in try db.execute("CREATE SCHEMA \(schema)") }
            try await admin.close()
            store = Store(backend: try PostgresBackend(url: url, searchPath: schema))
            environment["DATABASE_URL"] = url + (url.contains("?") ? "&" : "?") + "search_path=\(schema)"
        }
        try await store.migrate(migrations)
        return (store, environment, directory)
    }
}

public enum TestDatabaseError: Error { case noPostgres }
