import BatchCore
import Foundation

/// The roster batch (SPEC §4) on the shared lifecycle: a users.csv and, optionally, its demographics.csv. Each row
/// is an item; in sync mode one more item stands for what the file leaves out. Reading and the checks that need
/// only the file are `RosterFile`'s, planning against the data is `RosterPlanner`'s; this loads the snapshot the
/// planner needs, in a few queries for any number of rows.
public struct RosterHandler: BatchKindHandler {
    public let kind = BatchKind.roster
    public let limits = UploadLimits(maxFileBytes: 500 * 1024 * 1024, maxFiles: 2, extensions: ["csv", "txt"])
    /// demographics.csv is checked against the users.csv of the same batch.
    public let plansWholeBatch = true
    /// A state-size roster's plan takes half a minute; planned again at apply only if the data changed since.
    public let appliesKeptPlan = true
    /// A users.csv is kept as it came: written (a second at state size) while it is checked.
    public let keepsUploadAsIs = true

    public init() {}

    /// The roster options a batch keeps: the mode, and the district's grade list when the batch was made.
    public struct Options: Codable, Sendable {
        public var mode: String?
        public var allowMassChanges: Bool?
        public var grades: [String]?
    }

    /// Which of the two files this is, from its header (or its name when the header names neither).
    public static func isDemographics(fileName: String, bytes: Data) -> Bool {
        let head = String(decoding: bytes.prefix(4096), as: UTF8.self).split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
        let lower = head.lowercased().filter { $0 != "\0" }
        if lower.contains("userrole") || lower.contains("schoolid") || lower.contains("firstname") { return false }
        return lower.contains("birthdate") || lower.contains("sex") || namesDemographics(fileName)
    }

    /// Whether a file's name says it is demographics.csv (`demographics-errors.csv`, `Demographics 2026.csv`).
    public static func namesDemographics(_ fileName: String) -> Bool { fileName.lowercased().contains("demographic") }

    public func inspect(fileName: String, bytes: Data, firstItemID: Int64, batch: Batch) throws -> FileInspection {
        let options = JSONText.decode(Options.self, batch.options)
        let rules = RosterRowRules(grades: options?.grades ?? GradeLevels.oneRoster, today: Self.today())
        let demographics = Self.isDemographics(fileName: fileName, bytes: bytes)
        let dictionary = demographics ? RosterDictionaries.demographics : RosterDictionaries.users
        // The table's cells are let go once the rows are made (at state size they are half a gigabyte).
        var table: CSVTable? = nil
        switch CSVTable.read(bytes: bytes, fileName: fileName, dictionary: dictionary) {
        case .failure(let rejection): throw rejection
        case .success(let read): table = read
        }
        let warnings = table?.warnings ?? []
        let columns = table?.columns
        var items: [BatchItem] = []
        /// Row `position` of the file as an item, its issues placed in the file and row.
        /// `source`: where the row is in the file, when its values are its cells (`CSVTable.span(of:)`).
        @Sendable func item(_ position: Int, line: Int, values: RowValues, issues: [BatchIssue], source: FileSpan?) -> BatchItem {
            let placed = issues.isEmpty ? issues : issues.map { issue -> BatchIssue in
                var issue = issue
                issue.file = fileName
                issue.row = line
                return issue
            }
            var item = BatchItem(
                id: firstItemID + Int64(position), fileName: fileName, row: line, input: values,
                state: placed.contains { $0.severity == .error } ? .error : .ready, issues: placed)
            item.source = source
            return item
        }
        if demographics, let read = table {
            table = nil
            // Each row's own checks need nothing but the row: on every core.
            let checked = Parallel.map(
                elements: read.records.count,
                state: { (checker: RosterRowRules.DemographicsChecker(rules: rules, columns: read.rowColumns), columns: read.rowColumns.copy()) }
            ) { state, index in
                let record = read.records[index]
                // (Each piece's rows share a copy of the column list: see `RowValues.Columns`.)
                let values = read.values(of: record, listedIn: state.columns)
                return (record.line, values, state.checker.check(values, line: record.line), read.span(of: record))
            }
            items = Parallel.map(elements: checked.count) { position in
                let (line, values, issues, source) = checked[position]
                return item(position, line: line, values: values, issues: issues, source: source)
            }
        } else if let read = table {
            table = nil
            let file = RosterFile.inspect(users: read, demographics: nil, rules: rules)
            // (One row a record, in order; made on every core.) With room for the items of a demographics.csv received
            // with it, which the engine appends to these (a row a student; at half as many as these rows, a district
            // whose students have two rows or more): otherwise making room moves every item, an eighth of a second of
            // a state-size roster on one core. Room not used is never written.
            items = Parallel.map(elements: file.users.count, reserving: file.users.count / 2 + 1) { position in
                let row = file.users[position]
                return item(position, line: row.line, values: row.values, issues: row.issues, source: read.span(of: read.records[position]))
            }
            // The rows and records (their cells the items' now) are let go off the receive's path.
            Parallel.release(inBackground: (consume file, consume read))
            if RosterMode.of(options: batch.options) == .sync {
                items.append(
                    BatchItem(
                        id: firstItemID + Int64(items.count), fileName: fileName, row: nil,
                        input: [RosterPlanner.syncColumn: "true"], label: "Not in the file (sync)", state: .unchanged))
            }
        }
        return FileInspection(items: items, warnings: warnings, columns: columns)
    }

