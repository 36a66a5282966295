/// A users.csv (and its demographics.csv) read and checked as a whole, before any database is asked (SPEC §4.2,
/// §4.3, §4.5): every row's own problems plus those that only show across rows — one person described two ways,
/// a login ID or address shared by two people, a class in two schools or under two names, two primary teachers,
/// a class over 80 students, exact duplicates, demographics for someone who is not a student of the file — and the
/// rows that must be skipped because a row they depend on is bad.
public struct RosterFile: Sendable {
    public struct Row: Sendable, Hashable {
        public var file: String
        public var line: Int
        public var values: RowValues
        public var issues: [BatchIssue]
        public var hasErrors: Bool { issues.contains { $0.severity == .error } }
    }

    public var users: [Row]
    public var demographics: [Row]

    /// The code of a row skipped because another row about the same person has an error.
    public static let dependsOnBadRow = "depends_on_bad_row"

    /// The person fields that must agree on every row of one userId.
    public static let personColumns = [
        "userRole", "loginId", "firstName", "middleName", "lastName", "preferredFirstName", "userEmail", "userGrade",
        "userStatus",
        "userDistrictId", "userStateId",
    ]

    /// The person columns compared in any letter case.
    static let caselessColumns: Set<String> = ["userRole", "userStatus", "loginId"]

    /// The publisher's recommended largest class.
    public static let classSizeWarning = 80

    /// demographics.csv sent without its users.csv.
    public static func demographicsAlone(fileName: String) -> FileRejection {
        FileRejection(
            fileName: fileName,
            issues: [
                .error(
                    "demographics_without_users",
                    "demographics.csv is accepted only together with the users.csv it belongs to: each of its userIds must be a "
                        + "student in that users.csv.",
                    fix: "Upload users.csv and demographics.csv together in one batch.")
            ])
    }

    public static func inspect(users table: CSVTable, demographics: CSVTable?, rules: RosterRowRules) -> RosterFile {
        // Each row's own checks need nothing but the row: on every core at once, each row written into its place.
        // A row whose person is the previous row's, already found without problems, gets only its class checked.
        // The row's hashes for the checks across rows are made in the same pass, while its cells are at hand (in a
        // pass of their own they had read every row's cells again).
        var hashes = [RowHashes](repeating: RowHashes(cells: 0, person: 0), count: table.records.count)
        var users = hashes.withUnsafeMutableBufferPointer { buffer in
            let made = Parallel.Elements(buffer)
            return Parallel.map(
                elements: table.records.count,
                state: {
                    (
                        checker: RosterRowRules.UsersChecker(rules: rules, columns: table.rowColumns), hasher: RowHasher(columns: table.rowColumns),
                        columns: table.rowColumns.copy()
                    )
                }
            ) { state, index in
                let record = table.records[index]
                // (Each piece's rows share a copy of the column list: see `RowValues.Columns`.)
                let values = table.values(of: record, listedIn: state.columns)
                made.buffer[index] = state.hasher.hashes(values)
                return Row(file: table.fileName, line: record.line, values: values, issues: state.checker.check(values, line: record.line))
            }
        }
        checkAcrossRows(&users, hashes: hashes)
        var demographicRows: [Row] =
            demographics.map { demographicsTable in
                var checker = RosterRowRules.DemographicsChecker(rules: rules, columns: demographicsTable.rowColumns)
                return demographicsTable.records.map { record -> Row in
                    let values = demographicsTable.values(of: record)
                    return Row(
                        file: demographicsTable.fileName, line: record.line, values: values,
                        issues: checker.check(values, line: record.line))
                }
            } ?? []
        checkDemographics(&demographicRows, users: users)
        skipDependents(&users, &demographicRows)
        return RosterFile(users: users, demographics: demographicRows)
    }

    static func issue(
        _ severity: BatchIssue.Severity, _ code: String, _ row: Row, _ column: String, _ message: String, fix: String
    )
        -> BatchIssue
    {
        BatchIssue(
            severity, code: code, message: "Row \(row.line), \(column): \(message)", fix: fix, file: row.file,
            row: row.line,
            column: column, value: row.values[column] ?? "")
    }

    /// A hash of a row's cells (the dictionary's columns), and one of its person columns as they are compared across
    /// rows (role, status and login ID in any letter case).
    struct RowHashes {
        var cells: Int
        var person: Int
    }

    static let usersColumns = RosterDictionaries.users.columns.map(\.name)

