import BatchCore
import Foundation

/// One row of the Students or Staff list.
public struct PersonListRow: Sendable, Hashable {
    public var person: Person
    public var schoolNames: [String]
    public var classNames: [String]
    public var hasPhoto: Bool
    /// External IDs of the person's schools (by school name) and classes (by class name), for file-name patterns.
    public var schoolIDs: [String] = []
    public var classIDs: [String] = []
}

/// A class a person belongs to, as the student page shows it.
public struct PersonClass: Sendable, Hashable {
    public var schoolClass: SchoolClass
    public var schoolName: String
    public var role: UserRole
    public var primaryTeacher: Bool
}

/// Everything the student page shows.
public struct PersonDetail: Sendable {
    public var person: Person
    public var schools: [School]
    public var classes: [PersonClass]
    public var demographics: Demographics?
    public var photo: PhotoRecord?
}

/// A class with its school and number of students, for filters and the classes API.
public struct ClassSummary: Sendable, Hashable {
    public var schoolClass: SchoolClass
    public var schoolName: String
    public var students: Int
}

extension Store {
    static let personColumns = """
        p.user_id, p.user_role, p.login_id, p.first_name, p.middle_name, p.last_name, p.preferred_first_name,
        p.user_email, p.user_grade, p.user_status, p.user_district_id, p.user_state_id
        """

    /// A page of people matching the list filters, by last name.
    public func people(_ query: PersonQuery) async throws -> Page<PersonListRow> {
        try await backend.read { db in try Self.people(db, query) }
    }

    static func people(_ db: any SQLConnection, _ query: PersonQuery) throws -> Page<PersonListRow> {
        do {
            let filter = query.filter
            let total = Int(try db.scalarInt("SELECT COUNT(*) AS n FROM people p \(filter.whereClause)", filter.binds))
            let rows = try db.query(
                """
                SELECT \(Self.personColumns) FROM people p \(filter.whereClause)
                ORDER BY p.last_name, p.first_name, p.user_id LIMIT ? OFFSET ?
                """, filter.binds + [.int(Int64(query.limit)), .int(Int64(query.offset))])
            var people = try rows.map { try Person(row: $0, schoolKeys: []) }
            let ids = people.map { SQLValue.id($0.userID) }
            var schoolNames: [UserID: [String]] = [:]
            var classNames: [UserID: [String]] = [:]
            var schoolIDs: [UserID: [String]] = [:]
            var classIDs: [UserID: [String]] = [:]
            var withPhoto: Set<UserID> = []
            if !ids.isEmpty {
                let list = placeholders(ids.count)
                for row in try db.query(
                    """
                    SELECT ps.user_id, ps.school_key, s.school_id, s.name FROM person_schools ps
                    JOIN schools s ON s.school_key = ps.school_key WHERE ps.user_id IN (\(list)) ORDER BY s.name
                    """, ids)
                {
                    let id = UserID(rawValue: try row.text("user_id"))
                    schoolNames[id, default: []].append(try row.text("name"))
                    if let schoolID = row.optionalText("school_id") { schoolIDs[id, default: []].append(schoolID) }
                    if let index = people.firstIndex(where: { $0.userID == id }) {
                        people[index].schoolKeys.append(SchoolKey(rawValue: try row.text("school_key")))
                    }
                }
                for row in try db.query(
                    """
                    SELECT e.user_id, c.class_id, c.class_name FROM enrollments e JOIN classes c ON c.class_id = e.class_id
                    WHERE e.user_id IN (\(list)) ORDER BY c.class_name
                    """, ids)
                {
                    let id = UserID(rawValue: try row.text("user_id"))
                    classNames[id, default: []].append(try row.text("class_name"))
                    classIDs[id, default: []].append(try row.text("class_id"))
                }
                for row in try db.query(
                    "SELECT user_id FROM photos WHERE is_current = TRUE AND user_id IN (\(list))", ids)
                {
                    withPhoto.insert(UserID(rawValue: try row.text("user_id")))
                }
            }
            let items = people.map { person in
                PersonListRow(
                    person: person, schoolNames: schoolNames[person.userID] ?? [],
                    classNames: classNames[person.userID] ?? [], hasPhoto: withPhoto.contains(person.userID),
                    schoolIDs: schoolIDs[person.userID] ?? [], classIDs: classIDs[person.userID] ?? [])
            }
            return Page(items: items, total: total, offset: query.offset, limit: query.limit)
        }
    }

