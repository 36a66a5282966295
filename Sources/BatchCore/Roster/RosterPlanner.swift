import Foundation

/// What a roster batch is planned against: the records its rows name, as the database holds them now, with
/// fields by their users.csv / demographics.csv names. Loaded by the store in a few queries; planning itself
/// asks nothing more.
public struct RosterSnapshot: Sendable {
    public struct School: Sendable, Hashable {
        public var key: SchoolKey
        public var name: String
        public init(key: SchoolKey, name: String) {
            self.key = key
            self.name = name
        }
    }

    /// A person's users.csv fields: one cell a field of `RosterRecord.personFields`, in that order, "" where not set.
    /// Read by name like a dictionary of the fields set. (A re-import's snapshot holds everyone the file names, 206,000
    /// people at state size: a dictionary each, eleven keys hashed into it, was about three times the memory.)
    public struct PersonFields: Sendable, Hashable {
        public private(set) var values: [String]
        static let positions = Dictionary(uniqueKeysWithValues: RosterRecord.personFields.enumerated().map { ($1, $0) })

        /// `values`: one a field of `RosterRecord.personFields`, in its order.
        public init(values: [String]) {
            precondition(values.count == RosterRecord.personFields.count, "a person has one value a field")
            self.values = values
        }

        /// The fields set in `dictionary` (any other key is left out).
        public init(_ dictionary: [String: String]) {
            values = RosterRecord.personFields.map { dictionary[$0] ?? "" }
        }

        /// The value of field `name`; nil when it is not set (or not a person field).
        public subscript(name: String) -> String? {
            guard let position = Self.positions[name], !values[position].isEmpty else { return nil }
            return values[position]
        }

        /// The value of the field at `position` in `RosterRecord.personFields`, "" when not set.
        public subscript(position position: Int) -> String { values[position] }

        /// The fields set, by name.
        public var dictionary: [String: String] {
            var fields: [String: String] = [:]
            for (name, value) in zip(RosterRecord.personFields, values) where !value.isEmpty { fields[name] = value }
            return fields
        }
    }

    public struct Person: Sendable, Hashable {
        /// users.csv person fields (`RosterRecord.personFields`).
        public var fields: PersonFields
        /// The school IDs of the person's schools.
        public var schoolIDs: Set<String>
        public var schoolKeys: [SchoolKey]
        public init(fields: PersonFields, schoolIDs: Set<String>, schoolKeys: [SchoolKey]) {
            self.fields = fields
            self.schoolIDs = schoolIDs
            self.schoolKeys = schoolKeys
        }
        /// `fields`: the fields set, by name.
        public init(fields: [String: String], schoolIDs: Set<String>, schoolKeys: [SchoolKey]) {
            self.init(fields: PersonFields(fields), schoolIDs: schoolIDs, schoolKeys: schoolKeys)
        }
        public var role: UserRole { UserRole(rawValue: fields["userRole"] ?? "") ?? .staff }
    }

    /// By school ID (every school: a district has hundreds at most).
    public var schools: [String: School] = [:]
    /// By userId: the file's people, and the holders of its login IDs and addresses.
    public var people: [String: Person] = [:]
    /// By classId: `schoolId`, `className`, `classGrade`, `classSubject`.
    public var classes: [String: [String: String]] = [:]
    /// One class a person is enrolled in: `role`, `primaryTeacher`.
    public struct Enrollment: Sendable, Hashable {
        public var classID: String
        public var fields: [String: String]
        public init(classID: String, fields: [String: String]) {
            self.classID = classID
            self.fields = fields
        }
    }

    /// By userId: the person's enrollments. Kept by person, not by `userId|classId`: a file's rows come person by
    /// person, so the planner looks a person's list up once for their run of rows, and a state-size district's 1.4
    /// million enrollments are 200,000 entries here instead of 1.4 million keys made and hashed.
    public var enrollments: [String: [Enrollment]] = [:]
    /// Adds an enrollment (the loader and tests).
    public mutating func addEnrollment(userID: String, classID: String, fields: [String: String]) {
        enrollments[userID, default: []].append(Enrollment(classID: classID, fields: fields))
    }
    /// By userId: demographics.csv fields, as rows of `demographicsColumns` ("" where not set).
    public var demographics: [String: RowValues] = [:]
    /// `RosterRecord.demographicsFields`, shared by every `demographics` record the loader makes.
    public static let demographicsColumns = RowValues.Columns(RosterRecord.demographicsFields)
    /// Lower-cased login ID → userId.
    public var loginOwners: [String: String] = [:]
    /// By userId: the holders of the file's login IDs and addresses who are not among the file's people, so that a
    /// clash can say whose the login ID or address is.
    public var holders: [String: Person] = [:]
    /// E-mail key → userId.
    public var emailOwners: [String: String] = [:]
    /// userIds and classIds that exist once leading zeros are put back (`123` → `000123`).
    public var paddedUserIDs: Set<String> = []
    public var paddedClassIDs: Set<String> = []
    /// In sync mode: everyone at the schools the file names, and every enrollment in their classes.
    public var syncPeople: [String: Person] = [:]
    public var syncEnrollments: [String: [String: String]] = [:]

    public init() {}
}

/// How the records a roster batch writes are keyed and written down in its changes.
public enum RosterRecord {
    public static let personFields = RosterFile.personColumns
    public static let classFields = ["className", "classGrade", "classSubject"]
    public static let demographicsFields =
        ["birthDate", "sex"] + Demographics.flagColumns.map(\.column) + ["homeLanguage", "countryOfBirthCode"]

    /// A person's membership of a class: `userId|classId` (a userId never holds `|`).
    public static func enrollmentKey(userID: String, classID: String) -> String { userID + "|" + classID }
    /// A person's membership of a school: `userId|schoolId`.
    public static func membershipKey(userID: String, schoolID: String) -> String { userID + "|" + schoolID }
    public static func splitKey(_ key: String) -> (String, String)? {
        splitKeyInPlace(key).map { (String($0.0), String($0.1)) }
    }

    /// `splitKey`'s parts as slices of `key` (found by its bytes, not by its characters).
    public static func splitKeyInPlace(_ key: String) -> (Substring, Substring)? {
        guard let bar = key.utf8.firstIndex(of: UInt8(ascii: "|")) else { return nil }
        return (key[..<bar], key[key.utf8.index(after: bar)...])
    }

    /// A whole record as the `after` of its creation (or the `before` of its removal): its fields as JSON with
    /// sorted keys, empty values left out, so the same record always reads the same.
    public static func json(_ fields: [String: String]) -> String {
        FlatJSON.object(fields.filter { !$0.value.isEmpty })
    }

    /// The field lists of a person and of a demographics record, sorted as `json` writes them.
    static let sortedPersonFields = personFields.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
    static let sortedDemographicsFields = demographicsFields.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }

    public static func fields(_ json: String?) -> [String: String] {
        guard let json else { return [:] }
        return FlatJSON.readObject(json) ?? [:]
    }
}

/// add-update or sync (SPEC §4.4).
public enum RosterMode: String, Sendable, Codable, CaseIterable {
    case addUpdate = "add-update"
    case sync

