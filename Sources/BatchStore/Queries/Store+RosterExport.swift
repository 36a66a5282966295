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

    /// Writes users.csv (and, when `demographics` is given, demographics.csv for the students) a page of people at a
    /// time through the sinks; returns the number of users.csv rows.
    @discardableResult
    public func exportRoster(
        _ export: RosterExportQuery, users: @escaping @Sendable (String) throws -> Void,
        demographics: (@Sendable (String) throws -> Void)? = nil
    ) async throws -> Int {
        try await backend.read { db in
            var query = export.people ?? PersonQuery(kind: export.include, scope: export.scope, schoolKey: export.schoolKey)
            query.limit = 500
            if !export.userIDs.isEmpty { query.anyOfPeople = export.userIDs }
            try users(CSVWriter.line(RosterGenerator.usersHeader))
            try demographics?(CSVWriter.line(RosterGenerator.demographicsHeader))
            let schools = Dictionary(
                try db.query("SELECT school_key, school_id, name FROM schools").map { row in
                    (try row.text("school_key"), (id: row.optionalText("school_id") ?? "", name: try row.text("name")))
                }, uniquingKeysWith: { a, _ in a })
            var rows = 0
            var offset = 0
            while true {
                query.offset = offset
                let page = try Self.people(db, query)
                guard !page.items.isEmpty else { break }
                let ids = page.items.map { SQLValue.id($0.person.userID) }
                var classes: [String: [SQLRow]] = [:]
                for row in try db.query(
                    chunking: ids,
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
                var text = ""
                for item in page.items {
                    let p = item.person
                    let person = [
                        p.userID.rawValue, p.role.rawValue, p.loginID?.rawValue ?? "", p.firstName, p.lastName, p.middleName ?? "",
                        p.preferredFirstName ?? "", p.email ?? "", p.grade ?? "", p.status.rawValue, p.districtID ?? "", p.stateID ?? "",
                    ]
                    // Classes of the chosen school (or of any school the account sees).
                    let own = classes[p.userID.rawValue, default: []].filter { row in
                        let key = SchoolKey(rawValue: row.optionalText("school_key") ?? "")
                        return export.schoolKey.map { $0 == key } ?? export.scope.allows(key)
                    }
                    if own.isEmpty {
                        for key in p.schoolKeys where export.schoolKey.map({ $0 == key }) ?? export.scope.allows(key) {
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
                try users(text)
                if let demographics {
                    let students = page.items.filter { $0.person.role == .student }.map { SQLValue.id($0.person.userID) }
                    var lines = ""
                    for row in try db.query(
                        chunking: students, { "SELECT * FROM demographics WHERE user_id IN (\($0)) ORDER BY user_id" })
                    {
                        let d = try Demographics(row: row)
                        lines += CSVWriter.line(
                            [d.userID.rawValue, d.birthDate ?? "", d.sex ?? ""]
                                + Demographics.flagColumns.map { column in d.flags[column.column].map { $0 ? "true" : "false" } ?? "" }
                                + [d.homeLanguage ?? "", d.countryOfBirthCode ?? ""])
                    }
                    try demographics(lines)
                }
                offset += page.items.count
                if offset >= page.total { break }
            }
            return rows
        }
    }
}