    /// One person with schools, classes, demographics and photo — nil when missing or outside the scope.
    public func person(_ userID: UserID, scope: AccessScope) async throws -> PersonDetail? {
        try await backend.read { db in
            guard let row = try db.first("SELECT \(Self.personColumns) FROM people p WHERE p.user_id = ?", [.id(userID)])
            else { return nil }
            let schools = try db.query(
                """
                SELECT s.school_key, s.school_id, s.name FROM person_schools ps
                JOIN schools s ON s.school_key = ps.school_key WHERE ps.user_id = ? ORDER BY s.name
                """, [.id(userID)]
            ).map(School.init(row:))
            guard scope.allows(anyOf: schools.map(\.key)) else { return nil }
            let person = try Person(row: row, schoolKeys: schools.map(\.key))
            let classes = try db.query(
                """
                SELECT c.class_id, c.school_key, c.class_name, c.class_grade, c.class_subject, s.name AS school_name,
                    e.role, e.primary_teacher
                FROM enrollments e JOIN classes c ON c.class_id = e.class_id JOIN schools s ON s.school_key = c.school_key
                WHERE e.user_id = ? ORDER BY c.class_name
                """, [.id(userID)]
            ).map { row in
                PersonClass(
                    schoolClass: try SchoolClass(row: row), schoolName: try row.text("school_name"),
                    role: UserRole(rawValue: try row.text("role")) ?? .student,
                    primaryTeacher: row.bool("primary_teacher"))
            }
            let demographics = try db.first("SELECT * FROM demographics WHERE user_id = ?", [.id(userID)])
                .map(Demographics.init(row:))
            let photo = try Self.currentPhoto(db, userID)
            return PersonDetail(person: person, schools: schools, classes: classes, demographics: demographics, photo: photo)
        }
    }

    /// Classes visible in a scope, optionally of one school, by name.
    public func classes(scope: AccessScope, schoolKey: SchoolKey? = nil) async throws -> [ClassSummary] {
        try await backend.read { db in
            var filter = SQLFilter()
            if let keys = scope.schoolKeys { filter.add(column: "c.school_key", in: keys.sorted().map { .id($0) }) }
            if let schoolKey { filter.add("c.school_key = ?", .id(schoolKey)) }
            return try db.query(
                """
                SELECT c.class_id, c.school_key, c.class_name, c.class_grade, c.class_subject, s.name AS school_name,
                    (SELECT COUNT(*) FROM enrollments e WHERE e.class_id = c.class_id AND e.role = 'student') AS students
                FROM classes c JOIN schools s ON s.school_key = c.school_key \(filter.whereClause)
                ORDER BY s.name, c.class_name, c.class_id
                """, filter.binds
            ).map { row in
                ClassSummary(
                    schoolClass: try SchoolClass(row: row), schoolName: try row.text("school_name"),
                    students: Int(try row.int("students")))
            }
        }
    }

    /// Creates or updates people (every field, and their schools). Used by the demo and by roster batches.
    public func upsert(people: [Person]) async throws {
        try await backend.write { db in try Self.upsert(db, people: people) }
    }

