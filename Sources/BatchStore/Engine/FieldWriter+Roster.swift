import BatchCore
import Foundation

/// The records a roster batch creates, changes and removes — schools, people, their schools, classes, enrollments,
/// demographics — written in bulk: removals first (dependents before what they depend on), then changed fields,
/// then new records (what they depend on first). A whole record's change has field `*`: `before` nil creates it
/// from the JSON in `after`, `after` nil removes it; undo swaps the two.
enum RosterWriter {
    /// The record kinds this writer writes besides people (a `switch`: checked for each of an apply's two million
    /// changes, where a set's lookup hashed each kind).
    static func writes(_ entity: String) -> Bool {
        switch entity {
        case "school", "membership", "class", "enrollment", "demographics": true
        default: false
        }
    }

    static func isWhole(_ change: FieldChange) -> Bool { change.field == "*" }

    /// Whether `changes` may be written with the database's row-by-row key checks off
    /// (`DatabaseBackend.writeCheckingOwnKeys`): they remove nothing (a removal relies on the keys' cascades and
    /// refusals) and are all roster records or people's fields, so the only rows that name a parent are the new
    /// ones `creations` checks. Changed fields never change a key.
    /// (`FieldWriter.write` refuses kinds that are neither before it asks.)
    static func checksOwnKeys(_ changes: [FieldChange]) -> Bool {
        !changes.contains { (isWhole($0) && $0.after == nil) || $0.entity == "document" || $0.entity == "photo" }
    }

    static func removals(_ changes: [FieldChange], on db: any SQLConnection) throws {
        let removed = changes.filter { isWhole($0) && $0.after == nil }
        guard !removed.isEmpty else { return }
        let schools = try RosterSnapshotLoader.schools(on: db).byID
        func keys(_ entity: String) -> [String] { removed.filter { $0.entity == entity }.map(\.key) }
        try db.execute(chunking: keys("demographics").map { .text($0) }) { "DELETE FROM demographics WHERE user_id IN (\($0))" }
        try deletePairs(in: "enrollments", second: "class_id", keys("enrollment").compactMap(RosterRecord.splitKey), on: db)
        try deletePairs(
            in: "person_schools", second: "school_key",
            keys("membership").compactMap { key in
                RosterRecord.splitKey(key).flatMap { user, schoolID in schools[schoolID].map { (user, $0.key.rawValue) } }
            }, on: db)
        try db.execute(chunking: keys("class").map { .text($0) }) { "DELETE FROM classes WHERE class_id IN (\($0))" }
        try db.execute(chunking: keys("person").map { .text($0) }) { "DELETE FROM people WHERE user_id IN (\($0))" }
        for id in keys("school") {
            guard let school = schools[id] else { continue }
            // A school another record still uses stays (undo of a batch whose school was used since).
            let used = try db.scalarInt("SELECT COUNT(*) FROM person_schools WHERE school_key = ?", [.id(school.key)])
                + db.scalarInt("SELECT COUNT(*) FROM classes WHERE school_key = ?", [.id(school.key)])
            if used == 0 { try db.execute("DELETE FROM schools WHERE school_key = ?", [.id(school.key)]) }
        }
    }

    /// Deletes the rows of `table` keyed by (`user_id`, `second`) `pairs`, the pairs of 500 people a statement: their
    /// rows found through the `user_id` index, those of the pairs kept by `user_id|second`. (A statement a pair was
    /// 1.4 million statements, each compiled, in the undo of a state-size first roster.) A userId never holds `|`.
    static func deletePairs(in table: String, second: String, _ pairs: [(String, String)], on db: any SQLConnection) throws {
        var byUser: [String: [String]] = [:]
        for (user, other) in pairs { byUser[user, default: []].append(user + "|" + other) }
        let concatenated = "user_id || '|' || \(second)"
        for users in byUser.keys.sorted().chunked(500) {
            let keys = users.flatMap { byUser[$0] ?? [] }.map { SQLValue.text($0) }
            guard let set = db.textSet(keys, over: 0) else { continue }
            try db.execute(
                "DELETE FROM \(table) WHERE user_id IN (\(placeholders(users.count))) AND \(concatenated) IN (\(set.expression))",
                users.map { .text($0) } + [set.bind])
        }
    }