    public static func of(options: String) -> RosterMode {
        struct Options: Decodable { var mode: String? }
        let decoded = options.data(using: .utf8).flatMap { try? JSONDecoder().decode(Options.self, from: $0) }
        return decoded?.mode.flatMap(RosterMode.init(rawValue:)) ?? .addUpdate
    }
}

/// Plans a roster batch (users.csv rows, demographics.csv rows, and in sync mode the one item that stands for
/// what the file leaves out) against a snapshot: finds what each row creates, updates or removes, and the
/// problems only the database shows — scope, login IDs and addresses in use, lost leading zeros, new schools and
/// classes without a name, a class moving school. Pure: the same items and snapshot always plan the same.
public struct RosterPlanner: Sendable {
    public var snapshot: RosterSnapshot
    public var mode: RosterMode
    public var scope: AccessScope

    public init(snapshot: RosterSnapshot, mode: RosterMode, scope: AccessScope) {
        self.snapshot = snapshot
        self.mode = mode
        self.scope = scope
    }

    /// The key of the item that stands for the records a sync file leaves out.
    public static let syncColumn = "syncRemovals"

    public static func isUsersRow(_ item: BatchItem) -> Bool { isUsersRow(item.input) }
    public static func isSyncItem(_ item: BatchItem) -> Bool { isSyncItem(item.input) }
    /// The same from a row's cells: loops over a whole batch read them through the array instead of copying items.
    public static func isUsersRow(_ input: RowValues) -> Bool { input[usersRowColumn] != nil }
    /// The column only users.csv rows have.
    public static let usersRowColumn = "userRole"
    public static func isSyncItem(_ input: RowValues) -> Bool { input[syncColumn] != nil }

    /// A users.csv row's value, normalised as it is stored.
    static func stored(_ column: String, _ input: RowValues) -> String { stored(column, value: input[column] ?? "") }

    static func stored(_ column: String, value: String) -> String { StoredForm(of: column).stored(value) }

    /// How a column's value is stored.
    enum StoredForm: Sendable {
        case asIs, lowercased, status, boolean

        init(of column: String) {
            // The columns of every row first, compared as they are (no hash of the name).
            switch column {
            case "userStatus": self = .status
            case "primaryTeacher": self = .boolean
            case "userRole", "loginId", "action": self = .lowercased
            default: self = lowercasedColumns.contains(column) ? .lowercased : .asIs
            }
        }

        func stored(_ value: String) -> String {
            switch self {
            case .asIs: value
            case .lowercased: RosterPlanner.lowercased(value)
            case .status: value.isEmpty ? UserStatus.active.rawValue : RosterPlanner.lowercased(value)
            case .boolean: RosterPlanner.lowercased(value) == "true" ? "true" : "false"
            }
        }
    }

    /// What the planner reads of a users.csv row: its cells, read where a file's columns are (`Positions`, found once
    /// a file). Two references, no allocation a row: a class a row holding the ten strings was 280 MB at state size.
    /// The passes over every row read them in place (through the array's buffer, a field at a time): a row copied
    /// counted its references up and down, `Positions` one object every row holds, on the cores that read the rows at
    /// once.
    struct UsersRow: Sendable {
        let values: Cells
        let positions: Positions

        init(_ input: RowValues) { self.init(input, Positions(input.columns)) }

        /// `positions`: those of `input`'s columns.
        init(_ input: RowValues, _ positions: Positions) {
            values = input.values
            self.positions = positions
        }

        @inline(__always) private func value(_ position: Int?) -> String? { position.map { values[$0] } }
        var userID: String { value(positions.userID) ?? "" }
        var schoolID: String { value(positions.schoolID) ?? "" }
        var classID: String { value(positions.classID) ?? "" }
        var schoolName: String? { value(positions.schoolName) }
        var className: String? { value(positions.className) }
        var loginID: String? { value(positions.loginID) }
        var email: String? { value(positions.email) }
        /// Stored forms (lower-cased, `RosterPlanner.stored`).
        var login: String { RosterPlanner.lowercased(loginID ?? "") }
        var action: String { RosterPlanner.lowercased(value(positions.action) ?? "") }
        var role: String { RosterPlanner.lowercased(value(positions.role) ?? "") }

        /// Where a file's columns are that a `UsersRow` reads: found once a file, not by name in every row.
        final class Positions: Sendable {
            let columns: RowValues.Columns
            let userID, schoolID, classID, schoolName, className, loginID, email, action, role, lastName, firstName: Int?

            init(_ columns: RowValues.Columns) {
                self.columns = columns
                userID = columns.position(of: "userId")
                schoolID = columns.position(of: "schoolId")
                classID = columns.position(of: "classId")
                schoolName = columns.position(of: "schoolName")
                className = columns.position(of: "className")
                loginID = columns.position(of: "loginId")
                email = columns.position(of: "userEmail")
                action = columns.position(of: "action")
                role = columns.position(of: "userRole")
                lastName = columns.position(of: "lastName")
                firstName = columns.position(of: "firstName")
                person = StoredFields(RosterRecord.personFields, in: columns)
                sortedPerson = StoredFields(RosterRecord.sortedPersonFields, in: columns)
                demographics = StoredFields(RosterRecord.demographicsFields, in: columns)
                sortedDemographics = StoredFields(RosterRecord.sortedDemographicsFields, in: columns)
            }

            /// A person's and a demographics record's fields, in the order of their field lists and of the sorted
            /// lists (as a record's JSON writes them). Found by name in every row, the 15 demographics fields were
            /// most of a re-import's demographics changes.
            let person, sortedPerson, demographics, sortedDemographics: StoredFields

            /// The same positions in an object (and lists) of their own, for one piece of the rows planned on one
            /// core. An object read by every row on two cores at once has its reference count, one cache line,
            /// passed between them at each row: in a profile of the plan's last pass, a third of its time was
            /// counting references up and down on two cores against a tenth on one.
            func own() -> Positions { Positions(columns) }
        }
    }

    /// Fields of a record read from a file's rows by position, in stored form (`stored`): where each is in the
    /// file's columns and how it is stored, found once a file.
    struct StoredFields: Sendable {
        let names: [String]
        let positions: [Int?]
        let forms: [StoredForm]

        init(_ names: [String], in columns: RowValues.Columns) {
            // (A list of its own, not the shared constant: see `Positions.own`.)
            self.names = names.map { $0 }
            positions = names.map(columns.position(of:))
            forms = names.map(StoredForm.init(of:))
        }

        /// The stored form of the field at `index` in `cells` (a row of the file), nil when the file has no such column.
        func value(_ index: Int, of cells: Cells) -> String? {
            positions[index].map { forms[index].stored(cells[$0]) }
        }

        /// The changes from a stored record (`before`: its value of each field, "" where not set) to the row's fields
        /// that its file has.
        func changes(entity: String, key: String, of cells: Cells, from before: (Int) -> String) -> [FieldChange] {
            var changes: [FieldChange] = []
            for index in names.indices {
                guard let after = value(index, of: cells) else { continue }
                let before = before(index)
                if after != before {
                    changes.append(
                        FieldChange(
                            entity: entity, key: key, field: names[index], before: before.isEmpty ? nil : before, after: after.isEmpty ? nil : after))
                }
            }
            return changes
        }
    }