    static func today() -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd"
        return formatter.string(from: Date())
    }

    public func plan(_ items: consuming [BatchItem], batch: Batch, on db: any SQLConnection) throws -> [BatchItem] {
        try planForStoring(items, spanned: [], batch: batch, on: db)
    }

    /// The rows of `spanned` come back with only `RosterPlanner.columnsReadAfterPlan` (what `lockScope` and the
    /// counts read) and without labels: at state size their cells are 600 MB the store does not need.
    public func planForStoring(_ items: consuming [BatchItem], spanned: Set<String>, batch: Batch, on db: any SQLConnection) throws
        -> [BatchItem]
    {
        let mode = RosterMode.of(options: batch.options)
        let planner = RosterPlanner(snapshot: try RosterSnapshotLoader.load(for: items, mode: mode, on: db), mode: mode, scope: batch.scope)
        let planned = planner.plan(consume items, releasingCellsOf: spanned)
        // The data as it was (at state size 1.4 million enrollments and 200,000 people) is let go off the receive's
        // path: freed there, it had kept a re-import's plan step 0.6–0.7 s longer (alternate runs).
        Parallel.release(inBackground: consume planner)
        return planned
    }

    /// The roles of the people only sync removals name are read now; the counting over every item comes later.
    public func entityCounter(_ planned: [BatchItem], on db: any SQLConnection) throws -> @Sendable () -> [EntityCounts]? {
        var unnamed: Set<String> = []
        // (The sync item is the one without a row: a row's cells are not looked up by name, nor items copied, for
        // each of 1.6 million items on the way to storing them.)
        planned.withUnsafeBufferPointer { items in
            for index in items.indices where items[index].row == nil && RosterPlanner.isSyncItem(items[index].input) {
                for change in items[index].changes where change.entity == "person" { unnamed.insert(change.key) }
            }
        }
        var roles: [String: UserRole] = [:]
        for row in try db.query(chunking: unnamed.sorted().map { .text($0) }, { "SELECT user_id, user_role FROM people WHERE user_id IN (\($0))" }) {
            roles[try row.text("user_id")] = UserRole(rawValue: try row.text("user_role"))
        }
        let known = roles
        return { RosterSummary.counts(planned, roles: known) }
    }

    /// An add-update batch whose preview removes nothing: its changes are expected only to add and change records
    /// (`RosterWriter.checksOwnKeys`, which decides inside the transaction). Sync batches are the ones that remove
    /// (some removals, a person's school membership, are not among the preview's counts), so they keep the keys.
    public func checksOwnKeys(applying batch: Batch) -> Bool {
        RosterMode.of(options: batch.options) != .sync && !batch.entityCounts.isEmpty && batch.entityCounts.allSatisfy { $0.removed == 0 }
    }

    public var tablesWritten: [String] { ["people", "person_schools", "classes", "enrollments", "demographics"] }

    /// What `lockScope` and `isUsersRow` read of a row.
    public var lockKeyColumns: Set<String>? { ["userRole", "schoolId"] }

    /// The schools the rows name, and the people the changes are about.
    public func lockScope(_ items: [BatchItem]) -> LockScope {
        // Rows come person by person: a school or person repeating the previous one is not hashed again.
        // (Read through the buffer: an item read from the array is copied whole.)
        // The columns are found once in the first item's list, which a file's rows share (a row of another list is
        // read by name), and each change is read in place (a copy retained and released its five texts).
        var schools: Set<String> = [], people: Set<String> = []
        var lastSchool: String?, lastPerson: String?
        let shared = items.first?.input.columns
        let role = RowValues.Column(RosterPlanner.usersRowColumn, in: shared), schoolID = RowValues.Column("schoolId", in: shared)
        items.withUnsafeBufferPointer { items in
            for index in items.indices {
                if items[index].input[role] != nil, let school = items[index].input[schoolID], school != lastSchool {
                    schools.insert(school)
                    lastSchool = school
                }
                items[index].changes.withUnsafeBufferPointer { changes in
                    for position in changes.indices where changes[position].entity == "person" && changes[position].key != lastPerson {
                        people.insert(changes[position].key)
                        lastPerson = changes[position].key
                    }
                }
            }
        }
        return LockScope(schoolIDs: schools, people: people)
    }
}