    static func updates(_ changes: [FieldChange], on db: any SQLConnection) throws {
        let now = Clock.nowMillis()
        let updated = changes.filter { !isWhole($0) && $0.entity != "person" }
        guard !updated.isEmpty else { return }
        for change in updated where change.entity == "school" {
            try db.execute(
                "UPDATE schools SET name = ?, updated_at = ? WHERE school_id = ?", [.text(change.after ?? ""), .int(now), .text(change.key)])
        }
        for change in updated where change.entity == "enrollment" {
            guard let (user, classID) = RosterRecord.splitKey(change.key) else { continue }
            let column = change.field == "role" ? "role" : "primary_teacher"
            let value: SQLValue = change.field == "role" ? .text(change.after ?? "") : .bool(change.after == "true")
            try db.execute("UPDATE enrollments SET \(column) = ? WHERE user_id = ? AND class_id = ?", [value, .text(user), .text(classID)])
        }
        // Classes and demographics: the changed records are read, changed and written back whole, a slice at a time.
        let classChanges = Dictionary(grouping: updated.filter { $0.entity == "class" }, by: \.key)
        for slice in classChanges.keys.sorted().chunked(FieldWriter.chunk) {
            var rows: [[SQLValue]] = []
            for row in try db.query("SELECT * FROM classes WHERE class_id IN (\(placeholders(slice.count)))", slice.map { .text($0) }) {
                var record = try SchoolClass(row: row)
                for change in classChanges[record.classID.rawValue] ?? [] {
                    switch change.field {
                    case "className": record.name = change.after ?? record.name
                    case "classGrade": record.grade = change.after
                    case "classSubject": record.subject = change.after
                    default: break
                    }
                }
                rows.append([.id(record.classID), .text(record.name), .optional(record.grade), .optional(record.subject), .int(now)])
            }
            try db.bulkUpdate(table: "classes", key: "class_id", columns: ["class_name", "class_grade", "class_subject", "updated_at"], rows: rows)
        }
        let demographicChanges = Dictionary(grouping: updated.filter { $0.entity == "demographics" }, by: \.key)
        for slice in demographicChanges.keys.sorted().chunked(FieldWriter.chunk) {
            var rows: [[SQLValue]] = []
            for row in try db.query("SELECT * FROM demographics WHERE user_id IN (\(placeholders(slice.count)))", slice.map { .text($0) }) {
                var fields = RosterSnapshotLoader.demographicsFields(row)
                for change in demographicChanges[try row.text("user_id")] ?? [] { fields[change.field] = change.after }
                rows.append(demographicsRow(userID: try row.text("user_id"), fields, now: now))
            }
            try db.bulkUpdate(
                table: "demographics", key: "user_id", columns: Array(demographicsColumns.dropFirst()), rows: rows)
        }
    }

    static let demographicsColumns = ["user_id", "birth_date", "sex", "flags", "home_language", "country_of_birth_code", "updated_at"]

    static func demographicsRow(userID: String, _ fields: [String: String], now: Int64) -> [SQLValue] {
        var flags: [String: Bool] = [:]
        for (column, _) in Demographics.flagColumns {
            if let value = fields[column], !value.isEmpty { flags[column] = value == "true" }
        }
        func text(_ field: String) -> String? { fields[field].flatMap { $0.isEmpty ? nil : $0 } }
        return demographicsRow(
            userID: userID,
            (text("birthDate"), text("sex"), Demographics.flagsText(flags), text("homeLanguage"), text("countryOfBirthCode")), now: now)
    }

    /// A demographics record's row in `demographicsColumns` order.
    static func demographicsRow(userID: String, _ stored: Demographics.Stored, now: Int64) -> [SQLValue] {
        [
            .text(userID), .optional(stored.birthDate), .optional(stored.sex), .text(stored.flags), .optional(stored.homeLanguage),
            .optional(stored.countryOfBirthCode), .int(now),
        ]
    }

