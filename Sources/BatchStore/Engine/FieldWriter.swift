import BatchCore

/// Reads and writes fields of stored records by their API names, for applying a batch's planned changes and for
/// undoing them. Written once for every kind: a kind plans `FieldChange`s, this writes them.
enum FieldWriter {
    /// Person fields a batch may change, API name → column.
    static let personColumns: [String: String] = [
        "userEmail": "user_email", "firstName": "first_name", "middleName": "middle_name", "lastName": "last_name",
        "preferredFirstName": "preferred_first_name", "userGrade": "user_grade", "userStatus": "user_status",
        "userDistrictId": "user_district_id", "userStateId": "user_state_id", "userRole": "user_role", "loginId": "login_id",
    ]

    /// Thrown by `write` with the keys off (`DatabaseBackend.writeCheckingOwnKeys`) for changes that need them
    /// (`RosterWriter.checksOwnKeys`): the caller writes them again with the keys on.
    struct KeysNeeded: Error {}

    /// Rows per statement: well under both databases' bind limits.
    static let chunk = 500

    /// The current value of each (entity, key, field), keyed by `"entity\u{1}key\u{1}field"`.
    static func currentValues(of changes: [FieldChange], on db: any SQLConnection) throws -> [String: String?] {
        var result: [String: String?] = [:]
        // People's own fields (a whole person, `*`, is the roster's below), those the changes name only.
        let people = changes.filter { $0.entity == "person" && personColumns[$0.field] != nil }
        let namedFields = Set(people.map(\.field))
        let fields = personColumns.filter { field, _ in namedFields.contains(field) }
        let keys = Array(Set(people.map(\.key))).sorted().map { SQLValue.text($0) }
        for row in try db.query(chunking: keys, { "SELECT * FROM people WHERE user_id IN (\($0))" }) {
            let key = try row.text("user_id")
            for (field, column) in fields {
                result[slot("person", key, field)] = row.optionalText(column)
            }
        }
        let documents = changes.filter { $0.entity == "document" }.compactMap { DocumentSlot(key: $0.key) }
        let owners = Array(Set(documents.map(\.userID))).sorted().map { SQLValue.text($0) }
        for document in documents { result[slot("document", document.key, "document")] = .some(nil) }
        for row in try db.query(chunking: owners, {
            "SELECT document_id, user_id, document_type, school_year, term FROM documents WHERE is_current = TRUE AND user_id IN (\($0))"
        }) {
            let key = DocumentSlot(
                userID: try row.text("user_id"), documentType: try row.text("document_type"),
                schoolYear: try row.text("school_year"), term: try row.text("term")
            ).key
            result[slot("document", key, "document")] = row.optionalText("document_id")
        }
        let photoOwners = Array(Set(changes.filter { $0.entity == "photo" }.map(\.key)))
        for owner in photoOwners { result[slot("photo", owner, "photo")] = .some(nil) }
        for row in try db.query(chunking: photoOwners.sorted().map { .text($0) }, {
            "SELECT photo_id, user_id FROM photos WHERE is_current = TRUE AND user_id IN (\($0))"
        }) {
            result[slot("photo", try row.text("user_id"), "photo")] = row.optionalText("photo_id")
        }
        try RosterWriter.currentValues(of: changes, into: &result, on: db)
        return result
    }

    static func slot(_ entity: String, _ key: String, _ field: String) -> String { entity + "\u{1}" + key + "\u{1}" + field }

    /// Writes each change's `after`. Addresses and login IDs are unique, so those of every person whose address or
    /// login ID another person takes are cleared first: two students swapping theirs in one batch is then no conflict.
    static func write(_ changes: [FieldChange], on db: any SQLConnection, progress: (Int) -> Void = { _ in }) throws {
        // (Checked through the changes' storage, by `switch`: an array literal and a set lookup a change were a tenth
        // of a second of a state-size apply.)
        for index in changes.indices {
            switch changes[index].entity {
            case "person", "document", "photo": continue
            case let entity where RosterWriter.writes(entity): continue
            default: throw StoreError.corrupt("a batch tried to change the unknown record kind \(changes[index].entity)")
            }
        }
        if try db.foreignKeysOff(), !RosterWriter.checksOwnKeys(changes) { throw KeysNeeded() }
        try RosterWriter.removals(changes, on: db)
        try writeVersions(changes.filter { $0.entity == "document" || $0.entity == "photo" }, on: db, progress: progress)
        try writePeople(changes.filter { $0.entity == "person" && !RosterWriter.isWhole($0) }, on: db, progress: progress)
        try RosterWriter.updates(changes, on: db)
        try RosterWriter.creations(changes, on: db)
        // Moved on last: on PostgreSQL the version's row stays locked until the transaction ends, and other batches'
        // writes wait for it only from here, not for the whole of a long write.
        if !changes.isEmpty { try Store.bumpDataVersion(db) }
        progress(changes.count)
    }