    /// Makes the `RowHashes` of rows in file order. A row whose person columns hold the previous row's cells (a
    /// student's seven rows) takes that row's person hash, and every row's cells hash is made of its person hash
    /// and its other cells: hashing 31 strings a row had been an eighth of checking a state-size users.csv. Rows
    /// that differ only in the letter case of a role, status or login ID have one cells hash; the duplicate check
    /// compares the cells of rows with one hash, so they are still told apart.
    struct RowHasher {
        let person: [RowValues.Column]
        /// Compared in any letter case: role, status and login ID.
        let caseless: [Bool]
        let others: [RowValues.Column]
        var lastPerson: [String] = []
        var lastHash = 0
        /// The previous row's person cells, when it was read by position.
        var lastCells = KeptCells()

        /// The shared column list, and where the person and other columns are in it (nil: not a column of it).
        let shared: RowValues.Columns?
        let personAt, othersAt: [Int?]

        /// `columns`: the column list most rows share (read by position), nil to read every row by name.
        init(columns: RowValues.Columns?) {
            person = personColumns.map { RowValues.Column($0, in: columns) }
            caseless = personColumns.map(caselessColumns.contains)
            let otherNames = usersColumns.filter { !personColumns.contains($0) }
            others = otherNames.map { RowValues.Column($0, in: columns) }
            shared = columns
            personAt = personColumns.map { columns?.position(of: $0) }
            othersAt = otherNames.map { columns?.position(of: $0) }
        }

        mutating func hashes(_ values: RowValues) -> RowHashes {
            // A row of the shared list is read by position straight from its cells: going through a `Column` a cell
            // (a name and a list, counted up and down each time) was most of the hashing's time.
            // The other cells go in as their texts' hashes (`Cells.textHash`): a row's cells that are numbers have
            // theirs made once for each distinct text, not hashed again on every row.
            guard let shared, values.columns.sameList(as: shared) else {
                lastCells.forget()
                var mix = CellsMix(personHash(person.map { values[$0] ?? "" }))
                for column in others { mix.combine(Cells.textHash(values[column] ?? "")) }
                return RowHashes(cells: mix.value, person: lastHash)
            }
            // The previous row's person, compared by the numbers of the cells' texts (two rows of one piece of the
            // file), not as twelve Swift strings a row; other rows are compared as texts (`personHash`). The cells
            // are read in place: a copy of the row's cells a row (their references counted up and down) had been
            // a third of the hashing's time.
            let repeated = lastCells.same(values.values, at: personAt)
            if !repeated { lastCells.keep(values.values, at: personAt) }
            var mix = CellsMix(personHash(repeated ? nil : personAt.map { position in position.map { values.values[$0] } ?? "" }))
            for position in othersAt { mix.combine(position.map { values.values.textHash(at: $0) } ?? Self.emptyHash) }
            return RowHashes(cells: mix.value, person: lastHash)
        }

        static let emptyHash = Cells.textHash("")

        /// The person hash of a row whose person cells are `person`, nil when they are the previous row's.
        private mutating func personHash(_ person: [String]?) -> Int {
            if let person, person != lastPerson || lastPerson.isEmpty {
                lastPerson = person
                var hasher = Hasher()
                for (text, caseless) in zip(lastPerson, caseless) { hasher.combine(caseless ? RosterPlanner.lowercased(text) : text) }
                lastHash = hasher.finalize()
            }
            return lastHash
        }
    }

    /// A row's cells hash, mixed from its person hash and its other cells' text hashes by multiplying and shifting
    /// (keyed, as the texts' hashes are) instead of Swift's `Hasher` a row, which had been a quarter of the hashing's
    /// time: rows with one cells hash are compared cell by cell (`duplicateRows`), so this hash only has to spread
    /// rows well. (The person hash, trusted without comparing, stays Swift's.)
    struct CellsMix {
        private var state: UInt64

        init(_ person: Int) { state = Self.seed ^ UInt64(UInt(bitPattern: person)) }

        @inline(__always)
        mutating func combine(_ text: UInt32) {
            state = (state ^ UInt64(text)) &* 0x9E37_79B9_7F4A_7C15
            state ^= state >> 29
        }

        var value: Int {
            var mixed = state ^ (state >> 33)
            mixed &*= 0xFF51_AFD7_ED55_8CCD
            mixed ^= mixed >> 33
            return Int(bitPattern: UInt(mixed))
        }

        private static let seed = UInt64.random(in: .min ... .max)
    }

    /// What `dictionary` holds for `key`, or nil once `value` is added for it: one lookup of the key, where asking
    /// and then adding took two or three (a text hashed each time, a fifth of the checks about people).
    @inline(__always)
    static func held<Value>(_ key: String, in dictionary: inout [String: Value], else value: Value) -> Value? {
        var added = false
        let found = current(&dictionary[key, default: { added = true; return value }()])
        return added ? nil : found
    }

    @inline(__always)
    private static func current<Value>(_ value: inout Value) -> Value { value }