    /// The columns stored lower-cased.
    static let lowercasedColumns: Set<String> = Set(["userRole", "loginId", "action", "sex"] + Demographics.flagColumns.map(\.column))

    /// Most values already are (`student`, `true`): those are returned as they are.
    static func lowercased(_ value: String) -> String {
        value.utf8.contains(where: { (0x41...0x5A).contains($0) || $0 >= 0x80 }) ? value.lowercased() : value
    }

    /// The items, read by the pieces that read them at once (read only).
    private struct SharedItems: @unchecked Sendable { let buffer: UnsafeBufferPointer<BatchItem> }

    /// Which kind of row an item is: every row of a file is the same kind.
    enum RowKind { case users, demographics, sync }

    /// The distinct column lists of the items (one a file: its rows share theirs; a row read back as an object has its
    /// own), each with where the planner's columns are in it and the kind of row it makes, and each item's index
    /// among them. Found once a column list, in one pass (by the list, then the previous row's; the copies of a list
    /// one core's rows share are one list).
    static func fileColumns(_ inputs: [RowValues]) -> (files: [(positions: UsersRow.Positions, kind: RowKind)], of: [Int]) {
        var files: [(positions: UsersRow.Positions, kind: RowKind)] = []
        var known: [Int: Int] = [:]
        var of: [Int] = []
        of.reserveCapacity(inputs.count)
        for input in inputs {
            if let last = files.indices.last, files[last].positions.columns.sameList(as: input.columns) {
                of.append(last)
            } else if let index = known[input.columns.list] {
                of.append(index)
            } else {
                let kind: RowKind = isUsersRow(input) ? .users : isSyncItem(input) ? .sync : .demographics
                known[input.columns.list] = files.count
                of.append(files.count)
                files.append((UsersRow.Positions(input.columns), kind))
            }
        }
        return (files, of)
    }

