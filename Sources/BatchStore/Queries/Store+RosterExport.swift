import BatchCore
import Foundation

/// *Download your data* (SPEC §4.5): the current roster in exactly the upload format — users.csv with one row per
/// person per class (a person without a class: one row per school, class columns empty) and demographics.csv —
/// so that download → edit → upload is a clean round trip. Cells a spreadsheet would run as a formula are
/// neutralised by `CSVWriter`.
extension Store {
    /// Who is exported: everyone the scope sees, optionally one school, students / staff / all, or chosen people.
    public struct RosterExportQuery: Sendable {
        public var scope: AccessScope
        public var schoolKey: SchoolKey?
        public var include: PersonQuery.Kind
        public var userIDs: [UserID]
        /// The people of a list page's filters instead (search, grade, class, status), as the list shows them.
        public var people: PersonQuery?

        public init(
            scope: AccessScope, schoolKey: SchoolKey? = nil, include: PersonQuery.Kind = .all, userIDs: [UserID] = [],
            people: PersonQuery? = nil
        ) {
            self.scope = scope
            self.schoolKey = schoolKey
            self.include = include
            self.userIDs = userIDs
            self.people = people
        }
    }

    /// Writes users.csv (when `users` is given) and demographics.csv (when `demographics` is, for the students) through
    /// the sinks, 500 people at a time, in the people list's order (last name, first name, userId); returns the number
    /// of users.csv rows.
    ///
    /// The people are found and sorted once (their userIds only), then read 500 at a time by userId, each 500's lines
    /// written on another thread while the next 500 are read. Read as the list pages are (a page at a growing offset,
    /// its total counted again each time), a state-size district's export had taken 120–126 s: each of its 412 pages
    /// sorted all 206,000 people again to skip to its place (docs/decisions.md, round 26).
    @discardableResult
    public func exportRoster(
        _ export: RosterExportQuery, users: (@Sendable (String) throws -> Void)?,
        demographics: (@Sendable (String) throws -> Void)? = nil
    ) async throws -> Int {
        try await backend.read { db in
            var query = export.people ?? PersonQuery(kind: export.include, scope: export.scope, schoolKey: export.schoolKey)
            if !export.userIDs.isEmpty { query.anyOfPeople = export.userIDs }
            try users?(CSVWriter.byteOrderMark + CSVWriter.line(RosterGenerator.usersHeader))
            try demographics?(CSVWriter.byteOrderMark + CSVWriter.line(RosterGenerator.demographicsHeader))
            let schools = Dictionary(
                try db.query("SELECT school_key, school_id, name FROM schools").map { row in
                    (try row.text("school_key"), (id: row.optionalText("school_id") ?? "", name: try row.text("name")))
                }, uniquingKeysWith: { a, _ in a })
            // The tables are read by key all over (people in name order): mapped, SQLite reads their pages in place
            // instead of copying each one out of the file (a third of a state-size export's time).
            if db.dialect == .sqlite { _ = try db.execute("PRAGMA mmap_size = 4294967296", []) }
            defer { if db.dialect == .sqlite { _ = try? db.execute("PRAGMA mmap_size = 0", []) } }
            let filter = query.filter
            let everyone = try db.query(
                "SELECT p.user_id FROM people p \(filter.whereClause) ORDER BY p.last_name, p.first_name, p.user_id", filter.binds
            ).map { SQLValue.text(try $0.text(at: 0)) }
            let lines = RosterExportLines(export: export, schools: schools, withUsers: users != nil, withDemographics: demographics != nil)
            var rows = 0
            var writing: InBackground<Result<RosterExportLines.Written, any Error>>?
            func written() throws {
                guard let done = try writing?.take()?.get() else { return }
                try users?(done.users)
                try demographics?(done.demographics)
                rows += done.rows
            }
            // On an error, no writing is left running once this returns.
            defer { writing?.wait() }
            for chunk in everyone.chunked(500) {
                let read = try lines.read(Array(chunk), on: db)
                try written()
                writing = InBackground { Result { try lines.write(read) } }
            }
            try written()
            return rows
        }
    }
}

/// The users.csv and demographics.csv lines of 500 people at a time: read on the database's thread, written on another.
struct RosterExportLines: Sendable {
    let export: Store.RosterExportQuery
    let schools: [String: (id: String, name: String)]
    let withUsers: Bool
    let withDemographics: Bool