/// Loads what a roster batch's rows name from the database.
enum RosterSnapshotLoader {
    /// The bytes of an empty text (a NULL cell read as "").
    static var noBytes: UnsafeBufferPointer<UInt8> { UnsafeBufferPointer(start: nil, count: 0) }

    static let personColumns: [(field: String, column: String)] = [
        ("userRole", "user_role"), ("loginId", "login_id"), ("firstName", "first_name"), ("middleName", "middle_name"),
        ("lastName", "last_name"), ("preferredFirstName", "preferred_first_name"), ("userEmail", "user_email"),
        ("userGrade", "user_grade"), ("userStatus", "user_status"), ("userDistrictId", "user_district_id"),
        ("userStateId", "user_state_id"),
    ]

    /// The columns `personFields` reads, in its order: `user_id`, then `personColumns` (not the search text and times).
    static let personSelection: String = {
        assert(personColumns.map(\.field) == RosterRecord.personFields, "`personFields` reads the fields in their order")
        return (["user_id"] + personColumns.map(\.column)).joined(separator: ", ")
    }()

    /// A person's users.csv fields from a row of `SELECT \(personSelection)`: read by position (200,000 people's
    /// cells at state size, where a name is hashed and looked up).
    static func personFields(_ row: SQLRow) -> RosterSnapshot.PersonFields { personFields(SQLCells(row: row)) }

    static func personFields(_ cells: SQLCells) -> RosterSnapshot.PersonFields {
        var values: [String] = []
        values.reserveCapacity(personColumns.count)
        for offset in personColumns.indices { values.append(cells.text(at: 1 + offset) ?? "") }
        return RosterSnapshot.PersonFields(values: values)
    }

    static func classFields(_ row: SQLRow, schoolIDs: [String: String]) -> [String: String] {
        var fields = ["schoolId": schoolIDs[row.optionalText("school_key") ?? ""] ?? "", "className": row.optionalText("class_name") ?? ""]
        if let grade = row.optionalText("class_grade"), !grade.isEmpty { fields["classGrade"] = grade }
        if let subject = row.optionalText("class_subject"), !subject.isEmpty { fields["classSubject"] = subject }
        return fields
    }

    static func enrollmentFields(_ row: SQLRow) -> [String: String] {
        enrollmentFields(role: row.optionalText("role") ?? "", primary: row.bool("primary_teacher"))
    }

    static func enrollmentFields(role: String, primary: Bool) -> [String: String] { ["role": role, "primaryTeacher": primary ? "true" : "false"] }

    /// `enrollmentFields` for many rows: a state-size district's 1.4 million enrollments are a handful of distinct
    /// records (role, primary teacher), each made once and shared instead of a dictionary a row.
    /// Each record's JSON (`RosterRecord.json`) is made with it, once.
    struct EnrollmentRecords {
        private var made: [(role: String, primary: Bool, fields: [String: String], json: String)] = []

