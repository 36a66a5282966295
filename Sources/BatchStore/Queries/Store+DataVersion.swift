import BatchCore

extension Store {
    /// The version of the records a roster plan reads (`Migrations.addDataVersion`). Every writer of those records
    /// moves it on in its own transaction; a plan made at a version still holds while the version is the same.
    static func dataVersion(_ db: any SQLConnection) throws -> Int64 {
        try db.scalarInt("SELECT version FROM data_version WHERE id = 1")
    }

    /// Called by every writer of people, their schools, schools, classes, enrollments, demographics, photos and
    /// documents, inside the transaction that writes them.
    static func bumpDataVersion(_ db: any SQLConnection) throws {
        try db.execute("UPDATE data_version SET version = version + 1 WHERE id = 1")
    }
}
