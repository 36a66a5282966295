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
            return FileInspection(items: EmailBatch.items(from: table, firstID: firstItemID), warnings: table.warnings)
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

    public func lockKeys(_ items: [BatchItem], on db: any SQLConnection) throws -> Set<String> {
        try StudentLookup.schoolKeys(ofPeople: items.compactMap(\.target), on: db)
    }
}

/// Finds the students a batch's rows name, in a few queries for any number of rows.
struct StudentLookup {
    var byUserID: [String: Person] = [:]
    var byLoginID: [String: Person] = [:]

    func student(for item: BatchItem) -> Person? {
        if let manual = item.manualTarget { return byUserID[UserID(rawValue: manual).rawValue] }
        if let login = item.input["loginId"] { return byLoginID[LoginID(rawValue: login).rawValue] }
        if let user = item.input["userId"] { return byUserID[UserID(rawValue: user).rawValue] }
        return nil
    }

    static func find(_ items: [BatchItem], on db: any SQLConnection) throws -> StudentLookup {
        var userIDs: Set<String> = [], loginIDs: Set<String> = []
        for item in items {
            if let manual = item.manualTarget { userIDs.insert(UserID(rawValue: manual).rawValue) }
            if let login = item.input["loginId"], !login.isEmpty { loginIDs.insert(LoginID(rawValue: login).rawValue) }
            if let user = item.input["userId"], !user.isEmpty { userIDs.insert(UserID(rawValue: user).rawValue) }
        }
        var lookup = StudentLookup()
        lookup.byUserID.reserveCapacity(items.count)
        lookup.byLoginID.reserveCapacity(items.count)
        var found: [Person] = []
        found.reserveCapacity(items.count)
        for (column, values) in [("user_id", userIDs), ("login_id", loginIDs)] {
            found += try db.query(chunking: values.sorted().map { .text($0) }) {
                "SELECT * FROM people WHERE user_role = 'student' AND \(column) IN (\($0))"
            }.map { try Person(row: $0, schoolKeys: []) }
        }
        let schools = try schoolKeysByPerson(found.map(\.userID.rawValue), on: db)
        for var person in found {
            person.schoolKeys = schools[person.userID.rawValue] ?? []
            lookup.byUserID[person.userID.rawValue] = person
            if let login = person.loginID { lookup.byLoginID[login.rawValue] = person }
        }
        return lookup
    }

    static func schoolKeysByPerson(_ userIDs: [String], on db: any SQLConnection) throws -> [String: [SchoolKey]] {
        var result: [String: [SchoolKey]] = [:]
        let ids = Array(Set(userIDs)).sorted().map { SQLValue.text($0) }
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
        let keys = Array(Set(addresses.map(Store.emailKey))).sorted().map { SQLValue.text($0) }
        for row in try db.query(chunking: keys, { "SELECT user_id, user_role, email_key FROM people WHERE email_key IN (\($0))" }) {
            result[try row.text("email_key")] = (
                UserID(rawValue: try row.text("user_id")), UserRole(rawValue: try row.text("user_role")) ?? .staff
            )
        }
        return result
    }
}