    /// `input`: handed over (the caller keeps no reference), the items are planned in place rather than copied
    /// (at state size a copy is a quarter of a gigabyte). `releasing`: the files whose rows the store keeps as where
    /// they are in the file as uploaded (`BatchItem.source`): their items come back with only the cells read after
    /// the plan (`columnsReadAfterPlan`) and without a label, both read from the kept file again by whoever needs them.
    public func plan(_ input: consuming [BatchItem], releasingCellsOf releasing: Set<String> = []) -> [BatchItem] {
        // The items to plan, without what an earlier plan gave them (on every core).
        var items = consume input
        Parallel.update(&items) { item, _ in
            if !item.issues.isEmpty { item.issues.removeAll { $0.planned == true } }
            if !item.changes.isEmpty { item.changes = [] }
        }
        // What the passes below read of every item, taken out once: reading a field of an item in the array
        // copies the whole item (its references counted up and down), which at 1.6 million items a pass was
        // seconds. Written back to the items only where they change. (A field through the buffer: the closure of
        // `buffer.map` would be handed whole items.)
        // (Both on every core.)
        var (inputs, isUsable) = items.withUnsafeBufferPointer { buffer in
            let shared = SharedItems(buffer: buffer)
            return (
                Parallel.map(elements: buffer.count) { shared.buffer[$0].input },
                Parallel.map(elements: buffer.count) { shared.buffer[$0].state != .skipped && !shared.buffer[$0].issues.contains { $0.severity == .error } }
            )
        }
        let (files, fileOf) = Self.fileColumns(inputs)
        let kinds = fileOf.map { files[$0].kind }
        let users = inputs.indices.filter { kinds[$0] == .users }
        let demographics = inputs.indices.filter { kinds[$0] == .demographics }
        var rows: [UsersRow] = []
        do {
            let inputs = inputs
            // (Each written in its place: no pieces joined.)
            rows = Parallel.map(elements: users.count) { position in UsersRow(inputs[users[position]], files[fileOf[users[position]]].positions) }
        }
        func fail(_ index: Int, _ code: String, _ column: String, _ message: String, fix: String) {
            let item = items[index]
            items[index].issues.append(
                BatchIssue(
                    .error, code: code, message: "Row \(item.row ?? 0), \(column): \(message)", fix: fix, file: item.fileName,
                    row: item.row, column: column, value: item.input[column] ?? ""
                ).fromPlanning)
            isUsable[index] = false
        }
        func usable(_ index: Int) -> Bool { isUsable[index] }
        var usersFiles: [String] = []
        items.withUnsafeBufferPointer { buffer in
            for index in users where usersFiles.last != buffer[index].fileName && !usersFiles.contains(buffer[index].fileName) {
                usersFiles.append(buffer[index].fileName)
            }
        }
        if usersFiles.count > 1 {
            for index in users where items[index].fileName != usersFiles[0] {
                fail(
                    index, "second_users_file", "userId", "this batch already has a users.csv (\(usersFiles[0])).",
                    fix: "Send one users.csv a batch; start a new batch for this file.")
            }
        }

        // Names given anywhere in the file for new schools and classes, whose login ID and address move in this
        // batch (the old ones are then free), and the students of the users.csv rows, whom demographics.csv rows must
        // name (checked below): three passes over the rows at once.
        // (A row repeating the previous row's school, once that school has its name, is not looked up.)
        let (namesGiven, (students, moving)) = Parallel.both({ [rows] in
            var schoolNames: [String: String] = [:]
            var lastNamedSchool: String?
            var classIDs = DistinctTexts(), classOf = [Int32](repeating: -1, count: rows.count), classNames: [String?] = []
            // (Each row read in place: see `UsersRow`.)
            rows.withUnsafeBufferPointer { rows in
                for position in rows.indices {
                    let schoolID = rows[position].schoolID
                    if schoolID != lastNamedSchool, let name = rows[position].schoolName, !name.isEmpty {
                        if schoolNames[schoolID] == nil { schoolNames[schoolID] = name }
                        lastNamedSchool = schoolID
                    }
                    let classID = rows[position].classID
                    guard !classID.isEmpty else { continue }
                    let (number, inserted) = classIDs.position(of: classID)
                    if inserted { classNames.append(nil) }
                    classOf[position] = Int32(number)
                    if classNames[number] == nil, let name = rows[position].className, !name.isEmpty { classNames[number] = name }
                }
            }
            // (Each class looked up in the data once, not once a row.)
            let existing = classIDs.texts.map { snapshot.classes[ifAny: $0] }
            return (schools: schoolNames, classes: FileClasses(of: classOf, names: classNames, existing: existing))
        }) {
            Parallel.both({ [rows] in
                demographics.isEmpty
                    ? [] : rows.withUnsafeBufferPointer { rows in RosterFile.students(rows.indices, userID: { rows[$0].userID }, role: { rows[$0].role }) }
            }) {
                var fileLogin: [String: String] = [:], fileEmail: [String: String] = [:]
                // Read only about a login ID or address someone in the data holds: none, no list (a district's first
                // roster). (Room for every person at once: grown as they came, each table was hashed again at every
                // doubling.)
                let logins = !snapshot.loginOwners.isEmpty, emails = !snapshot.emailOwners.isEmpty
                guard logins || emails else { return (logins: fileLogin, emails: fileEmail) }
                if logins { fileLogin.reserveCapacity(users.count / 4) }
                if emails { fileEmail.reserveCapacity(users.count / 4) }
                var previousUser: String?
                rows.withUnsafeBufferPointer { rows in
                    for (position, index) in users.enumerated() where usable(index) && rows[position].userID != previousUser {
                        let userID = rows[position].userID
                        previousUser = userID
                        if logins && rows[position].loginID != nil { fileLogin[userID] = rows[position].login }
                        if emails, let email = rows[position].email { fileEmail[userID] = EmailAddress.key(email) }
                    }
                }
                return (logins: fileLogin, emails: fileEmail)
            }
        }
        let schoolNames = namesGiven.schools, fileClasses = namesGiven.classes
        let fileLogin = moving.logins, fileEmail = moving.emails

        // Checks against the database, row by row, on every core: each piece of the rows finds its problems, which
        // are then given to their rows in file order (a row has one at most). The checks about a row's school and
        // those about its person need only that ID: a file's rows come school by school and person by person, so
        // they are made once a run.
        // (Read through the buffer: an item read from the array is copied whole.)
        func fileRows(_ indices: [Int]) -> [RosterFile.Row] {
            items.withUnsafeBufferPointer { items in
                indices.map { RosterFile.Row(file: items[$0].fileName, line: items[$0].row ?? 0, values: items[$0].input, issues: items[$0].issues) }
            }
        }
        // demographics.csv's rows are checked against users.csv's students on this thread meanwhile (the checks
        // against the database give problems to users.csv rows only): alone, they left a core idle.
        var demographicRows = fileRows(demographics)
        let demographicsBefore = demographicRows.map(\.issues.count)
        let (problems, _) = Parallel.both({ [rows, isUsable] in
            Parallel.map(users.count, minimumPiece: 20_000) { range in
                databaseProblems(
                    rows: rows, of: users, in: range, usable: isUsable,
                    names: (schoolNames, fileClasses), moving: (fileLogin, fileEmail))
            }
        }) {
            if users.isEmpty {
                for index in demographicRows.indices where demographicRows[index].issues.isEmpty || !demographicRows[index].hasErrors {
                    demographicRows[index].issues.append(
                        RosterFile.issue(
                            .error, "demographics_without_users", demographicRows[index], "userId",
                            "demographics.csv is accepted only together with its users.csv, and this batch has none.",
                            fix: "Upload users.csv and demographics.csv together in one batch."))
                }
            } else if !demographics.isEmpty {
                RosterFile.checkDemographics(&demographicRows, students: students)
            }
        }
        for (index, problem) in problems { fail(index, problem.code, problem.column, problem.message, fix: problem.fix) }

        // The rows that depend on a bad one (users.csv rows are looked at again only when one of them has an error: a
        // bad row is what others depend on).
        let anyBadUser = items.withUnsafeBufferPointer { buffer in users.contains { buffer[$0].issues.contains { $0.severity == .error } } }
        var userRows = anyBadUser ? fileRows(users) : []
        let before = (users: userRows.map(\.issues.count), demographics: demographicsBefore)
        RosterFile.skipDependents(&userRows, &demographicRows)
        for (position, index) in users.enumerated() where anyBadUser && userRows[position].issues.count > before.users[position] {
            items[index].issues += userRows[position].issues.dropFirst(before.users[position]).map(\.fromPlanning)
            isUsable[index] = isUsable[index] && !items[index].hasErrors
        }
        for (position, index) in demographics.enumerated() where demographicRows[position].issues.count > before.demographics[position] {
            items[index].issues += demographicRows[position].issues.dropFirst(before.demographics[position]).map(\.fromPlanning)
            isUsable[index] = isUsable[index] && !items[index].hasErrors
        }

        // What the usable rows write. Each record is written by the first row that names it: which row that is, is
        // decided in file order (below, two passes over the rows at once: classes and enrollments on another core,
        // the rest on this one); what each row then writes is made on every core (after).
        let (classWrites, otherWrites) = Parallel.both({ [rows, isUsable] in
            firstToWriteClasses(rows: rows, of: users, usable: isUsable, classes: fileClasses)
        }) {
            // (A membership seen as its two IDs, not as its key: a key of more than 15 bytes is a string made in
            // memory of its own, one a person. The file's people are listed for sync only, which removes whoever the
            // file leaves out; in add-update they were 206,000 strings hashed for nothing at state size, on the path
            // of this side, which ends after the other, round 42.)
            var seenSchool: Set<String> = [], seenPerson: Set<String> = [], seenMembership: Set<SchoolMember> = []
            var namedSchools: Set<String> = [], filePeople: Set<String> = [], fileEnrollments: Set<String> = []
            seenPerson.reserveCapacity(users.count / 4)
            seenMembership.reserveCapacity(users.count / 4)
            if mode == .sync {
                filePeople.reserveCapacity(users.count / 4)
                fileEnrollments.reserveCapacity(users.count)
            }
            // A file's rows come person by person: the previous row's person and school are not looked up again
            // (each `last…` is already in its set).
            var previous: (userID: String, schoolID: String)?
            var lastPerson: String?, lastMembership: (userID: String, schoolID: String)?
            // Each usable users.csv row's `Writes`, by position in `users` (empty: the row writes nothing, or is not
            // usable).
            var writes = [Writes](repeating: [], count: users.count)
            rows.withUnsafeBufferPointer { rows in
                for (position, index) in users.enumerated() where usable(index) {
                    let schoolID = rows[position].schoolID, userID = rows[position].userID
                    var write: Writes = []
                    let samePerson = previous?.userID == userID, sameSchool = previous?.schoolID == schoolID
                    previous = (userID, schoolID)
                    if !sameSchool { namedSchools.insert(schoolID) }
                    if !samePerson && mode == .sync { filePeople.insert(userID) }
                    // What sync removes is what the file leaves out: only then are the file's enrollments listed.
                    if mode == .sync, case let classID = rows[position].classID, !classID.isEmpty {
                        fileEnrollments.insert(RosterRecord.enrollmentKey(userID: userID, classID: classID))
                    }
                    if !sameSchool && seenSchool.insert(schoolID).inserted { write.insert(.school) }
                    if rows[position].action == "delete" {
                        if rows[position].classID.isEmpty, let person = snapshot.people[ifAny: userID], person.fields["userStatus"] != UserStatus.left.rawValue,
                            seenPerson.insert(userID).inserted
                        {
                            write.insert(.person)
                        }
                        writes[position] = write
                        continue
                    }
                    if lastPerson != userID && seenPerson.insert(userID).inserted {
                        lastPerson = userID
                        write.insert(.person)
                    }
                    if lastMembership?.userID != userID || lastMembership?.schoolID != schoolID {
                        if seenMembership.insert(SchoolMember(userID: userID, schoolID: schoolID)).inserted { write.insert(.membership) }
                        lastMembership = (userID, schoolID)
                    }
                    writes[position] = write
                }
            }
            return (writes: writes, namedSchools: namedSchools, filePeople: filePeople, fileEnrollments: fileEnrollments)
        }
        let namedSchools = otherWrites.namedSchools, filePeople = otherWrites.filePeople, fileEnrollments = otherWrites.fileEnrollments
        var writes = otherWrites.writes
        for position in writes.indices { writes[position].formUnion(classWrites[position]) }
        // Sync: the schools the file names are its whole truth.
        for index in items.indices where kinds[index] == .sync && items[index].state != .skipped {
            var changes: [FieldChange] = []
            if mode == .sync {
                for userID in snapshot.syncPeople.keys.sorted() where !filePeople.contains(userID) {
                    let person = snapshot.syncPeople[userID]!
                    let named = person.schoolIDs.intersection(namedSchools)
                    guard !named.isEmpty else { continue }
                    if person.schoolIDs.isSubset(of: namedSchools) {
                        if person.fields["userStatus"] != UserStatus.left.rawValue {
                            changes.append(
                                FieldChange(entity: "person", key: userID, field: "userStatus", before: person.fields["userStatus"], after: "left"))
                        }
                    } else {
                        for schoolID in named.sorted() {
                            changes.append(
                                FieldChange(
                                    entity: "membership", key: RosterRecord.membershipKey(userID: userID, schoolID: schoolID), field: "*",
                                    before: "{}", after: nil))
                        }
                    }
                }
                for key in snapshot.syncEnrollments.keys.sorted() where !fileEnrollments.contains(key) {
                    guard let (_, classID) = RosterRecord.splitKey(key), let schoolID = snapshot.classes[classID]?["schoolId"],
                        namedSchools.contains(schoolID)
                    else { continue }
                    changes.append(
                        FieldChange(entity: "enrollment", key: key, field: "*", before: RosterRecord.json(snapshot.syncEnrollments[key]!), after: nil))
                }
            }
            items[index].changes = changes
            let people = changes.filter { $0.entity == "person" }.count
            let enrollments = changes.filter { $0.entity == "enrollment" }.count
            items[index].label = mode == .sync
                ? "Not in the file (sync): \(people) \(people == 1 ? "person becomes" : "people become") left, \(enrollments) enrollment\(enrollments == 1 ? "" : "s") end"
                : "Not in the file: nothing (add-update)"
        }

        // What each row writes, made on every core, item by item in place. An item the store keeps as where its row
        // is in the kept file (`releasingCellsOf`) then keeps only the cells read after the plan
        // (`columnsReadAfterPlan`) and gets no label (the store and every reader make it from the row): its other
        // cells are let go while the next rows' changes are made, instead of every row's cells being held beside
        // every row's changes (at state size 600 MB of cells beside 400 MB of changes).
        let decided = writes, usableAtEnd = isUsable
        var userPosition = [Int32](repeating: -1, count: items.count)
        for (position, index) in users.enumerated() { userPosition[index] = Int32(position) }
        let positionOf = userPosition
        let afterPlan = releasing.isEmpty ? [] : files.map { AfterPlan($0.positions.columns) }
        // (The passes' own references to the cells go first.)
        inputs = []
        rows = []
        userRows = []
        demographicRows = []
        Parallel.update(
            &items, minimumPiece: 2_000,
            state: {
                var piece = PieceState(
                    existingEnrollments: RunEnrollments(snapshot.enrollments), positions: files.map { $0.positions.own() },
                    empty: RowValues(columns: RowValues.Columns([]), values: []))
                piece.schoolNames.reserveCapacity(schoolNames.count)
                for (id, name) in schoolNames { piece.schoolNames[id] = name }
                piece.afterPlan = afterPlan.map { $0.own() }
                return piece
            }
        ) { piece, item, index in
            // The row's cells taken out of the item (no count up and down of the file's shared column list and texts,
            // as a copy would) and put back, or replaced by those kept after the plan, at the end.
            var input = piece.empty
            swap(&input, &item.input)
            let file = fileOf[index], positions = piece.positions[file]
            switch kinds[index] {
            case .users:
                let position = Int(positionOf[index])
                let write = decided[position]
                if !write.isEmpty {
                    let names = (schools: piece.schoolNames, className: fileClasses.name(ofRow: position))
                    item.changes = changes(of: UsersRow(input, positions), input: input, write: write, names: names, piece: &piece)
                }
            case .demographics:
                if usableAtEnd[index] { item.changes = demographicsChanges(input, positions) }
            case .sync:
                break
            }
            var releases = false
            if !afterPlan.isEmpty && item.source != nil {
                if let last = piece.lastFile, last.name == item.fileName {
                    releases = last.releases
                } else {
                    releases = releasing.contains(item.fileName)
                    piece.lastFile = (item.fileName, releases)
                }
            }
            Self.finish(&item, input: input, kind: kinds[index], positions: positions, usable: usableAtEnd[index], labelled: !releases)
            if releases {
                item.input = piece.afterPlan[file].values(of: input)
            } else {
                swap(&input, &item.input)
            }
        }
        return items
    }