    static func upsert(_ db: any SQLConnection, people: [Person]) throws {
        try bumpDataVersion(db)
        let now = Clock.nowMillis()
        for person in people {
            try db.execute(
                """
                INSERT INTO people (user_id, user_role, login_id, first_name, middle_name, last_name,
                    preferred_first_name, user_email, email_key, user_grade, user_status, user_district_id,
                    user_state_id, search_text, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                ON CONFLICT (user_id) DO UPDATE SET user_role = excluded.user_role, login_id = excluded.login_id,
                    first_name = excluded.first_name, middle_name = excluded.middle_name,
                    last_name = excluded.last_name, preferred_first_name = excluded.preferred_first_name,
                    user_email = excluded.user_email, email_key = excluded.email_key,
                    user_grade = excluded.user_grade, user_status = excluded.user_status,
                    user_district_id = excluded.user_district_id, user_state_id = excluded.user_state_id,
                    search_text = excluded.search_text, updated_at = excluded.updated_at
                """,
                [
                    .id(person.userID), .text(person.role.rawValue), .id(person.loginID), .text(person.firstName),
                    .optional(person.middleName), .text(person.lastName), .optional(person.preferredFirstName),
                    .optional(person.email), .optional(person.email.map(Self.emailKey)), .optional(person.grade),
                    .text(person.status.rawValue), .optional(person.districtID), .optional(person.stateID),
                    .text(person.searchText), .int(now), .int(now),
                ])
            try db.execute("DELETE FROM person_schools WHERE user_id = ?", [.id(person.userID)])
            for key in Set(person.schoolKeys).sorted() {
                try db.execute(
                    "INSERT INTO person_schools (user_id, school_key) VALUES (?, ?)", [.id(person.userID), .id(key)])
            }
        }
    }

    /// E-mail addresses are unique compared case-insensitively.
    public static func emailKey(_ email: String) -> String { email.nfc.lowercased() }

    /// Creates or updates classes.
    public func upsert(classes: [SchoolClass]) async throws {
        try await backend.write { db in
            try Self.bumpDataVersion(db)
            let now = Clock.nowMillis()
            for item in classes {
                try db.execute(
                    """
                    INSERT INTO classes (class_id, school_key, class_name, class_grade, class_subject, created_at, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (class_id) DO UPDATE SET school_key = excluded.school_key,
                        class_name = excluded.class_name, class_grade = excluded.class_grade,
                        class_subject = excluded.class_subject, updated_at = excluded.updated_at
                    """,
                    [
                        .id(item.classID), .id(item.schoolKey), .text(item.name), .optional(item.grade),
                        .optional(item.subject), .int(now), .int(now),
                    ])
            }
        }
    }

    /// Creates or updates enrollments.
    public func upsert(enrollments: [Enrollment]) async throws {
        try await backend.write { db in
            try Self.bumpDataVersion(db)
            for item in enrollments {
                try db.execute(
                    """
                    INSERT INTO enrollments (class_id, user_id, role, primary_teacher) VALUES (?, ?, ?, ?)
                    ON CONFLICT (class_id, user_id) DO UPDATE SET role = excluded.role,
                        primary_teacher = excluded.primary_teacher
                    """, [.id(item.classID), .id(item.userID), .text(item.role.rawValue), .bool(item.primaryTeacher)])
            }
        }
    }

    /// Creates or updates demographics.
    public func upsert(demographics: [Demographics]) async throws {
        try await backend.write { db in
            try Self.bumpDataVersion(db)
            let now = Clock.nowMillis()
            for item in demographics {
                try db.execute(
                    """
                    INSERT INTO demographics (user_id, birth_date, sex, flags, home_language, country_of_birth_code,
                        updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (user_id) DO UPDATE SET birth_date = excluded.birth_date, sex = excluded.sex,
                        flags = excluded.flags, home_language = excluded.home_language,
                        country_of_birth_code = excluded.country_of_birth_code, updated_at = excluded.updated_at
                    """,
                    [
                        .id(item.userID), .optional(item.birthDate), .optional(item.sex),
                        .text(Demographics.flagsText(item.flags)), .optional(item.homeLanguage),
                        .optional(item.countryOfBirthCode), .int(now),
                    ])
            }
        }
    }

    /// How many people of each kind exist (the demo uses it to stay idempotent; pages use it for totals).
    public func peopleCount(role: UserRole? = nil) async throws -> Int {
        try await backend.read { db in
            if let role {
                return Int(try db.scalarInt("SELECT COUNT(*) AS n FROM people WHERE user_role = ?", [.text(role.rawValue)]))
            }
            return Int(try db.scalarInt("SELECT COUNT(*) AS n FROM people"))
        }
    }
}