    static func creations(_ changes: [FieldChange], on db: any SQLConnection) throws {
        // Each kind's new records, as positions in `changes`, found in one pass (the changes themselves are not
        // copied: filtering two million of them once for all and again for each kind was half a second of the
        // writer's thread).
        var found: [String: [Int]] = [:]
        var lastEntity = "", lastPositions: [Int] = []
        for index in changes.indices where isWhole(changes[index]) && changes[index].before == nil && changes[index].after != nil {
            // A kind's records come in runs (a row's person, then its class and enrollment): one lookup a run.
            if changes[index].entity != lastEntity {
                if !lastPositions.isEmpty { found[lastEntity, default: []] += lastPositions }
                lastEntity = changes[index].entity
                lastPositions = []
            }
            lastPositions.append(index)
        }
        if !lastPositions.isEmpty { found[lastEntity, default: []] += lastPositions }
        let positions = found
        guard !positions.isEmpty else { return }
        let now = Clock.nowMillis()
        // Meanwhile another thread gathers, with the keys off, the people and classes the new rows name (looked up
        // once each at the end), and makes the new demographics rows. At a lower priority, on one core: it takes the
        // time the other tables' rows and their writer leave. On every core at the same priority, it had taken both
        // cores from the writer for half a second of a state-size first import. Started here, not beside the
        // enrollments only: it fills the time the writer builds the people's, memberships' and classes' indexes
        // alone, and leaves the enrollments' rows both cores (their writer had waited for them, round 42).
        let keysOff = try db.foreignKeysOff(), layout = db.bulkLayout
        let beside = InBackground.yielding {
            (
                parents: keysOff ? parentsNamed(by: changes, positions) : nil,
                demographics: Result { try demographicsRows(changes, positions["demographics"] ?? [], now: now, layout: layout) }
            )
        }
        // Each kind's new records are read from their JSON and written a slice at a time, the next slice's rows
        // made on the other cores while this one is inserted. Enrollments and memberships are a million records of
        // a handful of distinct JSONs: each piece reads each of those once.
        // `row` writes the record's row (its key, its fields) into the slice's rows, or nothing to leave it out.
        func insert(
            _ entity: String, into table: String, columns: [String],
            _ row: @escaping @Sendable (String, [String: String], inout BulkRows.Builder) throws -> Void
        ) throws {
            let wanted = positions[entity] ?? []
            guard !wanted.isEmpty else { return }
            let few = entity == "enrollment" || entity == "membership"
            func load() throws {
                try Store.insertPipelined(db, table: table, columns: columns, count: wanted.count) { part, out in
                    var read: [String: [String: String]] = [:]
                    // The last JSON read, compared before the dictionary is asked: the planner gives a run of rows one
                    // string, told equal by its storage, where hashing its 43 bytes an enrollment was a tenth of a
                    // second of a state-size apply.
                    var last: (json: String, fields: [String: String])?
                    // (Each change read in place: a copy of it retained and released all its texts.)
                    try changes.withUnsafeBufferPointer { changes in
                        for index in part {
                            let position = wanted[index]
                            guard few, changes[position].after != nil else {
                                try row(changes[position].key, RosterRecord.fields(changes[position].after), &out)
                                continue
                            }
                            if let last, changes[position].after == last.json {
                                try row(changes[position].key, last.fields, &out)
                                continue
                            }
                            let json = changes[position].after!
                            let fields: [String: String]
                            if let known = read[json] {
                                fields = known
                            } else {
                                fields = RosterRecord.fields(json)
                                read[json] = fields
                            }
                            last = (json, fields)
                            try row(changes[position].key, fields, &out)
                        }
                    }
                }
            }
            // A district's first roster: into empty tables, whose indexes are built once their rows are in. Not the
            // schools (hundreds at most, nothing to gain), which every page reads: PostgreSQL would hold their readers
            // until the apply commits.
            if table == "schools" { try load() } else { try db.withIndexesBuiltAfter(loading: table, load) }
        }
        try insert("school", into: "schools", columns: ["school_key", "school_id", "name", "created_at", "updated_at"]) { key, fields, out in
            out.add(.text(UUID().uuidString.lowercased()))
            out.add(.text(key))
            out.add(.text(fields["schoolName"] ?? key))
            out.add(.int(now))
            out.add(.int(now))
            out.endRow()
        }
        // On PostgreSQL the schools are locked before they are read, as the key's trigger would lock each one
        // named: no other transaction can remove one while this one writes rows naming it.
        if keysOff && db.dialect == .postgres { _ = try db.scalarInt("SELECT count(*) FROM (SELECT 1 FROM schools FOR KEY SHARE) locked") }
        let schools = try RosterSnapshotLoader.schools(on: db).byID
        @Sendable func schoolKey(_ id: String) throws -> SQLValue {
            guard let school = schools[id] else { throw StoreError.corrupt("a roster batch named the school \(id), which does not exist") }
            return .id(school.key)
        }
        try insert(
            "person", into: "people",
            columns: [
                "user_id", "user_role", "login_id", "first_name", "middle_name", "last_name", "preferred_first_name",
                "user_email", "email_key", "user_grade", "user_status", "user_district_id", "user_state_id",
                "search_text", "created_at", "updated_at",
            ]
        ) { key, fields, out in
            var person = Person(userID: UserID(rawValue: key), role: .staff, firstName: "", lastName: "", schoolKeys: [])
            person.role = UserRole(rawValue: fields["userRole"] ?? "") ?? .staff
            person.loginID = fields["loginId"].map(LoginID.init(rawValue:))
            for (field, value) in fields where field != "userRole" && field != "loginId" { person.set(field, to: value) }
            out.add(.id(person.userID))
            out.add(.text(person.role.rawValue))
            out.add(.id(person.loginID))
            out.add(.text(person.firstName))
            out.add(.optional(person.middleName))
            out.add(.text(person.lastName))
            out.add(.optional(person.preferredFirstName))
            out.add(.optional(person.email))
            out.add(.optional(person.email.map(Store.emailKey)))
            out.add(.optional(person.grade))
            out.add(.text(person.status.rawValue))
            out.add(.optional(person.districtID))
            out.add(.optional(person.stateID))
            out.add(.text(person.searchText))
            out.add(.int(now))
            out.add(.int(now))
            out.endRow()
        }
        try insert("membership", into: "person_schools", columns: ["user_id", "school_key"]) { key, _, out in
            guard let (user, school) = RosterRecord.splitKey(key) else { return }
            out.add(.text(user))
            out.add(try schoolKey(school))
            out.endRow()
        }
        try insert(
            "class", into: "classes", columns: ["class_id", "school_key", "class_name", "class_grade", "class_subject", "created_at", "updated_at"]
        ) { key, fields, out in
            out.add(.text(key))
            out.add(try schoolKey(fields["schoolId"] ?? ""))
            out.add(.text(fields["className"] ?? key))
            out.add(.optional(fields["classGrade"]))
            out.add(.optional(fields["classSubject"]))
            out.add(.int(now))
            out.add(.int(now))
            out.endRow()
        }
        try insert("enrollment", into: "enrollments", columns: ["class_id", "user_id", "role", "primary_teacher"]) { key, fields, out in
            guard let (user, classID) = RosterRecord.splitKey(key) else { return }
            out.add(.text(classID))
            out.add(.text(user))
            out.add(.text(fields["role"] ?? "student"))
            out.add(.bool(fields["primaryTeacher"] == "true"))
            out.endRow()
        }
        let besides = beside.take()!
        var demographics: BulkRows? = try besides.demographics.get()
        if demographics?.count ?? 0 > 0 {
            try db.withIndexesBuiltAfter(loading: "demographics") {
                try db.bulkInsert(table: "demographics", columns: demographicsColumns) {
                    defer { demographics = nil }
                    return demographics
                }
            }
        }
        if let parents = besides.parents { try check(parents, on: db) }
    }