    /// The classes and enrollments each usable row at positions of `users` is the first to name (by position;
    /// `.class`, `.enrollment` or neither): one pass in file order.
    func firstToWriteClasses(rows: [UsersRow], of users: [Int], usable: [Bool], classes: FileClasses) -> [Writes] {
        var seenClass = [Bool](repeating: false, count: classes.count)
        // (Each row read in place: see `UsersRow`.)
        return rows.withUnsafeBufferPointer { rows in
            var seenEnrollment = SeenEnrollments(usable: users.indices.lazy.filter { usable[users[$0]] }.map { rows[$0].userID })
            var existingEnrollments = RunEnrollments(snapshot.enrollments)
            var writes = [Writes](repeating: [], count: users.count)
            for (position, index) in users.enumerated() where usable[index] {
                let userID = rows[position].userID, classID = rows[position].classID
                guard !classID.isEmpty else { continue }
                if rows[position].action == "delete" {
                    if existingEnrollments.of(userID: userID, classID: classID) != nil, seenEnrollment.first(userID: userID, classID: classID) {
                        writes[position] = .enrollment
                    }
                    continue
                }
                let number = Int(classes.of[position])
                if !seenClass[number] {
                    seenClass[number] = true
                    writes[position].insert(.class)
                }
                if seenEnrollment.first(userID: userID, classID: classID) { writes[position].insert(.enrollment) }
            }
            return writes
        }
    }

    /// The classes the rows of a users.csv name, each numbered once, in the order first named (told apart by their
    /// IDs' bytes, as the database tells keys apart), and the names the rows give them: a row's class is looked up
    /// once, and the passes after read what they need of it by number (three lookups a row by ID had been about
    /// a fifth of planning a state-size first import).
    struct FileClasses: Sendable {
        /// Each row's class number, by position among the users.csv rows; -1 for a row without a class.
        let of: [Int32]
        /// The name the rows give each class (the first given), by class number; nil: none.
        let names: [String?]
        /// Each class's fields in the data (`RosterSnapshot.classes`), by class number; nil: a new class.
        let existing: [[String: String]?]
        var count: Int { names.count }

        /// The class of the row at `position` in the data (nil: a new class, or the row has no class).
        func existing(ofRow position: Int) -> [String: String]? {
            let number = of[position]
            return number < 0 ? nil : existing[Int(number)]
        }