        mutating func fields(_ row: SQLRow) -> [String: String] { record(row).fields }

        mutating func fields(role: String, primary: Bool) -> [String: String] { record(role: role, primary: primary).fields }

        mutating func record(_ row: SQLRow) -> (fields: [String: String], json: String) {
            record(role: row.optionalText("role") ?? "", primary: row.bool("primary_teacher"))
        }

        mutating func record(role: String, primary: Bool) -> (fields: [String: String], json: String) {
            if let known = made.first(where: { $0.role == role && $0.primary == primary }) { return (known.fields, known.json) }
            let fields = enrollmentFields(role: role, primary: primary)
            let json = RosterRecord.json(fields)
            made.append((role, primary, fields, json))
            return (fields, json)
        }
    }

    /// A demographics record's demographics.csv fields, those set only.
    static func demographicsFields(_ row: SQLRow) -> [String: String] { demographicsCells(row).dictionary.filter { !$0.value.isEmpty } }

    /// A demographics record as a row of `RosterSnapshot.demographicsColumns`, "" where not set (one array of cells
    /// instead of a dictionary a student).
    static func demographicsCells(_ row: SQLRow) -> RowValues {
        demographicsCells(flags: Demographics.flagCells(stored: row.optionalText("flags"))) { row.optionalText(demographicsColumns[$0]) }
    }

    /// `demographicsCells` of a row of `SELECT user_id, \(demographicsSelection)` (cells by position), its flags read
    /// once for each distinct text of them (`flags`).
    static func demographicsCells(_ row: SQLCells, flags: inout FlagCells) -> RowValues {
        demographicsCells(flags: row.withText(at: 3) { flags.of($0) }) { row.text(at: 1 + $0) }
    }

    /// `text`: the cell of `demographicsColumns[n]` for each n but the flags.
    private static func demographicsCells(flags: [String], _ text: (Int) -> String?) -> RowValues {
        var cells: [String] = []
        cells.reserveCapacity(RosterRecord.demographicsFields.count)
        for position in 0...1 { cells.append(text(position) ?? "") }
        cells += flags
        for position in 3...4 { cells.append(text(position) ?? "") }
        return RowValues(columns: RosterSnapshot.demographicsColumns, values: cells)
    }

    /// `Demographics.flagCells` of each distinct text of the flags column, read once: a district's 200,000 records
    /// have a few hundred (eleven yes/no flags), and reading each record's took half of reading the records.
    struct FlagCells {
        private var texts = DistinctTexts()
        private var cells: [[String]] = []

        /// The cells of a flags text (nil: NULL, no flags).
        mutating func of(_ stored: UnsafeBufferPointer<UInt8>?) -> [String] {
            guard let stored else { return Demographics.flagCells(stored: nil) }
            let (position, inserted) = texts.position(of: stored)
            if inserted { cells.append(Demographics.flagCells(stored: texts.texts[position])) }
            return cells[position]
        }
    }

    /// The demographics table's columns of a record, in the order `demographicsCells` reads them.
    static let demographicsColumns = ["birth_date", "sex", "flags", "home_language", "country_of_birth_code"]
    static let demographicsSelection = demographicsColumns.joined(separator: ", ")

    /// school key → school ID, and the snapshot's schools by ID.
    static func schools(on db: any SQLConnection) throws -> (byKey: [String: String], byID: [String: RosterSnapshot.School]) {
        var byKey: [String: String] = [:], byID: [String: RosterSnapshot.School] = [:]
        for row in try db.query("SELECT school_key, school_id, name FROM schools") {
            guard let id = row.optionalText("school_id"), !id.isEmpty else { continue }
            let key = try row.text("school_key")
            byKey[key] = id
            byID[id] = RosterSnapshot.School(key: SchoolKey(rawValue: key), name: try row.text("name"))
        }
        return (byKey, byID)
    }