    /// What 500 people's lines are made of.
    struct Read: Sendable {
        var people: [Person]
        var classes: [String: [SQLRow]]
        var demographics: [SQLRow]
    }

    struct Written: Sendable {
        var users: String
        var demographics: String
        var rows: Int
    }

    /// The people `ids` (in that order) with their schools and classes (for users.csv) and, for students,
    /// demographics (for demographics.csv).
    func read(_ ids: [SQLValue], on db: any SQLConnection) throws -> Read {
        var byID: [String: Person] = [:]
        for row in try db.query(chunking: ids, { "SELECT \(Store.personColumns) FROM people p WHERE p.user_id IN (\($0))" }) {
            let person = try Person(row: row, schoolKeys: [])
            byID[person.userID.rawValue] = person
        }
        for row in try db.query(
            chunking: withUsers ? ids : [],
            {
                """
                SELECT ps.user_id, ps.school_key FROM person_schools ps JOIN schools s ON s.school_key = ps.school_key
                WHERE ps.user_id IN (\($0)) ORDER BY s.name
                """
            })
        {
            byID[try row.text("user_id")]?.schoolKeys.append(SchoolKey(rawValue: try row.text("school_key")))
        }
        var classes: [String: [SQLRow]] = [:]
        for row in try db.query(
            chunking: withUsers ? ids : [],
            {
                """
                SELECT e.user_id, e.primary_teacher, c.class_id, c.school_key, c.class_name, c.class_grade, c.class_subject
                FROM enrollments e JOIN classes c ON c.class_id = e.class_id WHERE e.user_id IN (\($0))
                ORDER BY c.class_id
                """
            })
        {
            classes[try row.text("user_id"), default: []].append(row)
        }
        let people = ids.compactMap { $0.text.flatMap { byID[$0] } }
        var demographics: [SQLRow] = []
        if withDemographics {
            let students = people.filter { $0.role == .student }.map { SQLValue.id($0.userID) }
            demographics = try db.query(chunking: students, { "SELECT * FROM demographics WHERE user_id IN (\($0)) ORDER BY user_id" })
        }
        return Read(people: people, classes: classes, demographics: demographics)
    }

    /// Classes of the chosen school (or of any school the account sees), and the schools of a person without one.
    func exported(_ key: SchoolKey) -> Bool { export.schoolKey.map { $0 == key } ?? export.scope.allows(key) }

    func write(_ read: Read) throws -> Written {
        var text = ""
        var rows = 0
        // (A demographics.csv alone: no users.csv lines.)
        for p in withUsers ? read.people : [] {
            let person = [
                p.userID.rawValue, p.role.rawValue, p.loginID?.rawValue ?? "", p.firstName, p.lastName, p.middleName ?? "",
                p.preferredFirstName ?? "", p.email ?? "", p.grade ?? "", p.status.rawValue, p.districtID ?? "", p.stateID ?? "",
            ]
            let own = read.classes[p.userID.rawValue, default: []].filter { row in exported(SchoolKey(rawValue: row.optionalText("school_key") ?? "")) }
            if own.isEmpty {
                for key in p.schoolKeys where exported(key) {
                    let school = schools[key.rawValue] ?? ("", "")
                    text += CSVWriter.line(["", school.id, school.name] + person + ["", "", "", "", ""])
                    rows += 1
                }
            }
            for row in own {
                let school = schools[row.optionalText("school_key") ?? ""] ?? ("", "")
                text += CSVWriter.line(
                    ["", school.id, school.name] + person + [
                        try row.text("class_id"), try row.text("class_name"), row.optionalText("class_grade") ?? "",
                        row.optionalText("class_subject") ?? "", row.bool("primary_teacher") ? "true" : "",
                    ])
                rows += 1
            }
        }
        var lines = ""
        for row in read.demographics {
            let d = try Demographics(row: row)
            lines += CSVWriter.line(
                [d.userID.rawValue, d.birthDate ?? "", d.sex ?? ""]
                    + Demographics.flagColumns.map { column in d.flags[column.column].map { $0 ? "true" : "false" } ?? "" }
                    + [d.homeLanguage ?? "", d.countryOfBirthCode ?? ""])
        }
        return Written(users: text, demographics: lines, rows: rows)
    }
}