        /// The name given to the class of the row at `position` (nil: none, or the row has no class).
        func name(ofRow position: Int) -> String? {
            let number = of[position]
            return number < 0 ? nil : names[Int(number)]
        }
    }

    /// A problem a row has with the data: its code, column, message and how to fix it.
    typealias Problem = (code: String, column: String, message: String, fix: String)

    /// The problems with the database of the usable rows at positions `range` of `users` (each row's index among
    /// the items), in order: each row's first, and the row's index.
    func databaseProblems(
        rows: [UsersRow], of users: [Int], in range: Range<Int>, usable: [Bool],
        names: (schools: [String: String], classes: FileClasses),
        moving: (logins: [String: String], emails: [String: String])
    ) -> [(index: Int, problem: Problem)] {
        let (schoolNames, fileClasses) = names, (fileLogin, fileEmail) = moving
        // A new school's rows all ask whether its ID lost leading zeros: asked once a school.
        var restoredSchools: [String: String?] = [:]
        func restoredSchool(_ id: String) -> String? {
            if let known = restoredSchools[id] { return known }
            let restored = ExcelDamage.restoredLeadingZeros(id, exists: { snapshot.schools[$0] != nil })
            restoredSchools[id] = .some(restored)
            return restored
        }
        func schoolProblem(_ schoolID: String) -> Problem? {
            if let school = snapshot.schools[ifAny: schoolID] {
                if !scope.allows(school.key) {
                    return (
                        "school_out_of_scope", "schoolId", "you may not change school \(schoolID): it is not one of your schools.",
                        "Upload rows for your own schools only, or ask a district administrator to upload this file."
                    )
                }
            } else if let restored = restoredSchool(schoolID) {
                return (
                    "leading_zeros_lost", "schoolId", "leading zeros appear to have been removed by a spreadsheet — did you mean \(restored)?",
                    "Write \(restored), and format the column as Text before saving from a spreadsheet."
                )
            } else if scope != .district {
                return (
                    "school_out_of_scope", "schoolId", "there is no school \(schoolID), and only a district-wide account can create schools.",
                    "Check the schoolId against the Schools page, or ask a district administrator to create the school."
                )
            } else if schoolNames[schoolID] == nil {
                return (
                    "new_school_needs_name", "schoolName", "school \(schoolID) does not exist yet and no row gives its name.",
                    "Write the school's name in schoolName on at least one of its rows (or correct the schoolId)."
                )
            }
            return nil
        }
        /// Who holds a login ID or address already: named with their userId, role and schools when the uploader may
        /// see them, and only as someone at another school when not.
        /// `next`: what to do when this row's is right.
        func holderWords(_ owner: String, _ what: String) -> (who: String, next: String) {
            guard let person = snapshot.holders[owner] ?? snapshot.people[ifAny: owner] else {
                return ("another person in the district", "change the other person's first")
            }
            // (A person of no school is the district's: only a district-wide account sees them.)
            guard scope == .district || scope.allows(anyOf: person.schoolKeys) else {
                return ("a person outside your schools", "ask a district administrator, who can see whose \(what) it is")
            }
            let name = [person.fields["firstName"], person.fields["lastName"]].compactMap { $0 }.filter { !$0.isEmpty }.joined(separator: " ")
            // A school by its name, with the ID the file would use: "North School (N)".
            let schools = person.schoolIDs.sorted().map { id in snapshot.schools[ifAny: id].map { "\($0.name) (\(id))" } ?? id }
                .joined(separator: ", ")
            let role = person.fields["userRole"] ?? "person"
            let detail = role + (schools.isEmpty ? "" : " at \(schools)")
            if name.isEmpty { return ("userId \(owner) (\(detail))", "change userId \(owner)'s first") }
            return ("\(name) (userId \(owner), \(detail))", "change \(name)'s first")
        }
        func personProblem(_ userID: String) -> Problem? {
            if let person = snapshot.people[ifAny: userID] {
                if !person.schoolKeys.isEmpty && !scope.allows(anyOf: person.schoolKeys) {
                    return (
                        "person_out_of_scope", "userId",
                        "userId \(userID) is already used in the district by a person at a school you do not have access to.",
                        "Check the userId; if the person is moving to your school, ask a district administrator."
                    )
                }
            } else if !snapshot.paddedUserIDs.isEmpty, let restored = ExcelDamage.restoredLeadingZeros(userID, exists: snapshot.paddedUserIDs.contains) {
                return (
                    "leading_zeros_lost", "userId", "leading zeros appear to have been removed by a spreadsheet — did you mean \(restored)?",
                    "Write \(restored), and format the column as Text before saving from a spreadsheet."
                )
            }
            return nil
        }
        var checkedSchool: (id: String, problem: Problem?)?, checkedPerson: (id: String, problem: Problem?)?
        var found: [(index: Int, problem: Problem)] = []
        for position in range where usable[users[position]] {
            let index = users[position]
            let row = rows[position]
            let schoolID = row.schoolID, userID = row.userID, classID = row.classID
            if checkedSchool?.id != schoolID { checkedSchool = (schoolID, schoolProblem(schoolID)) }
            if let problem = checkedSchool?.problem {
                found.append((index, problem))
                continue
            }
            if checkedPerson?.id != userID { checkedPerson = (userID, personProblem(userID)) }
            if let problem = checkedPerson?.problem {
                found.append((index, problem))
                continue
            }
            let login = row.login
            if !login.isEmpty, let owner = snapshot.loginOwners[ifAny: login], owner != userID, fileLogin[owner].map({ $0 != login }) != true {
                let holder = holderWords(owner, "login ID")
                found.append((index, (
                    "login_id_in_use", "loginId", "“\(row.loginID ?? "")” is already the login ID of \(holder.who).",
                    "Every person needs a login ID of their own: check this row's; if it is right, \(holder.next).")))
                continue
            }
            if let email = row.email, !email.isEmpty, !snapshot.emailOwners.isEmpty, let owner = snapshot.emailOwners[EmailAddress.key(email)],
                owner != userID, fileEmail[owner].map({ $0 != EmailAddress.key(email) }) != true
            {
                let holder = holderWords(owner, "address")
                found.append((index, (
                    "email_in_use", "userEmail", "“\(email)” is already the address of \(holder.who).",
                    "Every person needs an address of their own: check this row's; if it is right, \(holder.next).")))
                continue
            }
            guard !classID.isEmpty else { continue }
            if let existing = fileClasses.existing(ofRow: position) {
                if existing["schoolId"] != schoolID {
                    found.append((index, (
                        "class_moves_school", "classId",
                        "class \(classID) belongs to school \(existing["schoolId"] ?? "?"); a class cannot move to another school.",
                        "Use a new classId for this school's class, or correct the schoolId.")))
                }
            } else if !snapshot.paddedClassIDs.isEmpty, let restored = ExcelDamage.restoredLeadingZeros(classID, exists: snapshot.paddedClassIDs.contains) {
                found.append((index, (
                    "leading_zeros_lost", "classId",
                    "leading zeros appear to have been removed by a spreadsheet — did you mean \(restored)?",
                    "Write \(restored), and format the column as Text before saving from a spreadsheet.")))
            } else if fileClasses.name(ofRow: position) == nil && row.action != "delete" {
                found.append((index, (
                    "new_class_needs_name", "className", "class \(classID) does not exist yet and no row gives its name.",
                    "Write the class's name in className on at least one of its rows (or correct the classId).")))
            }
        }
        return found
    }