    /// Exact duplicates, the checks about people (one person described two ways, shared login IDs and addresses) and
    /// those about schools and classes run at once, each reading the rows and listing what it found, which is added
    /// afterwards in the order one pass would have added it.
    /// `hashes`: each row's (`RowHasher`, the rows hashed in file order).
    static func checkAcrossRows(_ rows: inout [Row], hashes: [RowHashes]) {
        // Exact duplicates are found by a hash of the row's cells (the first row with that hash, and the few rows
        // whose hash an earlier different row already had): holding every row's cells once more as a key would cost
        // hundreds of megabytes at state size. A duplicate gets no other check: the checks about people, schools and
        // classes run beside this search over every row, and what they find on a duplicate is dropped (a duplicate
        // holds exactly an earlier row's cells, so it changes nothing those checks find on the other rows).
        let checked = rows, columns = RosterRowRules.UsersColumns(rows.first?.values.columns)
        // The checks about schools and classes (the longest) on one core from the start, the other two one after the
        // other on the other: as three threads on two cores, the system gave the checks about people a core of their
        // own and the schools and classes ran alone at the end (a quarter of a second at state size).
        let (schoolAndClass, (duplicates, person)) = Parallel.both({ schoolAndClassIssues(checked, columns: columns) }) {
            (duplicateRows(checked, hashes: hashes), personIssues(checked, hashes: hashes, columns: columns))
        }
        var duplicate = [Bool](repeating: false, count: rows.count)
        for (index, earlier) in duplicates {
            rows[index].issues.append(
                issue(
                    .warning, "duplicate_row", rows[index], "userId", "the same row as row \(rows[earlier].line); it counts once.",
                    fix: "Delete one of the two rows."))
            duplicate[index] = true
        }
        for (index, issue) in person + schoolAndClass where !duplicate[index] { rows[index].issues.append(issue) }
    }

    /// Each row that holds exactly an earlier row's cells, with that earlier row.
    static func duplicateRows(_ rows: [Row], hashes: [RowHashes]) -> [(index: Int, earlier: Int)] {
        var found: [(index: Int, earlier: Int)] = []
        var sameHash: [Int: [Int]] = [:]
        // The first row of each cells hash, found by the hash's low bits (open addressing, a slot holding the row's
        // index plus one, at most half the slots used): a `Dictionary` keyed by the hash hashed it again at every row,
        // most of this search's time.
        var capacity = 16
        while capacity < rows.count * 2 { capacity *= 2 }
        var slots = [Int32](repeating: 0, count: capacity)
        let mask = capacity - 1
        hashes.withUnsafeBufferPointer { hashes in
            slots.withUnsafeMutableBufferPointer { slots in
                rows.withUnsafeBufferPointer { rows in
                    for index in rows.indices {
                        let hash = hashes[index].cells
                        var slot = hash & mask, first: Int?
                        while slots[slot] != 0 {
                            let held = Int(slots[slot]) - 1
                            if hashes[held].cells == hash {
                                first = held
                                break
                            }
                            slot = (slot + 1) & mask
                        }
                        guard let first else {
                            slots[slot] = Int32(truncatingIfNeeded: index + 1)
                            continue
                        }
                        func same(_ other: Int) -> Bool {
                            usersColumns.allSatisfy { (rows[other].values[$0] ?? "") == (rows[index].values[$0] ?? "") }
                        }
                        if let earlier = ([first] + (sameHash[hash] ?? [])).first(where: same) {
                            found.append((index, earlier))
                            continue
                        }
                        sameHash[hash, default: []].append(index)
                    }
                }
            }
        }
        return found
    }

    /// A row read where the array holds it: handing the body a `Row` copied it (its file name, cells and issues
    /// counted up and down, a tenth of the checks about people at state size). Its cells and issues are addressed,
    /// not yielded: a coroutine handing out a row's cells copied them at each read.
    struct RowRef {
        let pointer: UnsafePointer<Row>
        var line: Int { pointer.pointee.line }
        var values: RowValues { unsafeAddress { Self.field(pointer, Self.valuesOffset) } }
        var issues: [BatchIssue] { unsafeAddress { Self.field(pointer, Self.issuesOffset) } }

        static let valuesOffset = MemoryLayout<Row>.offset(of: \Row.values)!
        static let issuesOffset = MemoryLayout<Row>.offset(of: \Row.issues)!

        @inline(__always)
        private static func field<Field>(_ row: UnsafePointer<Row>, _ offset: Int) -> UnsafePointer<Field> {
            UnsafeRawPointer(row).advanced(by: offset).assumingMemoryBound(to: Field.self)
        }
    }

    static func issue(
        _ severity: BatchIssue.Severity, _ code: String, _ row: RowRef, _ column: String, _ message: String, fix: String
    ) -> BatchIssue {
        issue(severity, code, row.pointer.pointee, column, message, fix: fix)
    }