    /// The rows of new demographics records (at `wanted` in `changes`), read straight from each record's JSON
    /// (`Demographics.stored`), laid out for the database on the calling thread (beside the enrollments' writing;
    /// laid out on the writer's thread, they had kept it alone on one core for half a second of a state-size first
    /// import).
    static func demographicsRows(_ changes: [FieldChange], _ wanted: [Int], now: Int64, layout: BulkRows.Layout) throws -> BulkRows {
        var out = BulkRows.Builder(width: demographicsColumns.count, layout: layout, rows: wanted.count, bytesPerRow: 96)
        for position in wanted {
            let change = changes[position]
            guard let stored = Demographics.stored(json: change.after ?? "{}") else {
                throw StoreError.corrupt("the demographics of \(change.key) in a roster batch could not be read")
            }
            for value in demographicsRow(userID: change.key, stored, now: now) { out.add(value) }
            out.endRow()
        }
        return out.rows
    }

    /// The people and classes that new memberships, enrollments and demographics name, each once, sorted; those
    /// the same changes create are left out (inserted in this transaction, they are there). `created`: each kind's
    /// new records, as positions in `changes`.
    static func parentsNamed(by changes: [FieldChange], _ created: [String: [Int]]) -> (people: [String], classes: [String]) {
        var people = DistinctTexts(), classes = DistinctTexts()
        var createdPeople = DistinctTexts(), createdClasses = DistinctTexts()
        return changes.withUnsafeBufferPointer { changes in
            /// The bytes of the key of change `index`, and where its `|` is (nil: none).
            func withKey(_ index: Int, _ body: (UnsafeBufferPointer<UInt8>, Int?) -> Void) {
                changes[index].key.withUTF8Bytes { bytes in body(bytes, bytes.firstIndex(of: UInt8(ascii: "|"))) }
            }
            for index in created["person"] ?? [] { withKey(index) { bytes, _ in createdPeople.insert(bytes) } }
            for index in created["class"] ?? [] { withKey(index) { bytes, _ in createdClasses.insert(bytes) } }
            // A person's rows come one after another: a person repeating the previous one is not looked up again.
            var lastPerson: String?
            func named(_ user: UnsafeBufferPointer<UInt8>) {
                if let lastPerson, CSVReader.text(lastPerson, is: user) { return }
                let position = people.position(of: user).position
                lastPerson = people.texts[position]
            }
            for index in created["membership"] ?? [] {
                withKey(index) { bytes, bar in if let bar { named(UnsafeBufferPointer(rebasing: bytes[..<bar])) } }
            }
            for index in created["enrollment"] ?? [] {
                withKey(index) { bytes, bar in
                    guard let bar else { return }
                    named(UnsafeBufferPointer(rebasing: bytes[..<bar]))
                    classes.insert(UnsafeBufferPointer(rebasing: bytes[(bar + 1)...]))
                }
            }
            for index in created["demographics"] ?? [] { withKey(index) { bytes, _ in named(bytes) } }
            func sorted(_ keys: DistinctTexts, leavingOut made: DistinctTexts) -> [String] {
                keys.texts.filter { !made.contains($0) }.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            }
            return (sorted(people, leavingOut: createdPeople), sorted(classes, leavingOut: createdClasses))
        }
    }