    /// What one core's run of users.csv rows keeps from row to row while their changes are made: a person's
    /// existing enrollments, looked up once a run, and each new enrollment's record, made once.
    struct PieceState {
        var existingEnrollments: RunEnrollments
        var enrollmentJSON: [(role: String, primary: String, json: String)] = []
        /// What every row of the piece reads, the piece's own (`Positions.own`): each file's positions and the
        /// names given to new schools (a copy of its own, not one storage shared with the other core).
        var positions: [UsersRow.Positions] = []
        var schoolNames: [String: String] = [:]
        /// Each file's columns kept after the plan, the piece's own copy (`AfterPlan.own`).
        var afterPlan: [AfterPlan] = []
        /// What an item holds while its row's cells are taken out of it.
        let empty: RowValues
        /// The last item's file, and whether its rows let their cells go (told by the name's storage, not hashed a row).
        var lastFile: (name: String, releases: Bool)?
    }

    /// The changes of a usable users.csv row: the records it is the first to name (`write`), created or changed.
    /// `names`: the names the file gives new schools and classes, on any of its rows.
    func changes(
        of row: UsersRow, input: RowValues, write: Writes, names: (schools: [String: String], className: String?), piece: inout PieceState
    ) -> [FieldChange] {
        let schoolID = row.schoolID, userID = row.userID, classID = row.classID
        var changes: [FieldChange] = []
        if write.contains(.school) {
            if let school = snapshot.schools[ifAny: schoolID] {
                if let name = row.schoolName, !name.isEmpty, name != school.name {
                    changes.append(FieldChange(entity: "school", key: schoolID, field: "schoolName", before: school.name, after: name))
                }
            } else {
                changes.append(
                    FieldChange(
                        entity: "school", key: schoolID, field: "*", before: nil,
                        after: RosterRecord.json(["schoolName": names.schools[schoolID] ?? ""])))
            }
        }
        if row.action == "delete" {
            if write.contains(.enrollment), let enrollment = piece.existingEnrollments.of(userID: userID, classID: classID) {
                changes.append(
                    FieldChange(
                        entity: "enrollment", key: RosterRecord.enrollmentKey(userID: userID, classID: classID), field: "*",
                        before: RosterRecord.json(enrollment), after: nil))
            }
            if write.contains(.person), let person = snapshot.people[ifAny: userID] {
                changes.append(
                    FieldChange(entity: "person", key: userID, field: "userStatus", before: person.fields["userStatus"], after: "left"))
            }
            return changes
        }
        if write.contains(.person) {
            let fields = row.positions.person, sorted = row.positions.sortedPerson
            if let person = snapshot.people[ifAny: userID] {
                // (`fields` lists `RosterRecord.personFields` in order: the stored value of each is at its own position.)
                changes += fields.changes(entity: "person", key: userID, of: input.values) { person.fields[position: $0] }
            } else {
                // The row's person fields, stored forms; the status always (empty means active).
                let values = sorted.names.indices.map { index in
                    sorted.value(index, of: input.values) ?? (sorted.forms[index] == .status ? UserStatus.active.rawValue : nil)
                }
                changes.append(
                    FieldChange(entity: "person", key: userID, field: "*", before: nil, after: FlatJSON.object(keys: sorted.names, values: values)))
            }
        }
        if write.contains(.membership) && snapshot.people[ifAny: userID]?.schoolIDs.contains(schoolID) != true {
            changes.append(
                FieldChange(entity: "membership", key: RosterRecord.membershipKey(userID: userID, schoolID: schoolID), field: "*", before: nil, after: "{}"))
        }
        if write.contains(.class) {
            if let existing = snapshot.classes[ifAny: classID] {
                for field in RosterRecord.classFields where field == "className" || input[field] != nil {
                    let after = field == "className" ? names.className ?? existing[field] ?? "" : input[field] ?? ""
                    let before = existing[field] ?? ""
                    if after != before {
                        changes.append(
                            FieldChange(entity: "class", key: classID, field: field, before: before.isEmpty ? nil : before, after: after.isEmpty ? nil : after))
                    }
                }
            } else {
                var fields = ["schoolId": schoolID, "className": names.className ?? ""]
                for field in ["classGrade", "classSubject"] { fields[field] = input[field] ?? "" }
                changes.append(FieldChange(entity: "class", key: classID, field: "*", before: nil, after: RosterRecord.json(fields)))
            }
        }
        if write.contains(.enrollment) {
            // (The key is made only for a change: most rows of a re-import change nothing here.)
            func key() -> String { RosterRecord.enrollmentKey(userID: userID, classID: classID) }
            let role = row.role
            let primary = role == "teacher" ? Self.stored("primaryTeacher", input) : "false"
            if let existing = piece.existingEnrollments.of(userID: userID, classID: classID) {
                let (roleBefore, primaryBefore) = (existing["role"], existing["primaryTeacher"])
                if role != roleBefore {
                    changes.append(FieldChange(entity: "enrollment", key: key(), field: "role", before: roleBefore, after: role))
                }
                if primary != primaryBefore {
                    changes.append(FieldChange(entity: "enrollment", key: key(), field: "primaryTeacher", before: primaryBefore, after: primary))
                }
            } else {
                // A new enrollment's record is one of a handful (role, primary teacher): written once each,
                // found by a look along the few made so far (no dictionary a row).
                let json: String
                if let made = piece.enrollmentJSON.first(where: { $0.role == role && $0.primary == primary }) {
                    json = made.json
                } else {
                    json = RosterRecord.json(["role": role, "primaryTeacher": primary])
                    piece.enrollmentJSON.append((role, primary, json))
                }
                changes.append(FieldChange(entity: "enrollment", key: key(), field: "*", before: nil, after: json))
            }
        }
        return changes
    }

    /// The changes of a usable demographics.csv row: its record created, or its fields changed. `positions`: those of
    /// the row's file (the row's cells are read by position, the existing record's in the loader's field order).
    func demographicsChanges(_ input: RowValues, _ positions: UsersRow.Positions) -> [FieldChange] {
        let cells = input.values, fields = positions.demographics, sorted = positions.sortedDemographics
        let userID = positions.userID.map { cells[$0] } ?? ""
        if let existing = snapshot.demographics[ifAny: userID] {
            let inFieldOrder = existing.columns.sameList(as: RosterSnapshot.demographicsColumns)
            return fields.changes(entity: "demographics", key: userID, of: cells) { index in
                inFieldOrder ? existing.values[index] : existing[fields.names[index]] ?? ""
            }
        }
        let json = FlatJSON.object(keys: sorted.names, values: sorted.names.indices.map { sorted.value($0, of: cells) })
        return [FieldChange(entity: "demographics", key: userID, field: "*", before: nil, after: json)]
    }