    static func writePeople(_ people: [FieldChange], on db: any SQLConnection, progress: (Int) -> Void) throws {
        guard !people.isEmpty else { return }
        for change in people where personColumns[change.field] == nil {
            throw StoreError.corrupt("a batch tried to change the unknown person field \(change.field)")
        }
        let now = Clock.nowMillis()
        var byKey: [String: [FieldChange]] = [:]
        for change in people { byKey[change.key, default: []].append(change) }
        let keys = byKey.keys.sorted()
        // Only people whose present address or login ID another person of this batch takes need it cleared first
        // (the changes' `before` is the present value: apply plans again inside its transaction, undo restores only
        // fields still holding the batch's value). Before login IDs were, two students swapping theirs passed the
        // preview and failed every attempt of the apply on the column's uniqueness.
        let unique: [(field: String, column: String, key: @Sendable (String) -> String)] = [
            ("userEmail", "email_key", Store.emailKey), ("loginId", "login_id", { $0 }),
        ]
        for (field, column, key) in unique {
            let moving = people.filter { $0.field == field }
            let taken = Set(moving.compactMap { $0.after.map(key) })
            let freed = moving.filter { change in change.before.map { taken.contains(key($0)) } ?? false }
            try db.execute(chunking: Array(Set(freed.map(\.key))).map { .text($0) }) {
                "UPDATE people SET \(column) = NULL WHERE user_id IN (\($0))"
            }
        }
        var done = 0
        for start in stride(from: 0, to: keys.count, by: chunk) {
            let slice = Array(keys[start..<min(start + chunk, keys.count)])
            // Only the columns this slice changes (and what derives from them) are written: every column named in
            // an UPDATE costs its index maintenance.
            let fields = Set(slice.flatMap { byKey[$0]!.map(\.field) })
            let written = Self.personWrites.filter { fields.contains($0.field) || $0.field == "*" }
            var rows: [[SQLValue]] = []
            for row in try db.query(
                "SELECT * FROM people WHERE user_id IN (\(placeholders(slice.count)))", slice.map { .text($0) })
            {
                var person = try Person(row: row, schoolKeys: [])
                for change in byKey[person.userID.rawValue] ?? [] { person.set(change.field, to: change.after) }
                rows.append([.id(person.userID)] + written.flatMap { $0.values(person) } + [.int(now)])
            }
            try db.bulkUpdate(
                table: "people", key: "user_id", columns: written.flatMap(\.columns) + ["updated_at"], rows: rows)
            done += rows.count
            progress(done)
        }
    }

    /// Which columns a changed field writes, and their values. `*` = always (the search text derives from names,
    /// IDs and the address).
    static let personWrites: [(field: String, columns: [String], values: @Sendable (Person) -> [SQLValue])] = [
        ("userEmail", ["user_email", "email_key"], { [.optional($0.email), .optional($0.email.map(Store.emailKey))] }),
        ("firstName", ["first_name"], { [.text($0.firstName)] }),
        ("middleName", ["middle_name"], { [.optional($0.middleName)] }),
        ("lastName", ["last_name"], { [.text($0.lastName)] }),
        ("preferredFirstName", ["preferred_first_name"], { [.optional($0.preferredFirstName)] }),
        ("userGrade", ["user_grade"], { [.optional($0.grade)] }),
        ("userStatus", ["user_status"], { [.text($0.status.rawValue)] }),
        ("userDistrictId", ["user_district_id"], { [.optional($0.districtID)] }),
        ("userStateId", ["user_state_id"], { [.optional($0.stateID)] }),
        ("userRole", ["user_role"], { [.text($0.role.rawValue)] }),
        ("loginId", ["login_id"], { [.id($0.loginID)] }),
        ("*", ["search_text"], { [.text($0.searchText)] }),
    ]
}

extension FieldWriter {
    /// A document or photo change makes `after` the current version of its slot (a student's photo; a student's
    /// document of one type, year and term), or leaves the slot empty when `after` is nil; the version that was
    /// current stays as an earlier one.
    static func writeVersions(_ changes: [FieldChange], on db: any SQLConnection, progress: (Int) -> Void) throws {
        for (index, change) in changes.enumerated() {
            let table: String, idColumn: String, slot: [(column: String, value: String)]
            switch (change.entity, change.field) {
            case ("document", "document"):
                guard let document = DocumentSlot(key: change.key) else {
                    throw StoreError.corrupt("a batch tried to change the document slot \(change.key)")
                }
                (table, idColumn) = ("documents", "document_id")
                slot = [
                    ("user_id", document.userID), ("document_type", document.documentType), ("school_year", document.schoolYear),
                    ("term", document.term),
                ]
            case ("photo", "photo"):
                (table, idColumn, slot) = ("photos", "photo_id", [("user_id", change.key)])
            default:
                throw StoreError.corrupt("a batch tried to change the field \(change.field) of the \(change.entity) \(change.key)")
            }
            try db.execute(
                "UPDATE \(table) SET is_current = FALSE WHERE \(slot.map { "\($0.column) = ?" }.joined(separator: " AND ")) AND is_current = TRUE",
                slot.map { .text($0.value) })
            if let after = change.after {
                try db.execute(
                    "UPDATE \(table) SET is_current = TRUE WHERE \(idColumn) = ? AND user_id = ?", [.text(after), .text(slot[0].value)])
            }
            progress(index + 1)
        }
    }
}

extension Person {
    /// Sets a field by its API name (the names of users.csv).
    mutating func set(_ field: String, to value: String?) {
        let text = value.flatMap { $0.isEmpty ? nil : $0 }
        switch field {
        case "userEmail": email = text
        case "firstName": firstName = text ?? ""
        case "middleName": middleName = text
        case "lastName": lastName = text ?? ""
        case "preferredFirstName": preferredFirstName = text
        case "userGrade": grade = text
        case "userStatus": status = text.flatMap(UserStatus.init(rawValue:)) ?? status
        case "userDistrictId": districtID = text
        case "userStateId": stateID = text
        case "userRole": role = text.flatMap(UserRole.init(rawValue:)) ?? role
        case "loginId": loginID = text.map(LoginID.init(rawValue:))
        default: break
        }
    }
}