    /// With the keys off, the parents the new rows name must exist, each looked up once (a key looks one up for
    /// every row): a missing one fails the write, as the key would have. On PostgreSQL they are locked as they are
    /// looked up (`FOR KEY SHARE` until the transaction ends, as the key's trigger would): no other transaction can
    /// remove one meanwhile; SQLite has one writer at a time. The schools of new memberships and classes need no
    /// look-up: their keys were read from `schools` in this transaction (`schoolKey`), locked first on PostgreSQL.
    static func check(_ parents: (people: [String], classes: [String]), on db: any SQLConnection) throws {
        let elements = db.dialect == .postgres ? "jsonb_array_elements_text(?::jsonb) AS named(value)" : "json_each(?)"
        for (table, column, keys, what) in [("people", "user_id", parents.people, "person"), ("classes", "class_id", parents.classes, "class")]
        where !keys.isEmpty {
            let named = SQLValue.text(FlatJSON.array(keys))
            // On PostgreSQL, fewer locked than named stops the write whatever the look-up for the message finds (a
            // parent committed between the two would be there, but not locked).
            var short = false
            if db.dialect == .postgres {
                let locked = try db.scalarInt(
                    "SELECT count(*) FROM (SELECT 1 FROM \(table) p WHERE p.\(column) IN (SELECT value FROM \(elements)) FOR KEY SHARE OF p) locked",
                    [named])
                if locked == keys.count { continue }
                short = true
            }
            let missing = try db.first(
                "SELECT value FROM \(elements) WHERE NOT EXISTS (SELECT 1 FROM \(table) WHERE \(column) = value) LIMIT 1", [named])
            if missing != nil || short {
                throw StoreError.conflict(
                    "The batch names the \(what) \(missing?.optionalText("value") ?? "(one of \(keys.count))"), which is no longer in the database. Upload the file again to plan it against the data as it is now.")
            }
        }
    }