    /// The cells of a planned row that are read after the plan: the counts per entity (`RosterSummary.counts`) and
    /// the lock scope (`RosterHandler.lockScope`).
    public static let columnsReadAfterPlan = ["userId", "userRole", "schoolId", "classId", "action"]

    /// A file's rows as they are kept once planned, when the store reads the rest again from the kept file.
    struct AfterPlan: Sendable {
        let columns: RowValues.Columns
        /// Where each kept column is in the file's rows.
        let positions: [Int]

        init(_ file: RowValues.Columns) {
            let kept = RosterPlanner.columnsReadAfterPlan.filter { file.position(of: $0) != nil }
            columns = RowValues.Columns(kept)
            positions = kept.compactMap { file.position(of: $0) }
        }

        private init(columns: RowValues.Columns, positions: [Int]) {
            self.columns = columns
            self.positions = positions
        }

        /// The same, in storage of its own for one core's rows (the list a copy of it, `RowValues.Columns.copy`).
        func own() -> AfterPlan { AfterPlan(columns: columns.copy(), positions: positions.map { $0 }) }

        /// `input`: a row of the file.
        func values(of input: RowValues) -> RowValues { RowValues(columns: columns, values: input.values.picking(positions)) }
    }
    /// The records a users.csv row is the first to name, and so writes.
    struct Writes: OptionSet, Sendable {
        let rawValue: UInt8
        static let school = Writes(rawValue: 1), person = Writes(rawValue: 2), membership = Writes(rawValue: 4)
        static let `class` = Writes(rawValue: 8), enrollment = Writes(rawValue: 16)
    }

    /// The existing enrollments of the rows' person: their list is looked up once for a run of their rows; a long
    /// one (a teacher of many classes) is put in a dictionary by class for the run.
    struct RunEnrollments {
        let byPerson: [String: [RosterSnapshot.Enrollment]]
        var person: String?
        var list: [RosterSnapshot.Enrollment] = []
        var byClass: [String: [String: String]]?

        init(_ byPerson: [String: [RosterSnapshot.Enrollment]]) { self.byPerson = byPerson }

        mutating func of(userID: String, classID: String) -> [String: String]? {
            if userID != person {
                person = userID
                list = byPerson[ifAny: userID] ?? []
                byClass = list.count > 32 ? Dictionary(list.map { ($0.classID, $0.fields) }, uniquingKeysWith: { first, _ in first }) : nil
            }
            if let byClass { return byClass[classID] }
            return list.first { $0.classID == classID }?.fields
        }
    }

    /// Which (person, class) enrollments the rows so far named. A person's rows come together: their classes are
    /// kept for the run of their rows only, in a short list, without making a key and hashing it a row. A person whose
    /// rows come in more than one run (found up front) keeps all their classes in a set.
    /// A person in a school, as a set's element.
    struct SchoolMember: Hashable {
        let userID: String
        let schoolID: String
    }

    struct SeenEnrollments {
        /// People with rows in more than one run.
        let scattered: Set<String>
        var scatteredClasses: [String: Set<String>] = [:]
        var runPerson: String?
        /// Whether `runPerson` is one of the scattered.
        var runScattered = false
        /// The run's classes: a short list, or past 32 (a teacher of many classes) a set.
        var runClasses: [String] = []
        var runSet: Set<String> = []

        /// `people`: each usable row's userId, in order.
        init(usable people: some Sequence<String>) { scattered = Self.scattered(people) }

        /// The people of `people` (each row's userId, in order) whose rows come in more than one run.
        static func scattered(_ people: some Sequence<String>) -> Set<String> {
            var started: Set<String> = [], scattered: Set<String> = []
            var last: String?
            for person in people where person != last {
                last = person
                if !started.insert(person).inserted { scattered.insert(person) }
            }
            return scattered
        }

        /// Whether this is the first row naming the enrollment.
        mutating func first(userID: String, classID: String) -> Bool {
            if userID != runPerson {
                runPerson = userID
                runScattered = !scattered.isEmpty && scattered.contains(userID)
                runClasses.removeAll(keepingCapacity: true)
                runSet.removeAll()
            }
            if runScattered { return scatteredClasses[userID, default: []].insert(classID).inserted }
            if runSet.isEmpty && runClasses.count < 32 {
                if runClasses.contains(classID) { return false }
                runClasses.append(classID)
                return true
            }
            if runSet.isEmpty { runSet = Set(runClasses) }
            return runSet.insert(classID).inserted
        }
    }

    /// An item's label, target and state once its issues and changes are known. `positions`: those of the input's
    /// columns.
    /// `labelled`: whether the item gets its label now (one whose cells are let go gets none; it is made from the cells
    /// wherever it is read).
    static func finish(_ item: inout BatchItem, input: RowValues, kind: RowKind, positions: UsersRow.Positions, usable: Bool, labelled: Bool = true) {
        // A row's label depends on its cells only: made once, kept through later plans.
        if labelled, item.label.isEmpty, let label = Label.make(input, kind: kind, positions: positions) { item.label = label }
        item.target = positions.userID.map { input.values[$0] }
        if item.state == .skipped { return }
        if usable {
            item.state = item.changes.isEmpty ? .unchanged : .ready
        } else {
            item.state = .error
            item.changes = []
        }
    }
}

extension RosterPlanner {
    /// The label of a roster row's item ("00123 · Chan, Wing · student · class 5A"), made from its cells only: the
    /// planner gives it, and the store makes it again for an item it keeps as a span of its file instead of storing
    /// it. One `Label` a file: its columns are found once.
    public struct Label: Sendable {
        let positions: UsersRow.Positions
        let kind: RowKind

        public init(columns: RowValues.Columns) {
            positions = UsersRow.Positions(columns)
            let names = Set(columns.names)
            kind = names.contains(RosterPlanner.usersRowColumn) ? .users : names.contains(RosterPlanner.syncColumn) ? .sync : .demographics
        }

        /// The label of a row of this file (nil for the sync item, which has its own); a row with other columns is
        /// read by name.
        public func callAsFunction(_ input: RowValues) -> String? {
            input.columns.sameList(as: positions.columns)
                ? Self.make(input, kind: kind, positions: positions) : Label(columns: input.columns)(input)
        }

        static func make(_ input: RowValues, kind: RowKind, positions: UsersRow.Positions) -> String? {
            func value(_ position: Int?) -> String? { position.map { input.values[$0] } }
            let userID = value(positions.userID) ?? ""
            switch kind {
            case .sync: return nil
            case .demographics: return userID + " · demographics"
            case .users:
                // Joined piece by piece (an interpolation or an array joined a row is several times slower).
                let last = value(positions.lastName) ?? "", first = value(positions.firstName) ?? ""
                var label = userID + " · "
                label += last.isEmpty || first.isEmpty ? last + first : last + ", " + first
                label += " · " + stored("userRole", value: value(positions.role) ?? "")
                if let classID = value(positions.classID), !classID.isEmpty { label += " · class " + classID }
                return label
            }
        }
    }
}

extension Dictionary {
    /// `self[key]`, without hashing the key when there is nothing to find (a first import's empty snapshot is asked
    /// about every row).
    subscript(ifAny key: Key) -> Value? { isEmpty ? nil : self[key] }
}