    /// People by userId with their schools.
    static func people(_ named: NamedPeople, schoolIDs: [String: String], on db: any SQLConnection) throws -> [String: RosterSnapshot.Person] {
        var result: [String: RosterSnapshot.Person] = [:]
        guard !named.ids.isEmpty else { return result }
        result.reserveCapacity(named.ids.count)
        var keys: [String: [SchoolKey]] = [:]
        // (A school's key read once: a few hundred schools for 200,000 people.)
        var schoolKeys = DistinctTexts()
        try named.forEachRow(of: "person_schools", columns: "user_id, school_key", on: db) { row, user in
            let key = row.withText(at: 1) { schoolKeys.position(of: $0 ?? Self.noBytes).position }
            keys[user, default: []].append(SchoolKey(rawValue: schoolKeys.texts[key]))
        }
        // The school IDs of a person at one school (nearly everyone) are one set of that school's, made once.
        var atOneSchool: [SchoolKey: Set<String>] = [:]
        try named.forEachRow(of: "people", columns: personSelection, on: db) { row, id in
            let schoolKeys = keys[id] ?? []
            let ids: Set<String>
            if schoolKeys.count == 1, let known = atOneSchool[schoolKeys[0]] {
                ids = known
            } else if schoolKeys.count == 1 {
                ids = Set(schoolIDs[schoolKeys[0].rawValue].map { [$0] } ?? [])
                atOneSchool[schoolKeys[0]] = ids
            } else {
                ids = Set(schoolKeys.compactMap { schoolIDs[$0.rawValue] })
            }
            result[id] = RosterSnapshot.Person(fields: personFields(row), schoolIDs: ids, schoolKeys: schoolKeys)
        }
        return result
    }

    /// The people a snapshot reads the records of (by userId), and how: 500 people a statement through the user_id
    /// indexes, or, for a file naming at least half the people in the database (a re-import), whole tables with the
    /// rows of the people it does not name left out. A re-import read each of its 200,000 people's enrollments
    /// through the index, each row apart (its plan 4.0–4.2 → 3.6–3.8 s, docs/decisions.md round 28). On SQLite a
    /// table read whole gives one person's rows in the order the index does (the order written). UserIds are ASCII
    /// (`IdentifierRules`), which the set compares by their bytes, as `IN` does.
    struct NamedPeople: Sendable {
        let ids: Set<String>
        /// The userIds sorted, for the statements that name them; empty when whole tables are read.
        private let sorted: [SQLValue]

        /// `wholeTablesFrom`: the fewest people read with whole tables (a few thousand: a table read whole for a
        /// handful of people would read every other person's rows too).
        init(_ ids: Set<String>, on db: any SQLConnection, wholeTablesFrom: Int = 5_000) throws {
            self.ids = ids
            let whole = try ids.count >= wholeTablesFrom && Int64(ids.count) * 2 >= db.scalarInt("SELECT COUNT(*) FROM people")
            sorted = whole ? [] : ids.sorted().map { .text($0) }
        }

        var readsWholeTables: Bool { sorted.isEmpty && !ids.isEmpty }

        /// `columns` (the first of them `user_id`) of each row of `table` that is about one of the people, with that
        /// person's userId. A person's rows mostly come together (through the user_id index, or a table as written):
        /// the userId is made once for a run of them (the same string handed with each), and a whole table's row is
        /// asked about once a run. At state size a re-import reads 1.4 million enrollments this way.
        func forEachRow(of table: String, columns: String, on db: any SQLConnection, _ body: (SQLCells, String) throws -> Void) throws {
            var run = UserRun()
            guard readsWholeTables else {
                try db.forEachRow(chunking: sorted, { "SELECT \(columns) FROM \(table) WHERE user_id IN (\($0))" }) { row in
                    try body(row, try run.user(of: row, named: { _ in true }).user)
                }
                return
            }
            try db.forEachRow("SELECT \(columns) FROM \(table)", []) { row in
                let (user, named) = try run.user(of: row, named: ids.contains)
                if named { try body(row, user) }
            }
        }

        /// The userId of the rows read one after another, made again only when a row's bytes differ from the last.
        struct UserRun {
            static func same(_ text: UnsafeBufferPointer<UInt8>, _ bytes: [UInt8]) -> Bool {
                text.count == bytes.count && bytes.withUnsafeBufferPointer { known in
                    guard let start = known.baseAddress, let other = text.baseAddress else { return true }  // (both empty)
                    return memcmp(start, other, text.count) == 0
                }
            }

