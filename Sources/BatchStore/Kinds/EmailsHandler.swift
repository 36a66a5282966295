import BatchCore
import Foundation

/// The student e-mail batch (SPEC §6) on the shared lifecycle: one CSV of `loginId` (or `userId`) and
/// `userEmail`; each row becomes an item that changes one student's `userEmail`.
public struct EmailsHandler: BatchKindHandler {
    public let kind = BatchKind.emails
    public let limits = UploadLimits(maxFileBytes: 20 * 1024 * 1024, maxFiles: 1, extensions: ["csv", "txt"])

    public init() {}

    public func inspect(fileName: String, bytes: Data, firstItemID: Int64, batch: Batch) throws -> FileInspection {
        switch CSVTable.read(bytes: bytes, fileName: fileName, dictionary: EmailBatch.dictionary) {
        case .failure(let rejection): throw rejection
        case .success(let table):
            return FileInspection(items: EmailBatch.items(from: table, firstID: firstItemID), warnings: table.warnings, columns: table.columns)
        }
    }

    public func plan(_ items: [BatchItem], batch: Batch, on db: any SQLConnection) throws -> [BatchItem] {
        let students = try StudentLookup.find(items, on: db)
        var addresses: [String] = []
        for item in items { if let address = item.input["userEmail"], !address.isEmpty { addresses.append(address) } }
        let owners = try StudentLookup.owners(ofAddresses: addresses, on: db)
        // Students whose address this batch changes: the address they hold now is free for another row.
        var movingAway: Set<UserID> = []
        for item in items where item.state != .skipped && !item.issues.contains(where: { $0.severity == .error && $0.planned != true }) {
            if let student = students.student(for: item), let address = item.input["userEmail"],
                Store.emailKey(student.email ?? "") != Store.emailKey(address)
            {
                movingAway.insert(student.userID)
            }
        }
        return items.map { item in
            var item = item
            item.issues.removeAll { $0.planned == true }
            item.changes = []
            if item.state == .skipped { return item }
            if item.issues.contains(where: { $0.severity == .error }) {
                item.state = .error
                return item
            }
            let keyColumn = item.input["loginId"] != nil ? "loginId" : "userId"
            let given = item.manualTarget ?? item.input[keyColumn] ?? ""
            guard let student = students.student(for: item), batch.scope.allows(anyOf: student.schoolKeys) else {
                item.target = nil
                item.state = .error
                item.issues.append(
                    BatchIssue.error(
                        "unknown_student",
                        "Row \(item.row ?? 0): no student in your schools has \(item.manualTarget == nil ? keyColumn : "userId") \"\(given)\".",
                        fix: "Check the \(keyColumn) against the Students list; a student must exist (for example from a "
                            + "roster upload) before their address can be set.",
                        column: keyColumn, value: given
                    ).fromPlanning)
                return item
            }
            item.target = student.userID.rawValue
            item.label = "\(student.loginID?.rawValue ?? student.userID.rawValue) · \(student.displayName)"
            let address = item.input["userEmail"] ?? ""
            if let owner = owners[Store.emailKey(address)], owner.userID != student.userID, !movingAway.contains(owner.userID) {
                item.state = .error
                item.issues.append(
                    BatchIssue.error(
                        "email_in_use",
                        "Row \(item.row ?? 0): userEmail \"\(address)\" is already the address of another "
                            + "\(owner.role == .student ? "student" : "staff member") in the district.",
                        fix: "Every person needs an address of their own; check the address, or change the other person's first.",
                        column: "userEmail", value: address
                    ).fromPlanning)
                return item
            }
            if student.email == address {
                item.state = .unchanged
            } else {
                item.state = .ready
                item.changes = [
                    FieldChange(entity: "person", key: student.userID.rawValue, field: "userEmail", before: student.email, after: address)
                ]
            }
            return item
        }
    }
}

/// Finds the students a batch's rows name, in a few queries for any number of rows.
struct StudentLookup {
    /// The students found; the two indexes point into it (a 200,000-student lookup copies no `Person`).
    var people: [Person] = []
    var byUserID: [String: Int] = [:]
    var byLoginID: [String: Int] = [:]

    func student(userID: String) -> Person? { byUserID[userID].map { people[$0] } }
    func student(loginID: String) -> Person? { byLoginID[loginID].map { people[$0] } }

