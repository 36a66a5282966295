import BatchCore
import Foundation

/// The application's storage: every query the pages, the API, the workers and the command line need, written
/// once against `DatabaseBackend` and so the same on SQLite and PostgreSQL.
public final class Store: Sendable {
    public let backend: any DatabaseBackend

    public init(backend: any DatabaseBackend) {
        self.backend = backend
    }

    /// Opens the database the configuration names: PostgreSQL when `databaseURL` is a `postgres://` URL, else the
    /// SQLite file `schoolbatch.sqlite` in the data directory (created if needed), its writer's page cache
    /// `sqliteWriterCacheMB`.
    public static func open(databaseURL: String?, dataDirectory: URL, sqliteWriterCacheMB: Int = 64) throws -> Store {
        if let url = databaseURL, !url.isEmpty {
            return Store(backend: try PostgresBackend(url: url))
        }
        try FileManager.default.createDirectory(at: dataDirectory, withIntermediateDirectories: true)
        let path = dataDirectory.appendingPathComponent("schoolbatch.sqlite").path
        return Store(backend: try SQLiteBackend(path: path, writerCacheMB: sqliteWriterCacheMB))
    }

    /// Creates or updates the schema and the district's settings row. `migrations`: all of them, or (in a test of
    /// one) the schema as it was before some.
    public func migrate(_ migrations: [Migration] = Migrations.all) async throws {
        try await Migrator.migrate(backend, migrations: migrations)
        let defaults = DistrictSettings()
        try await backend.write { db in
            try db.execute(
                """
                INSERT INTO district_settings (id, district_name, batch_upload_enabled, grade_levels, document_types,
                    change_threshold)
                VALUES (1, ?, ?, ?, ?, ?) ON CONFLICT (id) DO NOTHING
                """,
                [
                    .text(defaults.districtName), .bool(defaults.batchUploadEnabled),
                    .text(JSONText.encode(defaults.gradeLevels)), .text(JSONText.encode(defaults.documentTypes)),
                    .int(Int64(defaults.changeThreshold)),
                ])
        }
    }

    public func close() async throws { try await backend.close() }
}

/// Who is making a change, for the audit log.
public struct Actor: Sendable, Hashable {
    public var id: AccountID?
    public var name: String
    public init(id: AccountID?, name: String) {
        self.id = id
        self.name = name
    }
    /// Changes made by the command line or the system itself.
    public static let system = Actor(id: nil, name: "system")

    public init(_ account: Account) { self.init(id: account.id, name: account.username) }
}

/// A page of results with the total for paging.
public struct Page<Item: Sendable>: Sendable {
    public var items: [Item]
    public var total: Int
    public var offset: Int
    public var limit: Int
    public init(items: [Item], total: Int, offset: Int, limit: Int) {
        self.items = items
        self.total = total
        self.offset = offset
        self.limit = limit
    }
}

/// Small JSON helpers for the few columns that hold lists or maps as text.
public enum JSONText {
    public static func encode<T: Encodable>(_ value: T) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return (try? String(decoding: encoder.encode(value), as: UTF8.self)) ?? "null"
    }
    public static func decode<T: Decodable>(_ type: T.Type, _ text: String?) -> T? {
        guard let text else { return nil }
        return try? JSONDecoder().decode(type, from: Data(text.utf8))
    }
}