extension Person {
    init(row: SQLRow, schoolKeys: [SchoolKey]) throws {
        self.init(
            userID: UserID(rawValue: try row.text("user_id")),
            role: UserRole(rawValue: try row.text("user_role")) ?? .staff,
            loginID: row.optionalText("login_id").map(LoginID.init(rawValue:)),
            firstName: try row.text("first_name"), middleName: row.optionalText("middle_name"),
            lastName: try row.text("last_name"), preferredFirstName: row.optionalText("preferred_first_name"),
            email: row.optionalText("user_email"), grade: row.optionalText("user_grade"),
            status: UserStatus(rawValue: try row.text("user_status")) ?? .active,
            districtID: row.optionalText("user_district_id"), stateID: row.optionalText("user_state_id"),
            schoolKeys: schoolKeys)
    }
}

extension SchoolClass {
    init(row: SQLRow) throws {
        self.init(
            classID: ClassID(rawValue: try row.text("class_id")), schoolKey: SchoolKey(rawValue: try row.text("school_key")),
            name: try row.text("class_name"), grade: row.optionalText("class_grade"),
            subject: row.optionalText("class_subject"))
    }
}

extension Demographics {
    init(row: SQLRow) throws {
        self.init(
            userID: UserID(rawValue: try row.text("user_id")), birthDate: row.optionalText("birth_date"),
            sex: row.optionalText("sex"), flags: Demographics.flags(stored: row.optionalText("flags")),
            homeLanguage: row.optionalText("home_language"), countryOfBirthCode: row.optionalText("country_of_birth_code"))
    }
}

extension Store {
    /// Inserts people, classes and enrollments that do not exist yet, in one transaction, through the backend's
    /// bulk path (a reused prepared statement on SQLite, COPY on PostgreSQL).
    public func insertNew(people: [Person], classes: [SchoolClass] = [], enrollments: [Enrollment] = []) async throws {
        try await backend.write { db in
            try Self.bumpDataVersion(db)
            let now = Clock.nowMillis()
            try db.bulkInsert(
                table: "classes",
                columns: ["class_id", "school_key", "class_name", "class_grade", "class_subject", "created_at", "updated_at"],
                rows: classes.map {
                    [.id($0.classID), .id($0.schoolKey), .text($0.name), .optional($0.grade), .optional($0.subject), .int(now), .int(now)]
                })
            try db.bulkInsert(
                table: "people",
                columns: [
                    "user_id", "user_role", "login_id", "first_name", "middle_name", "last_name", "preferred_first_name",
                    "user_email", "email_key", "user_grade", "user_status", "user_district_id", "user_state_id",
                    "search_text", "created_at", "updated_at",
                ],
                rows: people.map { person in
                    [
                        .id(person.userID), .text(person.role.rawValue), .id(person.loginID), .text(person.firstName),
                        .optional(person.middleName), .text(person.lastName), .optional(person.preferredFirstName),
                        .optional(person.email), .optional(person.email.map(Self.emailKey)), .optional(person.grade),
                        .text(person.status.rawValue), .optional(person.districtID), .optional(person.stateID),
                        .text(person.searchText), .int(now), .int(now),
                    ]
                })
            try db.bulkInsert(
                table: "person_schools", columns: ["user_id", "school_key"],
                rows: people.flatMap { person in Set(person.schoolKeys).sorted().map { [.id(person.userID), .id($0)] } })
            try db.bulkInsert(
                table: "enrollments", columns: ["class_id", "user_id", "role", "primary_teacher"],
                rows: enrollments.map { [.id($0.classID), .id($0.userID), .text($0.role.rawValue), .bool($0.primaryTeacher)] })
        }
        try await analyze()
    }

    /// Refreshes the planner's statistics after a bulk change, so list queries keep choosing good plans.
    public func analyze() async throws {
        try await backend.write { db in
            switch db.dialect {
            case .sqlite: try db.execute("ANALYZE")
            case .postgres: try db.execute("ANALYZE people, person_schools, enrollments, classes")
            }
        }
    }
}