            private var bytes: [UInt8] = []
            private var last: (user: String, named: Bool)?

            mutating func user(of row: SQLCells, named: (String) -> Bool) throws -> (user: String, named: Bool) {
                try row.withText(at: 0) { text in
                    guard let text else { throw StoreError.corrupt("column user_id is NULL") }
                    if let last, Self.same(text, bytes) { return last }
                    bytes = Array(text)
                    let user = String(decoding: text, as: UTF8.self)
                    let found = (user, named(user))
                    last = found
                    return found
                }
            }
        }
    }

    /// The IDs that `ids` (those of digits only) would be with the leading zeros a spreadsheet removes put back
    /// (`ExcelDamage.restoredLeadingZeros`): 1 to 12 zeros, but only as long as an ID starting with 0 in `column` of
    /// `table` is. A users.csv whose every userId lost its zeros asked for twelve IDs of each of its 200,000 people,
    /// 2.4 million lookups, where the district's IDs starting with 0 all have one length.
    static func paddedCandidates(_ ids: some Collection<String>, column: String, of table: String, on db: any SQLConnection) throws -> [String] {
        guard !ids.isEmpty else { return [] }
        // (The IDs starting with 0 sort between '0' and '1': a range of the key's index.)
        let lengths = Set(
            try db.query("SELECT DISTINCT length(\(column)) AS n FROM \(table) WHERE \(column) >= '0' AND \(column) < '1'")
                .compactMap { $0["n"].int.map(Int.init) })
        guard !lengths.isEmpty else { return [] }
        var result: [String] = []
        for id in ids where !id.isEmpty && !id.hasPrefix("0") && id.utf8.allSatisfy({ (0x30...0x39).contains($0) }) {
            for zeros in 1...max(1, min(12, 64 - id.count)) where lengths.contains(id.utf8.count + zeros) {
                result.append(String(repeating: "0", count: zeros) + id)
            }
        }
        return result
    }

    /// The enrollments (by person, in class order as read) and demographics records of the people `named`.
    static func ownedRecords(of named: NamedPeople, on db: any SQLConnection) throws
        -> (enrollments: [String: [RosterSnapshot.Enrollment]], demographics: [String: RowValues])
    {
        var enrollments: [String: [RosterSnapshot.Enrollment]] = [:], demographics: [String: RowValues] = [:]
        var records = EnrollmentRecords()
        // A class's ID is held once for all its enrollments (forty students a class: 1.4 million texts of 16 bytes
        // or more, each an allocation of its own, held through the plan).
        var classIDs = DistinctTexts()
        // Kept by person: the rows come person by person (through the user_id index, or a table as written, a
        // person's rows together), so each person's list is made whole and put in once; a person whose rows come
        // apart has the later ones added.
        enrollments.reserveCapacity(named.ids.count)
        var runUser: String?, run: [RosterSnapshot.Enrollment] = []
        func endRun() {
            guard let runUser, !run.isEmpty else { return }
            enrollments[runUser, default: []] += run
        }
        // (1.4 million rows: their cells are read by position, in the order the statement names them, and where they
        // are: a class ID or role is looked up by its bytes, no string made of it.)
        // (The role and primary-teacher flag of most rows are the last row's: their record is then the last one.)
        var roles = DistinctTexts()
        var last: (role: Int, primary: Bool, fields: [String: String])?
        try named.forEachRow(of: "enrollments", columns: "user_id, class_id, role, primary_teacher", on: db) { row, user in
            if user != runUser {
                endRun()
                runUser = user
                run = []
            }
            let role = row.withText(at: 2) { roles.position(of: $0 ?? Self.noBytes).position }, primary = row.bool(at: 3)
            let fields: [String: String]
            if let last, last.role == role, last.primary == primary {
                fields = last.fields
            } else {
                fields = records.fields(role: roles.texts[role], primary: primary)
                last = (role, primary, fields)
            }
            let classID = try row.withText(at: 1) { text in
                guard let text else { throw StoreError.corrupt("column class_id is NULL") }
                return classIDs.position(of: text).position
            }
            run.append(RosterSnapshot.Enrollment(classID: classIDs.texts[classID], fields: fields))
        }
        endRun()
        demographics.reserveCapacity(named.ids.count)
        var flags = FlagCells()
        try named.forEachRow(of: "demographics", columns: "user_id, \(demographicsSelection)", on: db) { row, user in
            demographics[user] = demographicsCells(row, flags: &flags)
        }
        return (enrollments, demographics)
    }