    /// Each row that names a userId, with that userId; `rows` is the array's buffer (a row read from the array itself
    /// is copied).
    static func forEachPersonRow(
        _ rows: [Row], userID column: RowValues.Column,
        _ body: (_ index: Int, _ row: RowRef, _ userID: String, _ rows: UnsafeBufferPointer<Row>) -> Void
    ) {
        rows.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            for index in buffer.indices {
                let userID = buffer[index].values[column] ?? ""
                if !userID.isEmpty { body(index, RowRef(pointer: base + index), userID, buffer) }
            }
        }
    }

    /// One person described two ways, and a login ID or address shared by two people: the issues, by row index.
    /// A row that describes its person otherwise than the person's first row is the error, naming that row (SPEC
    /// §4.2); when most of the person's rows agree with each other instead, the message says the first row may be
    /// the one to correct.
    static func personIssues(_ rows: [Row], hashes: [RowHashes], columns: RosterRowRules.UsersColumns) -> [(Int, BatchIssue)] {
        var found: [(Int, BatchIssue)] = []
        /// The people with a row unlike their first: only their rows are looked at again, after this pass.
        var described: Set<String> = []
        typealias Owner = (userID: String, line: Int)
        var firstOfPerson: [String: Int] = [:]
        var loginOwner: [String: Owner] = [:]
        var emailOwner: [String: Owner] = [:]
        /// What the checks of one person's row found, for the next row of the same person.
        struct PersonAnswer {
            var userID: String
            var hash: Int
            var first: Int
            var loginOwner: Owner?
            var emailOwner: Owner?
        }
        var lastAnswer: PersonAnswer?
        firstOfPerson.reserveCapacity(rows.count / 4)
        loginOwner.reserveCapacity(rows.count / 4)
        emailOwner.reserveCapacity(rows.count / 4)
        forEachPersonRow(rows, userID: columns.userID) { index, row, userID, rows in
            func value(_ column: String) -> String { row.values[column] ?? "" }
            func value(_ column: RowValues.Column) -> String { row.values[column] ?? "" }
            func add(_ issue: BatchIssue) { found.append((index, issue)) }
            /// The person columns against the person's first row. The same columns (equal hashes) need no comparing:
            /// two different sets of values with the same 64-bit hash are not a case that happens.
            func compare(withFirst first: Int) {
                if hashes[first].person != hashes[index].person { described.insert(userID) }
            }
            /// Another person has this row's login ID (`loginId`) or address (`userEmail`) already.
            func clash(_ column: String, with owner: Owner) {
                let (code, what) = column == "loginId" ? ("duplicate_login_id", "a login ID") : ("duplicate_email", "an address")
                add(
                    issue(
                        .error, code, row, column,
                        "“\(value(column))” is also \(column == "loginId" ? "the login ID" : "the address") of userId \(owner.userID) on row \(owner.line).",
                        fix: "Every person needs \(what) of their own; correct one of the two."))
            }
            if let answer = lastAnswer, answer.userID == userID, answer.hash == hashes[index].person {
                // The previous row's person with the same person columns (so the same login ID and address): the
                // same answers, without hashing them again (rows come person by person: most rows are this case).
                compare(withFirst: answer.first)
                if let owner = answer.loginOwner { clash("loginId", with: owner) }
                if let owner = answer.emailOwner { clash("userEmail", with: owner) }
            } else {
                var answer = PersonAnswer(userID: userID, hash: hashes[index].person, first: index)
                if let first = held(userID, in: &firstOfPerson, else: index) {
                    answer.first = first
                    compare(withFirst: first)
                }
                // A row whose userId its own checks refused (a spreadsheet's `1.23E+05`) is nobody yet: it takes no
                // login ID or address from the rows of the person it probably is, and is not blamed for sharing one.
                let unknown = row.issues.contains { $0.column == "userId" && $0.severity == .error }
                let login = unknown ? "" : RosterPlanner.lowercased(value(columns.loginID))
                if !login.isEmpty, let owner = held(login, in: &loginOwner, else: (userID, row.line)), owner.userID != userID {
                    clash("loginId", with: owner)
                    answer.loginOwner = owner
                }
                let email = unknown ? "" : value(columns.email)
                // An address the row's own checks refused is not compared (they ran already: no second parse).
                if !email.isEmpty && !row.issues.contains(where: { $0.column == "userEmail" }),
                    let owner = held(EmailAddress.key(email), in: &emailOwner, else: (userID, row.line)), owner.userID != userID
                {
                    clash("userEmail", with: owner)
                    answer.emailOwner = owner
                }
                lastAnswer = answer
            }
        }
        guard !described.isEmpty else { return found }
        // Each way such a person is described (the person columns' hash), its first row and how many rows give it.
        var ways: [String: [(hash: Int, first: Int, rows: Int)]] = [:]
        forEachPersonRow(rows, userID: columns.userID) { index, _, userID, _ in
            guard described.contains(userID) else { return }
            let hash = hashes[index].person
            if let way = ways[userID]?.firstIndex(where: { $0.hash == hash }) {
                ways[userID]![way].rows += 1
            } else {
                ways[userID, default: []].append((hash, index, 1))
            }
        }
        var differing: [(Int, BatchIssue)] = []
        forEachPersonRow(rows, userID: columns.userID) { index, row, userID, rows in
            // The person's first row's way is the first counted; a row described otherwise is the error (SPEC §4.2).
            guard let seen = ways[userID], seen[0].hash != hashes[index].person else { return }
            let first = rows[seen[0].first]
            let most = seen.dropFirst().reduce(seen[0]) { best, way in way.rows > best.rows ? way : best }
            for column in personColumns {
                let mine = row.values[column] ?? "", theirs = first.values[column] ?? ""
                guard mine != theirs, !(caselessColumns.contains(column) && mine.lowercased() == theirs.lowercased()) else { continue }
                // A cell left empty that its own check already calls an error ("a student needs a login ID") is said
                // once, by that check.
                if mine.isEmpty, row.issues.contains(where: { $0.column == column && $0.severity == .error }) { continue }
                // When more of the person's rows agree with each other than with the first row, the first row is likely
                // the odd one: said, so that the rows that agree are not the ones changed. Not when most rows leave the
                // cell empty: an empty cell is a value left out, not a sign that the row giving one is wrong.
                let majority = rows[most.first].values[column] ?? ""
                let hint = most.hash != seen[0].hash && majority != theirs && !majority.isEmpty
                    ? " \(most.rows.formatted()) of the person's \(seen.reduce(0) { $0 + $1.rows }.formatted()) rows give “\(majority)”: row \(first.line) may be the one to correct."
                    : ""
                differing.append((
                    index,
                    issue(
                        .error, "inconsistent_person", row, column,
                        "“\(mine)” differs from row \(first.line) (“\(theirs)”) for the same userId \(userID).\(hint)",
                        fix: "A person's details must be the same on each of their rows; correct one of the two rows.")
                ))
            }
        }
        // A row's own issues in the order one pass gives them: how the person is described before what is shared.
        return (differing.map { ($0.0, 0, $0.1) } + found.map { ($0.0, 1, $0.1) }).enumerated()
            .sorted { ($0.element.0, $0.element.1, $0.offset) < ($1.element.0, $1.element.1, $1.offset) }
            .map { ($0.element.0, $0.element.2) }
    }

    /// A school or class named two ways, a class in two schools or with two primary teachers, and classes over the
    /// recommended size: the issues, by row index (the class sizes last).
    static func schoolAndClassIssues(_ rows: [Row], columns: RosterRowRules.UsersColumns) -> [(Int, BatchIssue)] {
        /// Where an issue goes among a row's issues: in the order one pass over a row's checks gives them.
        enum Slot: Int { case schoolName, classSchool, className, primaryTeacher, classSize }
        var found: [(index: Int, slot: Slot, issue: BatchIssue)] = []
        var schoolNames: [String: NameVotes] = [:]
        /// What the rows so far said about one class: found with one lookup a row instead of one a check.
        struct ClassSeen {
            var school: (id: String, line: Int)?
            var names = NameVotes()
            var primaryLine: Int?
            /// Each student row, by its index: their userIds are counted without repeats only for a class with more
            /// rows than the warning's size (a set a class took an insert, so a hash, for every student row; a userId
            /// kept a row counted a reference up and down).
            var studentRows: [Int32] = []
        }
        // Each class's position in `classIDs`, and what was seen of it there (looked up by a hash of the ID's bytes:
        // a class ID over 15 bytes is stored apart from the row, and a table keyed by the IDs read them at each key
        // passed, most of these checks' time). Classes are told apart by their bytes, as the database does.
        var classIDs = DistinctTexts(), classes: [ClassSeen] = []
        var classPositions = TextAnswers(), isTrue = TextAnswers(), isStudent = TextAnswers(), isDelete = TextAnswers()
        /// The previous row's school and name, which of the school's names it is, and how many rows since it was
        /// looked up gave both again (added to its count once the school or name changes): a row repeating both
        /// needs no lookup.
        var last: (school: String, name: String, vote: Int)?, lastRepeats = 0
        /// Whether the row's school and name cells are the previous person row's (by the numbers of their texts:
        /// no text read), and whether that row's were counted.
        var schoolChanges = CellChanges(), nameChanges = CellChanges(), previousCounted = false
        func countLastRepeats() {
            if let last, lastRepeats > 0 { schoolNames[last.school]?.given += lastRepeats }
            lastRepeats = 0
        }
        forEachPersonRow(rows, userID: columns.userID) { index, row, _, _ in
            // The row's cells, held once for the row: the answers below take them as an argument, which copied them
            // from the array at each call.
            let values = row.values
            func value(_ column: RowValues.Column) -> String { values[column] ?? "" }
            func add(_ slot: Slot, _ issue: BatchIssue) { found.append((index, slot, issue)) }
            let schoolDiffers = schoolChanges.differs(values, columns.schoolID), nameDiffers = nameChanges.differs(values, columns.schoolName)
            if previousCounted && !schoolDiffers && !nameDiffers, let last, last.vote == 0 {
                // The previous row's school and name, counted there, so neither is empty.
                lastRepeats += 1
            } else {
                let school = value(columns.schoolID), name = value(columns.schoolName)
                previousCounted = !name.isEmpty && !school.isEmpty
                if previousCounted {
                    if let last, last.school == school, last.name == name, last.vote == 0 {
                        lastRepeats += 1
                    } else {
                        countLastRepeats()
                        last = (school, name, schoolNames[school, default: NameVotes()].vote(name, line: row.line, index: index))
                    }
                }
            }
            // Which class, and the row's role, action and primary teacher: answered once for each distinct text of
            // a piece of the file (`TextAnswers`), not once a row (the class's position looked up by its bytes on
            // every row was most of this search's time).
            let position = Int(
                classPositions.answer(values, columns.classID) { classID in
                    guard !classID.isEmpty else { return Int32(Int32.max) }
                    let (position, inserted) = classIDs.position(of: classID)
                    if inserted { classes.append(ClassSeen()) }
                    return Int32(position)
                })
            guard position != Int(Int32.max) else { return }
            let school = value(columns.schoolID), className = value(columns.className)
            let primary = isTrue.answer(values, columns.primaryTeacher) { RosterRowRules.trueOrFalse($0) == true ? 1 : 0 } == 1
            let student =
                isStudent.answer(values, columns.role) { UserRole(lenient: $0) == .student ? 1 : 0 } == 1
                && isDelete.answer(values, columns.action) { $0.lowercased() == "delete" ? 1 : 0 } == 0
            // Changed in place through the dictionary (one lookup; the class's set of students is not copied).
            func visit(_ seen: inout ClassSeen) {
                if let owner = seen.school {
                    if owner.id != school {
                        add(
                            .classSchool,
                            issue(
                                .error, "class_in_two_schools", row, "classId",
                                "class \(classIDs.texts[position]) is in school \(owner.id) on row \(owner.line) and in \(school) here; a class belongs to one school.",
                                fix: "Use a different classId for the other school's class."))
                    }
                } else {
                    seen.school = (school, row.line)
                }
                if !className.isEmpty { _ = seen.names.vote(className, line: row.line, index: index) }
                if primary {
                    if let earlier = seen.primaryLine {
                        add(
                            .primaryTeacher,
                            issue(
                                .error, "two_primary_teachers", row, "primaryTeacher",
                                "class \(classIDs.texts[position]) already has its primary teacher on row \(earlier).",
                                fix: "Set primaryTeacher to true for one teacher of the class only."))
                    } else {
                        seen.primaryLine = row.line
                    }
                }
                if student { seen.studentRows.append(Int32(truncatingIfNeeded: index)) }
            }
            visit(&classes[position])
        }
        countLastRepeats()

        // A school or class given different names: the name most of its rows give holds (the first given, of names
        // as many rows give), and each row giving another is an error there. One misspelt row is the one named,
        // not every row after it. The rows giving the first name are not listed as they come (nearly every row):
        // where another name holds, they are found again in one more pass.
        func nameDiffers(_ index: Int, _ votes: NameVotes, _ agreed: Int, key: String, column: String, what: String) -> BatchIssue {
            let row = rows[index], held = votes.name(agreed)
            return issue(
                .error, "\(what)_name_differs", row, column,
                "“\(row.values[column] ?? "")” differs from the name \(held.count == 1 ? "one row gives" : "\(held.count.formatted()) rows give") \(what) \(key) "
                    + "(“\(held.name)”, first on row \(held.line)).",
                fix: "Give the \(what) the same name on every row, or leave \(column) empty on all but one.")
        }
        /// Blames the rows giving a name other than the first and other than the one that holds; answers the one that
        /// holds (0: the first name).
        func blameOtherNames(_ votes: NameVotes, key: String, slot: Slot, column: String, what: String) -> Int {
            let agreed = votes.agreed
            for (other, named) in votes.others.enumerated() where other + 1 != agreed {
                for index in named.rows { found.append((index, slot, nameDiffers(index, votes, agreed, key: key, column: column, what: what))) }
            }
            return agreed
        }
        var outvotedFirstName: [String: Int] = [:]  // a school whose first name is outvoted → the name that holds
        for (school, votes) in schoolNames where !votes.others.isEmpty {
            let agreed = blameOtherNames(votes, key: school, slot: .schoolName, column: "schoolName", what: "school")
            if agreed != 0 { outvotedFirstName[school] = agreed }
        }
        var classOutvotedFirstName: [Int: Int] = [:]  // the same for classes, by position
        for (position, seen) in classes.enumerated() where !seen.names.others.isEmpty {
            let agreed = blameOtherNames(seen.names, key: classIDs.texts[position], slot: .className, column: "className", what: "class")
            if agreed != 0 { classOutvotedFirstName[position] = agreed }
        }
        if !outvotedFirstName.isEmpty || !classOutvotedFirstName.isEmpty {
            forEachPersonRow(rows, userID: columns.userID) { index, row, _, _ in
                func value(_ column: RowValues.Column) -> String { row.values[column] ?? "" }
                let school = value(columns.schoolID), name = value(columns.schoolName)
                if let agreed = outvotedFirstName[school], let votes = schoolNames[school], !name.isEmpty, name == votes.first {
                    found.append((index, .schoolName, nameDiffers(index, votes, agreed, key: school, column: "schoolName", what: "school")))
                }
                let classID = value(columns.classID), className = value(columns.className)
                guard !classOutvotedFirstName.isEmpty, !classID.isEmpty, !className.isEmpty, let position = classIDs.existingPosition(of: classID),
                    let agreed = classOutvotedFirstName[position], className == classes[position].names.first
                else { return }
                found.append((index, .className, nameDiffers(index, classes[position].names, agreed, key: classID, column: "className", what: "class")))
            }
        }

        for (position, seen) in classes.enumerated() where seen.studentRows.count > classSizeWarning {
            let classID = classIDs.texts[position]
            let students = Set(seen.studentRows.map { rows[Int($0)].values[columns.userID] ?? "" }).count
            guard students > classSizeWarning, let first = seen.studentRows.first.map(Int.init) else { continue }
            found.append(
                (
                    first, .classSize,
                    issue(
                        .warning, "class_over_80", rows[first], "classId",
                        "class \(classID) has \(students) students in this file; at most \(classSizeWarning) are recommended.",
                        fix: "Check that the class is right, or split it into two classes.")
                ))
        }
        found.sort { ($0.index, $0.slot.rawValue) < ($1.index, $1.slot.rawValue) }
        return found.map { ($0.index, $0.issue) }
    }

    /// The names rows give one school or class: the first given and its row, how many rows give a name, and each
    /// other name with its first row and the rows giving it (as positions in the file's rows). A row giving the
    /// first name, nearly every row, only adds one to the count.
    struct NameVotes {
        var first: String?
        var firstLine = 0
        var given = 0
        var others: [(name: String, line: Int, rows: [Int])] = []

        /// Counts one row giving `name`: 0 when it is the first name, else its place in `others` plus one.
        mutating func vote(_ name: String, line: Int, index: Int) -> Int {
            given += 1
            if first == name { return 0 }
            guard first != nil else {
                first = name
                firstLine = line
                return 0
            }
            if let other = others.firstIndex(where: { $0.name == name }) {
                others[other].rows.append(index)
                return other + 1
            }
            others.append((name, line, [index]))
            return others.count
        }

        /// A name as `vote` numbers it, its first row and how many rows give it.
        func name(_ vote: Int) -> (name: String, line: Int, count: Int) {
            guard vote > 0 else { return (first ?? "", firstLine, given - others.reduce(0) { $0 + $1.rows.count }) }
            let other = others[vote - 1]
            return (other.name, other.line, other.rows.count)
        }

        /// The name that holds: the one most rows give, the first given of those as many rows give.
        var agreed: Int {
            var best = 0, most = name(0).count
            for (other, named) in others.enumerated() where named.rows.count > most { (best, most) = (other + 1, named.rows.count) }
            return best
        }
    }

    static func checkDemographics(_ rows: inout [Row], users: [Row]) {
        // Without demographics rows there is nothing to check: users.csv's students are not gathered (0.24 s of
        // checking a state-size users.csv alone, as every import checks it).
        guard !rows.isEmpty else { return }
        let columns = RosterRowRules.UsersColumns(users.first?.values.columns)
        checkDemographics(&rows, students: students(users, userID: { $0.values[columns.userID] ?? "" }, role: { $0.values[columns.role] ?? "" }))
    }

    /// The userIds of the students among users.csv rows, whose rows come person by person: a row's role is read only
    /// where its person is not the previous row's.
    static func students<Rows: Sequence>(_ rows: Rows, userID: (Rows.Element) -> String, role: (Rows.Element) -> String) -> Set<String> {
        var students: Set<String> = [], previous: String?
        for row in rows {
            let user = userID(row)
            guard user != previous else { continue }
            previous = user
            if UserRole(lenient: role(row)) == .student { students.insert(user) }
        }
        return students
    }

    static func checkDemographics(_ rows: inout [Row], students: Set<String>) {
        var seen: [String: Int] = [:]
        for index in rows.indices {
            let userID = rows[index].values["userId"] ?? ""
            guard !userID.isEmpty else { continue }
            if let earlier = seen[userID] {
                rows[index].issues.append(
                    issue(
                        .error, "duplicate_student", rows[index], "userId",
                        "\(userID) already has demographics on row \(earlier).",
                        fix: "Keep one row per student and delete the other."))
            } else {
                seen[userID] = rows[index].line
            }
            if !students.contains(userID) {
                rows[index].issues.append(notInUsers(rows[index], userID, students: students))
            }
        }
    }

    /// A demographics row whose userId is no student of users.csv. When it is one once a spreadsheet's lost leading
    /// zeros are put back — in users.csv (`200` there, `00000200` here) or in this file — the message says so and
    /// which file to mend, instead of asking to add a student who is there.
    static func notInUsers(_ row: Row, _ userID: String, students: Set<String>) -> BatchIssue {
        let unpadded = String(userID.drop { $0 == "0" })
        if unpadded != userID, !unpadded.isEmpty, students.contains(unpadded) {
            return issue(
                .error, "not_in_users", row, "userId",
                "\(userID) is not a student in the users.csv uploaded with this file, but \(unpadded) is: a spreadsheet "
                    + "appears to have removed the leading zeros of users.csv's userId.",
                fix: "Write \(userID) in users.csv's userId column (format it as Text before saving); this row then goes through as it is.")
        }
        if let restored = ExcelDamage.restoredLeadingZeros(userID, exists: students.contains) {
            return issue(
                .error, "not_in_users", row, "userId",
                "\(userID) is not a student in the users.csv uploaded with this file, but \(restored) is: leading zeros "
                    + "appear to have been removed by a spreadsheet.",
                fix: "Write \(restored), and format the column as Text before saving from a spreadsheet.")
        }
        return issue(
            .error, "not_in_users", row, "userId", "\(userID) is not a student in the users.csv uploaded with this file.",
            fix: "Add the student to users.csv, or delete this row.")
    }

    /// A person with a bad row cannot be written: their other rows (enrollments) and their demographics are skipped,
    /// saying which row to fix.
    static func skipDependents(_ users: inout [Row], _ demographics: inout [Row]) {
        // Each person with an error: the first bad row, and its problem when that problem is the userId itself (lost
        // leading zeros, scientific notation): another row giving that same userId has it too, and is not merely
        // skipped — "correct that row and this one goes through" would be untrue.
        var badRow: [String: (file: String, line: Int, ownID: BatchIssue?)] = [:]
        // (Read through the buffer: each row taken from the array is a copy, its references counted up and down.)
        users.withUnsafeBufferPointer { rows in
            for index in rows.indices where !rows[index].issues.isEmpty && rows[index].hasErrors {
                let userID = rows[index].values["userId"] ?? ""
                guard !userID.isEmpty && badRow[userID] == nil else { continue }
                let ownID = rows[index].issues.first {
                    $0.severity == .error && $0.column == "userId" && $0.code != Self.dependsOnBadRow && Self.idDamage.contains($0.code)
                }
                badRow[userID] = (rows[index].file, rows[index].line, ownID)
            }
        }
        guard !badRow.isEmpty else { return }
        func skip(_ row: inout Row) {
            guard !row.hasErrors, let userID = row.values["userId"], let bad = badRow[userID] else { return }
            if let same = bad.ownID {
                row.issues.append(issue(.error, same.code, row, "userId", String(same.messageAfterRow(bad.line) ?? same.message[...]), fix: same.fix))
                return
            }
            row.issues.append(
                issue(
                    .error, Self.dependsOnBadRow, row, "userId",
                    "skipped because \(bad.file) row \(bad.line), about the same person (userId \(userID)), has an error.",
                    fix: "Correct row \(bad.line) of \(bad.file); this row then goes through as it is."))
        }
        for index in users.indices { skip(&users[index]) }
        for index in demographics.indices { skip(&demographics[index]) }
    }

    /// The problems of a userId that are the ID itself, damaged by a spreadsheet: every row giving it has them.
    static let idDamage: Set<String> = ["leading_zeros_lost", "scientific_notation"]
}