    func student(for item: BatchItem) -> Person? {
        let position: Int?
        if let manual = item.manualTarget {
            position = byUserID[UserID(rawValue: manual).rawValue]
        } else if let login = item.input["loginId"] {
            position = byLoginID[LoginID(rawValue: login).rawValue]
        } else if let user = item.input["userId"] {
            position = byUserID[UserID(rawValue: user).rawValue]
        } else {
            position = nil
        }
        return position.map { people[$0] }
    }

    static func find(_ items: [BatchItem], on db: any SQLConnection) throws -> StudentLookup {
        var userIDs: Set<String> = [], loginIDs: Set<String> = []
        for item in items {
            if let manual = item.manualTarget { userIDs.insert(UserID(rawValue: manual).rawValue) }
            if let login = item.input["loginId"], !login.isEmpty { loginIDs.insert(LoginID(rawValue: login).rawValue) }
            if let user = item.input["userId"], !user.isEmpty { userIDs.insert(UserID(rawValue: user).rawValue) }
        }
        return try find(userIDs: userIDs, loginIDs: loginIDs, on: db)
    }

    /// The students with any of these userIds or loginIds (normalised), with their schools.
    static func find(userIDs: Set<String>, loginIDs: Set<String>, on db: any SQLConnection) throws -> StudentLookup {
        let expected = max(userIDs.count, loginIDs.count)
        var lookup = StudentLookup()
        lookup.people.reserveCapacity(expected)
        lookup.byUserID.reserveCapacity(expected)
        lookup.byLoginID.reserveCapacity(expected)
        // Each student's schools come with the student, joined by the unit separator (school keys are plain ids).
        let schools = switch db.dialect {
        case .sqlite: "(SELECT group_concat(school_key, char(31)) FROM person_schools s WHERE s.user_id = p.user_id)"
        case .postgres: "(SELECT string_agg(school_key, chr(31)) FROM person_schools s WHERE s.user_id = p.user_id)"
        }
        for (column, values) in [("user_id", userIDs), ("login_id", loginIDs)] where !values.isEmpty {
            for row in try db.query(chunking: values.map { .text($0) }, {
                "SELECT p.*, \(schools) AS school_keys FROM people p WHERE p.user_role = 'student' AND p.\(column) IN (\($0))"
            }) {
                let keys = row.optionalText("school_keys").map { $0.split(separator: "\u{1F}").map { SchoolKey(rawValue: String($0)) } }
                let person = try Person(row: row, schoolKeys: keys ?? [])
                guard lookup.byUserID[person.userID.rawValue] == nil else { continue }
                lookup.byUserID[person.userID.rawValue] = lookup.people.count
                if let login = person.loginID { lookup.byLoginID[login.rawValue] = lookup.people.count }
                lookup.people.append(person)
            }
        }
        return lookup
    }

    static func schoolKeysByPerson(_ userIDs: [String], on db: any SQLConnection) throws -> [String: [SchoolKey]] {
        var result: [String: [SchoolKey]] = [:]
        let ids = Array(Set(userIDs)).map { SQLValue.text($0) }
        for row in try db.query(chunking: ids, { "SELECT user_id, school_key FROM person_schools WHERE user_id IN (\($0))" }) {
            result[try row.text("user_id"), default: []].append(SchoolKey(rawValue: try row.text("school_key")))
        }
        return result
    }

    static func schoolKeys(ofPeople userIDs: [String], on db: any SQLConnection) throws -> Set<String> {
        Set(try schoolKeysByPerson(userIDs, on: db).values.flatMap { $0.map(\.rawValue) })
    }

    /// Who holds each address now, by e-mail key.
    static func owners(ofAddresses addresses: [String], on db: any SQLConnection) throws -> [String: (userID: UserID, role: UserRole)] {
        var result: [String: (userID: UserID, role: UserRole)] = [:]
        let keys = Array(Set(addresses.map(Store.emailKey))).map { SQLValue.text($0) }
        for row in try db.query(chunking: keys, { "SELECT user_id, user_role, email_key FROM people WHERE email_key IN (\($0))" }) {
            result[try row.text("email_key")] = (
                UserID(rawValue: try row.text("user_id")), UserRole(rawValue: try row.text("user_role")) ?? .staff
            )
        }
        return result
    }
}