    static func load(for items: [BatchItem], mode: RosterMode, on db: any SQLConnection) throws -> RosterSnapshot {
        var snapshot = RosterSnapshot()
        let (schoolIDs, schools) = try schools(on: db)
        snapshot.schools = schools
        // A district's first roster meets empty tables: then no row's people or classes are collected and looked
        // for (1.4 million class IDs and 200,000 people hashed, sorted and asked for in hundreds of queries).
        // Enrollments and demographics belong to people, so there are none of those either.
        let anyPeople = try !db.query("SELECT user_id FROM people LIMIT 1").isEmpty
        let anyClasses = try !db.query("SELECT class_id FROM classes LIMIT 1").isEmpty
        var userIDs: Set<String> = [], classIDs: Set<String> = []
        // The login IDs and addresses the rows give, with the person each is given to.
        var loginClaims: [(user: String, login: String)] = [], emailClaims: [(user: String, key: String)] = []
        var namedSchools: Set<String> = []
        // Rows come person by person: the person columns of a row repeating the previous row's userId are the same
        // (or the row is an error), so they are not hashed again. Whether a row's userId or school repeats the last
        // row's is told by the numbers of their texts (`CellChanges`), no string read.
        var userCells = CellChanges(), schoolCells = CellChanges()
        // (Read through the buffer: an item read from the array is copied whole.)
        if anyPeople || anyClasses || mode == .sync {
            // The columns are found once in the first file's list, which its rows share (a row with another list is
            // read by name).
            let shared = items.first?.input.columns
            let userColumn = RowValues.Column("userId", in: shared), roleColumn = RowValues.Column(RosterPlanner.usersRowColumn, in: shared)
            let classColumn = RowValues.Column("classId", in: shared), schoolColumn = RowValues.Column("schoolId", in: shared)
            let loginColumn = RowValues.Column("loginId", in: shared), emailColumn = RowValues.Column("userEmail", in: shared)
            // Whether a row is a users.csv row (`RosterPlanner.isUsersRow`), found once for the shared list.
            let sharedIsUsers = shared?.position(of: RosterPlanner.usersRowColumn) != nil
            @Sendable func isUsersRow(_ input: RowValues) -> Bool { input.columns.sameList(as: shared) ? sharedIsUsers : input[roleColumn] != nil }
            // The class IDs (one on nearly every row) are gathered on another core, each distinct text of a piece of
            // the file once (`TextAnswers`).
            (classIDs, _) = Parallel.both({ [items] in
                var classIDs: Set<String> = []
                guard anyClasses else { return classIDs }
                var answers = TextAnswers()
                items.withUnsafeBufferPointer { items in
                    for index in items.indices where isUsersRow(items[index].input) {
                        _ = answers.answer(items[index].input, classColumn) { id in
                            if !id.isEmpty { classIDs.insert(id) }
                            return 0
                        }
                    }
                }
                return classIDs
            }) {
                items.withUnsafeBufferPointer { items in
                    for index in items.indices {
                        let input = items[index].input
                        let newUser = userCells.differs(input, userColumn)
                        if anyPeople, newUser, let user = input[userColumn], !user.isEmpty { userIDs.insert(user) }
                        guard isUsersRow(input) else { continue }
                        if schoolCells.differs(input, schoolColumn), let school = input[schoolColumn], !school.isEmpty { namedSchools.insert(school) }
                        guard anyPeople, newUser || items[index].state == .error else { continue }
                        let user = input[userColumn]
                        if let login = input[loginColumn], !login.isEmpty { loginClaims.append((user ?? "", login.lowercased())) }
                        if let email = input[emailColumn], !email.isEmpty { emailClaims.append((user ?? "", Store.emailKey(email))) }
                    }
                }
            }
        }
        // The enrollments and demographics of the rows' people are read on another connection beside the rest,
        // where the database has one (`SQLConnection.beside`). They are asked for by every userId the rows give:
        // both belong to people, so those not in the database have none.
        let named = try NamedPeople(userIDs, on: db)
        let (owned, _) = try db.beside(reading: { reader in try ownedRecords(of: named, on: reader) }) {
            snapshot.people = try people(named, schoolIDs: schoolIDs, on: db)
            // Who else holds a login ID or address is asked only where the row's person does not hold it already:
            // both are unique, so nobody else can. (A re-import gives nearly everyone what they have: 200,000 of each
            // not asked for.)
            let holders = snapshot.people
            var logins: Set<String> = [], emails: Set<String> = []
            for (user, login) in loginClaims where holders[user]?.fields["loginId"].map({ $0.lowercased() == login }) != true {
                logins.insert(login)
            }
            for (user, key) in emailClaims where holders[user]?.fields["userEmail"].map({ Store.emailKey($0) == key }) != true {
                emails.insert(key)
            }
            for row in try db.query(chunking: logins.sorted().map { .text($0) }, { "SELECT user_id, login_id FROM people WHERE login_id IN (\($0))" }) {
                snapshot.loginOwners[try row.text("login_id")] = try row.text("user_id")
            }
            for row in try db.query(chunking: emails.sorted().map { .text($0) }, { "SELECT user_id, user_email FROM people WHERE email_key IN (\($0))" }) {
                snapshot.emailOwners[EmailAddress.key(try row.text("user_email"))] = try row.text("user_id")
            }
            // The holders who are not among the file's people: a clash names them.
            let holderIDs = Set(snapshot.loginOwners.values).union(snapshot.emailOwners.values).subtracting(snapshot.people.keys)
            if !holderIDs.isEmpty { snapshot.holders = try people(NamedPeople(holderIDs, on: db), schoolIDs: schoolIDs, on: db) }
            let missingUsers = userIDs.filter { snapshot.people[$0] == nil }
            for row in try db.query(chunking: paddedCandidates(missingUsers, column: "user_id", of: "people", on: db).map { .text($0) }, { "SELECT user_id FROM people WHERE user_id IN (\($0))" }) {
                snapshot.paddedUserIDs.insert(try row.text("user_id"))
            }
            for row in try db.query(chunking: classIDs.sorted().map { .text($0) }, { "SELECT * FROM classes WHERE class_id IN (\($0))" }) {
                snapshot.classes[try row.text("class_id")] = classFields(row, schoolIDs: schoolIDs)
            }
            let missingClasses = classIDs.filter { snapshot.classes[$0] == nil }
            for row in try db.query(chunking: paddedCandidates(missingClasses, column: "class_id", of: "classes", on: db).map { .text($0) }, { "SELECT class_id FROM classes WHERE class_id IN (\($0))" }) {
                snapshot.paddedClassIDs.insert(try row.text("class_id"))
            }
        }
        snapshot.enrollments = owned.enrollments
        snapshot.demographics = owned.demographics
        var records = EnrollmentRecords()
        if mode == .sync {
            let keys = namedSchools.compactMap { schools[$0]?.key.rawValue }.sorted().map { SQLValue.text($0) }
            let members = try db.query(chunking: keys, { "SELECT DISTINCT user_id FROM person_schools WHERE school_key IN (\($0))" })
                .compactMap { $0.optionalText("user_id") }
            snapshot.syncPeople = try people(NamedPeople(Set(members), on: db), schoolIDs: schoolIDs, on: db)
            for row in try db.query(chunking: keys, {
                "SELECT e.*, c.school_key FROM enrollments e JOIN classes c ON c.class_id = e.class_id WHERE c.school_key IN (\($0))"
            }) {
                let classID = try row.text("class_id")
                snapshot.syncEnrollments[RosterRecord.enrollmentKey(userID: try row.text("user_id"), classID: classID)] = records.fields(row)
                if snapshot.classes[classID] == nil {
                    snapshot.classes[classID] = ["schoolId": schoolIDs[row.optionalText("school_key") ?? ""] ?? ""]
                }
            }
        }
        return snapshot
    }
}
