import BatchCore

/// A school with how many people and classes it has, for the Schools page.
public struct SchoolSummary: Sendable, Hashable {
    public var school: School
    public var students: Int
    public var staff: Int
    public var classes: Int
}

extension Store {
    /// Every school of the district, by name.
    public func schools() async throws -> [School] {
        try await backend.read { db in try Self.schools(db) }
    }

    static func schools(_ db: any SQLConnection) throws -> [School] {
        try db.query("SELECT school_key, school_id, name FROM schools ORDER BY name, school_id").map(School.init(row:))
    }

    /// Schools with their counts, limited to a scope.
    public func schoolSummaries(scope: AccessScope) async throws -> [SchoolSummary] {
        try await backend.read { db in
            let students = try Self.countsBySchool(
                db, """
                SELECT ps.school_key AS k, COUNT(*) AS n FROM person_schools ps JOIN people p ON p.user_id = ps.user_id
                WHERE p.user_role = 'student' GROUP BY ps.school_key
                """)
            let staff = try Self.countsBySchool(
                db, """
                SELECT ps.school_key AS k, COUNT(*) AS n FROM person_schools ps JOIN people p ON p.user_id = ps.user_id
                WHERE p.user_role <> 'student' GROUP BY ps.school_key
                """)
            let classes = try Self.countsBySchool(db, "SELECT school_key AS k, COUNT(*) AS n FROM classes GROUP BY school_key")
            return try Self.schools(db).filter { scope.allows($0.key) }.map { school in
                SchoolSummary(
                    school: school, students: students[school.key] ?? 0, staff: staff[school.key] ?? 0,
                    classes: classes[school.key] ?? 0)
            }
        }
    }

    private static func countsBySchool(_ db: any SQLConnection, _ sql: String) throws -> [SchoolKey: Int] {
        var counts: [SchoolKey: Int] = [:]
        for row in try db.query(sql) {
            counts[SchoolKey(rawValue: try row.text("k"))] = Int(try row.int("n"))
        }
        return counts
    }

    public func school(key: SchoolKey) async throws -> School? {
        try await backend.read { db in
            try db.first("SELECT school_key, school_id, name FROM schools WHERE school_key = ?", [.id(key)])
                .map(School.init(row:))
        }
    }

    public func school(id: SchoolID) async throws -> School? {
        try await backend.read { db in
            try db.first("SELECT school_key, school_id, name FROM schools WHERE school_id = ?", [.id(id)])
                .map(School.init(row:))
        }
    }

    /// Adds a school. A school ID already in use is refused with a message naming the other school.
    public func createSchool(_ school: School, by actor: Actor) async throws {
        try await backend.write { db in
            try Self.bumpDataVersion(db)
            try Self.refuseDuplicateSchoolID(db, school.schoolID, except: nil)
            let now = Clock.nowMillis()
            try db.execute(
                "INSERT INTO schools (school_key, school_id, name, created_at, updated_at) VALUES (?, ?, ?, ?, ?)",
                [.id(school.key), .id(school.schoolID), .text(school.name), .int(now), .int(now)])
            try Self.appendAudit(
                db, actor: actor, action: "school.create", targetType: "school", targetID: school.key.rawValue,
                changes: AuditEntry.diff(before: [:], after: ["schoolId": school.schoolID?.rawValue, "name": school.name]))
        }
    }

    /// Changes a school's ID and name.
    public func updateSchool(_ school: School, by actor: Actor) async throws {
        try await backend.write { db in
            try Self.bumpDataVersion(db)
            guard
                let before = try db.first(
                    "SELECT school_key, school_id, name FROM schools WHERE school_key = ?", [.id(school.key)]
                ).map(School.init(row:))
            else { throw StoreError.notFound("That school does not exist.") }
            try Self.refuseDuplicateSchoolID(db, school.schoolID, except: school.key)
            try db.execute(
                "UPDATE schools SET school_id = ?, name = ?, updated_at = ? WHERE school_key = ?",
                [.id(school.schoolID), .text(school.name), .int(Clock.nowMillis()), .id(school.key)])
            let changes = AuditEntry.diff(
                before: ["schoolId": before.schoolID?.rawValue, "name": before.name],
                after: ["schoolId": school.schoolID?.rawValue, "name": school.name])
            if !changes.isEmpty {
                try Self.appendAudit(
                    db, actor: actor, action: "school.update", targetType: "school", targetID: school.key.rawValue,
                    changes: changes)
            }
        }
    }

    private static func refuseDuplicateSchoolID(_ db: any SQLConnection, _ id: SchoolID?, except key: SchoolKey?) throws {
        guard let id else { return }
        if let other = try db.first("SELECT school_key, school_id, name FROM schools WHERE school_id = ?", [.id(id)])
            .map(School.init(row:)), other.key != key
        {
            throw StoreError.duplicate("The school ID “\(id)” is already used by \(other.name). Each school needs its own ID.")
        }
    }
}

extension School {
    init(row: SQLRow) throws {
        self.init(
            key: SchoolKey(rawValue: try row.text("school_key")),
            schoolID: row.optionalText("school_id").map(SchoolID.init(rawValue:)),
            name: try row.text("name"))
    }
}
