import BatchCore
import Foundation

/// One stored version of a person's photo.
public struct PhotoRecord: Sendable, Hashable {
    public var photoID: String
    public var userID: UserID
    public var version: Int
    public var blobKey: String
    public var thumbnailKey: String
    public var contentHash: String
    public var width: Int
    public var height: Int
    public var byteSize: Int
    public var uploadedBy: String?
    public var batchID: BatchID?
    public var createdAt: Int64
}

extension Store {
    /// Makes a new current photo for a person; the previous one is kept as an earlier version.
    public func addPhoto(
        userID: UserID, blobKey: String, thumbnailKey: String, contentHash: String, width: Int, height: Int,
        byteSize: Int, by actor: Actor, batchID: BatchID? = nil
    ) async throws {
        try await backend.write { db in
            let version = try db.scalarInt("SELECT COALESCE(MAX(version), 0) AS v FROM photos WHERE user_id = ?", [.id(userID)]) + 1
            try db.execute("UPDATE photos SET is_current = FALSE WHERE user_id = ?", [.id(userID)])
            try db.execute(
                """
                INSERT INTO photos (photo_id, user_id, version, is_current, blob_key, thumbnail_key, content_hash, width,
                    height, byte_size, uploaded_by, batch_id, created_at) VALUES (?, ?, ?, TRUE, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    .text(UUID().uuidString.lowercased()), .id(userID), .int(version), .text(blobKey), .text(thumbnailKey),
                    .text(contentHash), .int(Int64(width)), .int(Int64(height)), .int(Int64(byteSize)),
                    .text(actor.name), .id(batchID), .int(Clock.nowMillis()),
                ])
        }
    }

    /// The person's current photo, if any.
    public func currentPhoto(_ userID: UserID) async throws -> PhotoRecord? {
        try await backend.read { db in try Self.currentPhoto(db, userID) }
    }

    static func currentPhoto(_ db: any SQLConnection, _ userID: UserID) throws -> PhotoRecord? {
        try db.first("SELECT * FROM photos WHERE user_id = ? AND is_current = TRUE", [.id(userID)]).map(PhotoRecord.init(row:))
    }

    /// The people a query selects (all pages) and the current photos of those who have one.
    public func photos(for query: PersonQuery) async throws
        -> (students: [PersonListRow], photos: [(person: PersonListRow, photo: PhotoRecord)])
    {
        try await backend.read { db in
            let found = try Self.studentsWithCurrent(
                db, query, table: "photos", order: "user_id", filter: { _ in }, decode: PhotoRecord.init(row:), owner: \.userID)
            return (found.students, found.records.map { (person: $0.person, photo: $0.record) })
        }
    }

    /// One stored photo version by its id.
    public func photo(id: String) async throws -> PhotoRecord? {
        try await backend.read { db in
            try db.first("SELECT * FROM photos WHERE photo_id = ?", [.text(id)]).map(PhotoRecord.init(row:))
        }
    }

    /// Every version of a person's photo, newest first.
    public func photoVersions(_ userID: UserID) async throws -> [PhotoRecord] {
        try await backend.read { db in
            try db.query("SELECT * FROM photos WHERE user_id = ? ORDER BY version DESC", [.id(userID)]).map(PhotoRecord.init(row:))
        }
    }
}

extension PhotoRecord {
    init(row: SQLRow) throws {
        self.init(
            photoID: try row.text("photo_id"), userID: UserID(rawValue: try row.text("user_id")), version: Int(try row.int("version")),
            blobKey: try row.text("blob_key"), thumbnailKey: try row.text("thumbnail_key"),
            contentHash: try row.text("content_hash"), width: Int(try row.int("width")),
            height: Int(try row.int("height")), byteSize: Int(try row.int("byte_size")),
            uploadedBy: row.optionalText("uploaded_by"),
            batchID: row.optionalText("batch_id").map(BatchID.init(rawValue:)), createdAt: try row.int("created_at"))
    }
}