    /// What each roster slot holds now, keyed like `FieldWriter.currentValues` (a whole record as its JSON).
    static func currentValues(of changes: [FieldChange], into result: inout [String: String?], on db: any SQLConnection) throws {
        let roster = changes.filter { writes($0.entity) || ($0.entity == "person" && isWhole($0)) }
        guard !roster.isEmpty else { return }
        let (schoolIDs, schools) = try RosterSnapshotLoader.schools(on: db)
        // Only the slots the changes name: the undo of a state-size first roster names two million whole records,
        // and a slot for each of their fields too was ten million entries more.
        var named: [String: Set<String>] = [:]
        // Each kind's keys, gathered in one pass (not filtered out of two million changes again for each kind).
        var keysOf: [String: Set<String>] = [:]
        for change in roster {
            result[FieldWriter.slot(change.entity, change.key, change.field)] = .some(nil)
            named[change.entity, default: []].insert(change.field)
            keysOf[change.entity, default: []].insert(change.key)
        }
        /// `json`: the record's JSON when the caller has it already.
        func set(_ entity: String, _ key: String, _ fields: [String: String], json: String? = nil) {
            guard let wanted = named[entity] else { return }
            if wanted.contains("*") { result[FieldWriter.slot(entity, key, "*")] = json ?? RosterRecord.json(fields) }
            for (field, value) in fields where wanted.contains(field) { result[FieldWriter.slot(entity, key, field)] = value }
        }
        func keys(_ entity: String) -> [String] { (keysOf[entity] ?? []).sorted() }
        for id in keys("school") {
            if let school = schools[id] { set("school", id, ["schoolName": school.name]) }
        }
        for row in try db.query(chunking: keys("person").map { .text($0) }, {
            "SELECT \(RosterSnapshotLoader.personSelection) FROM people WHERE user_id IN (\($0))"
        }) {
            set("person", try row.text("user_id"), RosterSnapshotLoader.personFields(row).dictionary)
        }
        // A membership is there when its person is at its school: each named person's schools read at once.
        let memberships = keys("membership")
        let members = Set(memberships.compactMap { RosterRecord.splitKey($0)?.0 }).sorted().map { SQLValue.text($0) }
        var held: Set<String> = []
        for row in try db.query(chunking: members, { "SELECT user_id, school_key FROM person_schools WHERE user_id IN (\($0))" }) {
            held.insert(try row.text("user_id") + "|" + row.text("school_key"))
        }
        for key in memberships {
            guard let (user, schoolID) = RosterRecord.splitKey(key), let school = schools[schoolID] else { continue }
            if held.contains(user + "|" + school.key.rawValue) { result[FieldWriter.slot("membership", key, "*")] = "{}" }
        }
        for row in try db.query(chunking: keys("class").map { .text($0) }, { "SELECT * FROM classes WHERE class_id IN (\($0))" }) {
            set("class", try row.text("class_id"), RosterSnapshotLoader.classFields(row, schoolIDs: schoolIDs))
        }
        let enrollmentUsers = Set((keysOf["enrollment"] ?? []).compactMap { RosterRecord.splitKey($0)?.0 }).sorted().map { SQLValue.text($0) }
        // A handful of distinct records (role, primary teacher): each one's fields and JSON made once.
        var records = RosterSnapshotLoader.EnrollmentRecords()
        for row in try db.query(chunking: enrollmentUsers, { "SELECT * FROM enrollments WHERE user_id IN (\($0))" }) {
            let (fields, json) = records.record(row)
            set("enrollment", RosterRecord.enrollmentKey(userID: try row.text("user_id"), classID: try row.text("class_id")), fields, json: json)
        }
        for row in try db.query(chunking: keys("demographics").map { .text($0) }, { "SELECT * FROM demographics WHERE user_id IN (\($0))" }) {
            set("demographics", try row.text("user_id"), RosterSnapshotLoader.demographicsFields(row))
        }
    }
}

extension Array {
    func chunked(_ size: Int) -> [ArraySlice<Element>] {
        stride(from: 0, to: count, by: size).map { self[$0..<Swift.min($0 + size, count)] }
    }
}
