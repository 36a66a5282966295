import BatchCore
import Foundation
import Testing

@Suite("Roster planning over rows that come person by person, and the parallel pieces it is read in")
struct RosterPlannerTests {
    static let columns = ["userId", "schoolId", "classId", "className", "userRole", "firstName", "lastName", "action"]

    /// Shared by every row, as a file's rows share theirs.
    static let names = RowValues.Columns(columns)

    static func row(_ line: Int, _ values: [String: String]) -> BatchItem {
        BatchItem(
            id: Int64(line), fileName: "users.csv", row: line, input: RowValues(columns: names, values: columns.map { values[$0] ?? "" }),
            state: .ready)
    }

    static var snapshot: RosterSnapshot {
        var snapshot = RosterSnapshot()
        snapshot.schools = [
            "S1": .init(key: SchoolKey(rawValue: "k1"), name: "North"), "S2": .init(key: SchoolKey(rawValue: "k2"), name: "South"),
        ]
        snapshot.people["007"] = .init(
            fields: ["userRole": "student", "firstName": "Wing", "lastName": "Chan", "userStatus": "active"], schoolIDs: ["S1"],
            schoolKeys: [SchoolKey(rawValue: "k1")])
        snapshot.classes["C1"] = ["schoolId": "S1", "className": "5A"]
        snapshot.classes["C2"] = ["schoolId": "S2", "className": "5B"]
        snapshot.addEnrollment(userID: "007", classID: "C1", fields: ["role": "student", "primaryTeacher": "false"])
        return snapshot
    }

    @Test("a person's stored fields read like a dictionary of those set: empty and unknown names are nil, and by position in RosterRecord.personFields")
    func personFields() {
        let fields = RosterSnapshot.PersonFields(["userRole": "student", "firstName": "詠欣", "middleName": "", "notAField": "x"])
        #expect(fields["userRole"] == "student")
        #expect(fields["firstName"] == "詠欣")
        #expect(fields["middleName"] == nil)
        #expect(fields["notAField"] == nil)
        #expect(fields.dictionary == ["userRole": "student", "firstName": "詠欣"])
        #expect(fields[position: RosterRecord.personFields.firstIndex(of: "firstName")!] == "詠欣")
        #expect(fields[position: RosterRecord.personFields.firstIndex(of: "userEmail")!] == "")
        #expect(RosterSnapshot.PersonFields(values: fields.values) == fields)
    }

    @Test("a person's first row ending an enrollment does not hide the name change and the new school on the next rows")
    func deleteThenUpdate() {
        let items = [
            Self.row(2, ["userId": "007", "schoolId": "S1", "classId": "C1", "userRole": "student", "firstName": "Wing", "lastName": "Chan", "action": "delete"]),
            Self.row(3, ["userId": "007", "schoolId": "S2", "classId": "C2", "userRole": "student", "firstName": "Wing Yan", "lastName": "Chan"]),
            Self.row(4, ["userId": "007", "schoolId": "S2", "classId": "C2", "className": "5B", "userRole": "student", "firstName": "Wing Yan", "lastName": "Chan"]),
        ]
        let planned = RosterPlanner(snapshot: Self.snapshot, mode: .addUpdate, scope: .district).plan(items)
        #expect(planned[0].changes == [FieldChange(entity: "enrollment", key: "007|C1", field: "*", before: #"{"primaryTeacher":"false","role":"student"}"#, after: nil)])
        #expect(planned[1].changes.contains(FieldChange(entity: "person", key: "007", field: "firstName", before: "Wing", after: "Wing Yan")))
        #expect(planned[1].changes.contains(FieldChange(entity: "membership", key: "007|S2", field: "*", before: nil, after: "{}")))
        #expect(planned[1].changes.contains { $0.entity == "enrollment" && $0.key == "007|C2" && $0.before == nil })
        #expect(planned[2].state == .unchanged, "the same person, school and class again: nothing more to write")
        let counts = RosterSummary.counts(planned)
        #expect(counts.first { $0.entity == "students" }?.updated == 1)
        #expect(counts.first { $0.entity == "enrollments" }?.created == 1)
        #expect(counts.first { $0.entity == "enrollments" }?.removed == 1)
    }

    @Test("demographics rows: a new record as one sorted object, an existing one field by field, stored forms compared, absent columns left alone")
    func demographicsChanges() {
        var snapshot = Self.snapshot
        // As the loader reads a record (every field, in its order) and as a record read by name.
        snapshot.demographics["007"] = RowValues(
            columns: RosterSnapshot.demographicsColumns,
            values: RosterRecord.demographicsFields.map { ["birthDate": "2014-09-02", "sex": "female", "asian": "true", "homeLanguage": "yue"][$0] ?? "" })
        snapshot.people["009"] = .init(fields: ["userRole": "student", "firstName": "Ka", "lastName": "Ho", "userStatus": "active"], schoolIDs: ["S1"], schoolKeys: [SchoolKey(rawValue: "k1")])
        snapshot.demographics["009"] = ["sex": "male", "white": "false"]
        var items = ["007", "008", "009"].enumerated().map { offset, user in
            Self.row(offset + 2, ["userId": user, "schoolId": "S1", "classId": "C1", "userRole": "student", "firstName": "Wing", "lastName": "Chan"])
        }
        // homeLanguage is not a column of this file: the stored one stays.
        let columns = RowValues.Columns(["userId", "birthDate", "sex", "asian", "white", "countryOfBirthCode"])
        for (offset, cells) in [
            ["007", "2014-09-02", "Male", "TRUE", "", "HK"], ["008", "2015-01-31", "FEMALE", "", "True", ""], ["009", "", "male", "", "false", ""],
        ].enumerated() {
            items.append(
                BatchItem(id: Int64(10 + offset), fileName: "demographics.csv", row: offset + 2, input: RowValues(columns: columns, values: cells), state: .ready))
        }
        let planned = RosterPlanner(snapshot: snapshot, mode: .addUpdate, scope: .district).plan(items)
        #expect(
            planned[3].changes == [
                FieldChange(entity: "demographics", key: "007", field: "sex", before: "female", after: "male"),
                FieldChange(entity: "demographics", key: "007", field: "countryOfBirthCode", before: nil, after: "HK"),
            ])
        #expect(
            planned[4].changes == [
                FieldChange(
                    entity: "demographics", key: "008", field: "*", before: nil, after: #"{"birthDate":"2015-01-31","sex":"female","white":"true"}"#)
            ])
        #expect(planned[5].changes.isEmpty && planned[5].state == .unchanged, "\(planned[5].changes)")
    }

    @Test("enrollments are counted once each: the rows' own, changed or not, and those only a sync removal names")
    func enrollmentCounts() {
        var changed = Self.row(2, ["userId": "007", "schoolId": "S1", "classId": "C1", "userRole": "teacher"])
        changed.changes = [
            FieldChange(entity: "enrollment", key: "007|C1", field: "primaryTeacher", before: "false", after: "true"),
            FieldChange(entity: "enrollment", key: "007|C1", field: "role", before: "student", after: "teacher"),
        ]
        let same = Self.row(3, ["userId": "008", "schoolId": "S1", "classId": "C1", "userRole": "student"])
        let again = Self.row(4, ["userId": "008", "schoolId": "S1", "classId": "C1", "userRole": "student"])
        // A new enrollment, its person's ID a prefix of another's.
        var other = Self.row(5, ["userId": "00", "schoolId": "S1", "classId": "C2", "userRole": "student"])
        other.changes = [FieldChange(entity: "enrollment", key: "00|C2", field: "*", before: nil, after: "{}")]
        let sync = BatchItem(
            id: 6, fileName: "users.csv", row: nil, input: [RosterPlanner.syncColumn: "true"], state: .ready,
            changes: [FieldChange(entity: "enrollment", key: "009|C1", field: "*", before: "{}", after: nil)])
        // People whose rows come apart (010 and 012, around 011 and 013): each enrollment still counts once.
        func student(_ line: Int, _ user: String, _ classID: String) -> BatchItem {
            Self.row(line, ["userId": user, "schoolId": "S1", "classId": classID, "userRole": "student"])
        }
        var created = student(10, "012", "C4")
        created.changes = [FieldChange(entity: "enrollment", key: "012|C4", field: "*", before: nil, after: "{}")]
        let apart = [student(7, "010", "C3"), student(8, "011", "C3"), student(9, "010", "C3"), created, student(11, "013", "C5"), student(12, "012", "C4")]
        let items = [changed, same, again, other] + apart + [sync]
        let counts = RosterSummary.counts(items).first { $0.entity == "enrollments" }
        #expect(counts?.updated == 1, "two fields of one enrollment: one updated")
        #expect(counts?.unchanged == 4, "the same enrollment on two rows: one (008|C1, 010|C3, 011|C3, 013|C5)")
        #expect(counts?.created == 2)
        #expect(counts?.removed == 1)
        // Counted in two parts at once (a large batch is), cut anywhere: the same counts of every entity.
        let whole = RosterSummary.counts(items)
        for cut in 1..<items.count { #expect(RosterSummary.counts(items, cutNear: cut) == whole, "cut near \(cut)") }
    }

    @Test("counted from rows read from a file (cells as the reader numbered them), a class and a person each count once, with their own changes")
    func countsFromFile() throws {
        let header = "schoolId,userId,userRole,firstName,lastName,classId"
        let lines = [
            "S1,001,student,Ann,Lee,C1", "S1,001,student,Ann,Lee,C2",  // a new person in two new classes
            "S1,002,student,Bo,Ho,C1", "S1,002,student,Bo,Ho,C3",  // another, C1 again, C3 existing and renamed
            "S1,003,student,Cy,Yu,C3",  // an existing person, unchanged, in C3
            "S1,001,student,Ann,Lee,C2",  // the first person again, apart
            "S1,004,student,Di,Ng,C9",  // a row with an error: counted as the person's error only
            "S1,005,student,Ed,Au,C3",  // changes about records not its own: another class, another person
        ]
        let bytes = Data(([header] + lines).joined(separator: "\n").utf8)
        let table = try CSVTable.read(bytes: bytes, fileName: "users.csv", dictionary: RosterDictionaries.users).get()
        func created(_ entity: String, _ key: String) -> FieldChange { FieldChange(entity: entity, key: key, field: "*", before: nil, after: "{}") }
        let changes: [[FieldChange]] = [
            [created("person", "001"), created("class", "C1"), created("enrollment", "001|C1")],
            [created("class", "C2"), created("enrollment", "001|C2")],
            [created("person", "002"), created("enrollment", "002|C1")],
            [FieldChange(entity: "class", key: "C3", field: "className", before: "3A", after: "3B"), created("enrollment", "002|C3")],
            [], [], [],
            [
                created("person", "005"), created("enrollment", "005|C3"),
                FieldChange(entity: "class", key: "C4", field: "className", before: "4A", after: "4B"),
                FieldChange(entity: "person", key: "003", field: "firstName", before: "Cy", after: "Cyd"),
            ],
        ]
        var numbered = zip(table.records, changes).enumerated().map { position, pair in
            BatchItem(
                id: Int64(position + 1), fileName: "users.csv", row: pair.0.line, input: table.values(of: pair.0),
                state: pair.0.line == 8 ? .error : .ready, changes: pair.1)
        }
        // A sync removal of a person no row names.
        numbered.append(
            BatchItem(
                id: 9, fileName: "users.csv", row: nil, input: [RosterPlanner.syncColumn: "true"], state: .ready,
                changes: [FieldChange(entity: "person", key: "006", field: "userStatus", before: "active", after: "left")]))
        #expect(numbered.dropLast().allSatisfy { $0.input.values.numberedIn != nil })  // the rows', not the sync item's
        // The same rows with cells of their own.
        let own = numbered.map { item -> BatchItem in
            var item = item
            item.input = RowValues(Dictionary(uniqueKeysWithValues: item.input.columns.names.map { ($0, item.input[$0] ?? "") }))
            return item
        }
        let roles = ["006": UserRole.student]
        let counts = RosterSummary.counts(numbered, roles: roles)
        #expect(counts == RosterSummary.counts(own, roles: roles))
        // Counted in two parts at once, cut anywhere: the same counts.
        for cut in 1..<numbered.count { #expect(RosterSummary.counts(numbered, roles: roles, cutNear: cut) == counts, "cut near \(cut)") }
        func count(_ entity: String) -> [Int] {
            counts.first { $0.entity == entity }.map { [$0.created, $0.updated, $0.unchanged, $0.removed, $0.errors] } ?? []
        }
        #expect(count("classes") == [2, 2, 0, 0, 0])  // C1, C2 new; C3 (named, renamed) and C4 (renamed) updated
        #expect(count("students") == [3, 1, 0, 1, 1])  // 001, 002, 005 new; 003 updated; 006 left; 004 an error
        #expect(count("enrollments") == [5, 0, 1, 0, 0])
    }

    @Test("a school or person that fails is reported on each of its rows, in runs and apart; a person checked after a school failure is still checked")
    func repeatedFailures() {
        // A clerk of school S1 (k1): S2 is not theirs; 007 is theirs; 900 is a new person.
        let scope = AccessScope.schools([SchoolKey(rawValue: "k1")])
        var snapshot = Self.snapshot
        snapshot.people["008"] = .init(fields: ["userRole": "student"], schoolIDs: ["S2"], schoolKeys: [SchoolKey(rawValue: "k2")])
        func row(_ line: Int, _ user: String, _ school: String, _ classID: String) -> BatchItem {
            Self.row(line, ["userId": user, "schoolId": school, "classId": classID, "className": "5A", "userRole": "student", "firstName": "A", "lastName": "B"])
        }
        let items = [
            row(2, "007", "S2", "C2"), row(3, "007", "S2", "C2"),  // S2 twice in a row
            row(4, "008", "S1", "C1"), row(5, "008", "S1", "C1"),  // 008 (of S2) twice in a row, at S1
            row(6, "007", "S1", "C1"),  // fine itself, but 007's other rows are bad: skipped with them
            row(7, "008", "S2", "C2"),  // S2 again, after other schools: the school's error, not the person's
            row(8, "008", "S1", "C1"),  // 008 again, after a school failure on its previous row
        ]
        let planned = RosterPlanner(snapshot: snapshot, mode: .addUpdate, scope: scope).plan(items)
        let codes = planned.map { $0.issues.map(\.code) }
        #expect(codes == [
            ["school_out_of_scope"], ["school_out_of_scope"], ["person_out_of_scope"], ["person_out_of_scope"], ["depends_on_bad_row"],
            ["school_out_of_scope"], ["person_out_of_scope"],
        ])
        #expect(planned[1].issues.first?.row == 3 && planned[6].issues.first?.row == 8, "each issue names its own row")
    }

    @Test("a row's label is made from its cells alone: the planner's, and the one the store makes again for a row it keeps as a span of its file")
    func labels() {
        let items = [
            Self.row(2, ["userId": "007", "schoolId": "S1", "classId": "C1", "userRole": "Student", "firstName": "Wing", "lastName": "Chan"]),
            Self.row(3, ["userId": "T9", "schoolId": "S1", "userRole": "teacher", "lastName": "Lee"]),
            Self.row(4, ["userId": "", "schoolId": "S1", "classId": "C2", "userRole": "student", "firstName": "詠欣"]),
        ]
        let planned = RosterPlanner(snapshot: Self.snapshot, mode: .addUpdate, scope: .district).plan(items)
        #expect(planned.map(\.label) == ["007 · Chan, Wing · student · class C1", "T9 · Lee · teacher", " · 詠欣 · student · class C2"])
        let label = RosterPlanner.Label(columns: Self.names)
        #expect(items.map { label($0.input) } == planned.map(\.label))
        // A row with a column list of its own is read by name; a demographics row and the sync item have theirs.
        #expect(label(RowValues(items[0].input.dictionary)) == planned[0].label)
        let demographics = RowValues(columns: RowValues.Columns(["userId", "birthDate"]), values: ["007", "2014-09-02"])
        #expect(RosterPlanner.Label(columns: demographics.columns)(demographics) == "007 · demographics")
        let sync: RowValues = [RosterPlanner.syncColumn: "true"]
        #expect(RosterPlanner.Label(columns: sync.columns)(sync) == nil)
    }

    @Test("rows the store reads again from their file plan the same with their cells let go: only the columns read after the plan are kept, and no label")
    func releasingCells() {
        // Enough rows for every core to plan a piece; some rows end an enrollment, some fail, one has no span.
        var items: [BatchItem] = []
        for line in 2..<6_002 {
            let user = String(format: "%05d", line / 3), teacher = line % 300 == 0
            var item = Self.row(
                line,
                [
                    "userId": teacher ? "T\(line)" : user, "schoolId": line % 7 == 0 ? "S2" : "S1", "classId": "C\(line % 40)",
                    "className": "Class \(line % 40)", "userRole": teacher ? "Teacher" : "student", "firstName": "Wing",
                    "lastName": line == 50 ? "" : "Chan", "action": line == 10 ? "delete" : "",
                ])
            // A person who leaves (counted as removed only by the row's action), in a column list of the row's own.
            if line == 2 { item.input = RowValues(["userId": "007", "schoolId": "S1", "userRole": "student", "firstName": "Wing", "lastName": "Chan", "action": "delete"]) }
            if line == 99 { item.issues = [.error("bad_row", "Row 99 is bad.", fix: "Mend it.")] }
            item.source = line == 77 ? nil : FileSpan(offset: line * 100, length: 90)
            items.append(item)
        }
        let demographics = RowValues.Columns(["userId", "birthDate"])
        for (offset, user) in ["00001", "00002"].enumerated() {
            var item = BatchItem(
                id: Int64(items.count + 1), fileName: "demographics.csv", row: offset + 2, input: RowValues(columns: demographics, values: [user, "2014-09-02"]),
                state: .ready)
            item.source = FileSpan(offset: offset * 20, length: 19)
            items.append(item)
        }
        items.append(BatchItem(id: Int64(items.count + 1), fileName: "users.csv", row: nil, input: [RosterPlanner.syncColumn: "true"], state: .unchanged))
        let planner = RosterPlanner(snapshot: Self.snapshot, mode: .sync, scope: .district)
        let kept = planner.plan(items), released = planner.plan(items, releasingCellsOf: ["users.csv"])
        #expect(released.map(\.changes) == kept.map(\.changes))
        #expect(released.map(\.state) == kept.map(\.state) && released.map(\.target) == kept.map(\.target))
        #expect(released.map(\.issues) == kept.map(\.issues))
        #expect(kept.contains { $0.state == .error } && kept.contains { $0.state == .unchanged } && kept.contains { $0.state == .ready })
        #expect(RosterSummary.counts(released) == RosterSummary.counts(kept))
        #expect(RosterSummary.counts(kept).first { $0.entity == "students" }?.removed == 1)
        for (index, item) in released.enumerated() {
            let whole = kept[index]
            if whole.fileName == "users.csv" && whole.source != nil {
                #expect(item.input.keys == RosterPlanner.columnsReadAfterPlan.filter { whole.input[$0] != nil }, "row \(item.row ?? 0)")
                #expect(RosterPlanner.columnsReadAfterPlan.allSatisfy { item.input[$0] == whole.input[$0] })
                #expect(item.label.isEmpty && !whole.label.isEmpty)
            } else {
                #expect(item.input == whole.input && item.label == whole.label, "row \(item.row ?? 0) of \(item.fileName) keeps its cells")
            }
        }
        #expect(released[75].input == items[75].input, "the row without a span")
        #expect(released.last?.label.hasPrefix("Not in the file (sync)") == true)
    }

    @Test("in a file large enough for every core to check a piece against the data, each bad row is found where it is, and only there")
    func checksInPieces() {
        // Bad rows at the start, on both sides of the middle (where two cores' pieces meet) and last.
        let bad: [Int: (values: [String: String], code: String)] = [
            5: (["classId": "C2"], "class_moves_school"),
            30_000: (["schoolId": "S9"], "new_school_needs_name"),
            30_001: (["classId": "X1", "className": ""], "new_class_needs_name"),
            30_002: (["schoolId": "S9"], "new_school_needs_name"),
            60_001: (["classId": "C2"], "class_moves_school"),
        ]
        var items: [BatchItem] = []
        for line in 2...60_001 {
            var values = [
                "userId": String(format: "%06d", line / 3), "schoolId": "S1", "classId": "N\(line % 50)", "className": "Class \(line % 50)",
                "userRole": "student", "firstName": "詠欣", "lastName": "Chan",
            ]
            for (column, value) in bad[line]?.values ?? [:] { values[column] = value }
            items.append(Self.row(line, values))
        }
        let planned = RosterPlanner(snapshot: Self.snapshot, mode: .addUpdate, scope: .district).plan(items)
        let found = Dictionary(uniqueKeysWithValues: planned.filter { !$0.issues.isEmpty }.map { ($0.row ?? 0, $0.issues.map(\.code)) })
        // The bad rows' people's other rows depend on them (rows 3 and 4 are row 5's person, 60,000 is 60,001's).
        #expect(found == bad.mapValues { [$0.code] }.merging([3: ["depends_on_bad_row"], 4: ["depends_on_bad_row"], 60_000: ["depends_on_bad_row"]]) { $1 })
        #expect(bad.keys.allSatisfy { line in planned[line - 2].state == .error && planned[line - 2].changes.isEmpty })
        #expect(planned[30_003 - 2].state == .ready && planned[29_999 - 2].state == .ready)
        #expect(planned.flatMap(\.changes).filter { $0.entity == "class" && $0.field == "*" }.map(\.key).sorted() == (0..<50).map { "N\($0)" }.sorted())
    }

    @Test("rows with their own column lists (read back as objects) plan exactly like a file's rows sharing one; nothing planned of nothing")
    func ownColumns() {
        var shared: [BatchItem] = []
        for (index, user) in ["101", "101", "102", "007", "007"].enumerated() {
            shared.append(Self.row(index + 2, ["userId": user, "schoolId": index == 2 ? "S9" : "S1", "classId": index % 2 == 0 ? "C1" : "N1", "className": "5N", "userRole": "student", "firstName": "A", "lastName": "B"]))
        }
        let own = shared.map { item -> BatchItem in
            var item = item
            item.input = RowValues(item.input.dictionary)
            return item
        }
        #expect(own[0].input.columns !== own[1].input.columns)
        let planner = RosterPlanner(snapshot: Self.snapshot, mode: .addUpdate, scope: .district)
        let fromShared = planner.plan(shared), fromOwn = planner.plan(own)
        #expect(fromOwn.map(\.changes) == fromShared.map(\.changes))
        #expect(fromOwn.map(\.issues) == fromShared.map(\.issues))
        #expect(fromOwn.map(\.label) == fromShared.map(\.label) && fromOwn.map(\.state) == fromShared.map(\.state))
        #expect(fromShared[2].issues.map(\.code) == ["new_school_needs_name"])
        #expect(planner.plan([]).isEmpty)
    }

    @Test("two people in a row, each with two rows, are each created once with their own membership")
    func newPeople() {
        var items: [BatchItem] = []
        for (index, user) in ["101", "101", "102", "102"].enumerated() {
            items.append(Self.row(index + 2, ["userId": user, "schoolId": "S1", "classId": index % 2 == 0 ? "C1" : "N1", "className": "5N", "userRole": "student", "firstName": "A", "lastName": "B"]))
        }
        let planned = RosterPlanner(snapshot: Self.snapshot, mode: .addUpdate, scope: .district).plan(items)
        let changes = planned.flatMap(\.changes)
        #expect(changes.filter { $0.entity == "person" && $0.field == "*" }.map(\.key) == ["101", "102"])
        #expect(changes.filter { $0.entity == "membership" }.map(\.key) == ["101|S1", "102|S1"])
        #expect(changes.filter { $0.entity == "class" && $0.field == "*" }.map(\.key) == ["N1"])
        #expect(changes.filter { $0.entity == "enrollment" }.count == 4)
    }

    @Test("an enrollment named again is written once: later in the same person's rows, in a second run of their rows, or past a teacher's 32nd class")
    func enrollmentsNamedAgain() {
        var items: [BatchItem] = []
        func add(_ user: String, _ classID: String, role: String = "student") {
            items.append(Self.row(items.count + 2, ["userId": user, "schoolId": "S1", "classId": classID, "className": "n", "userRole": role, "firstName": "A", "lastName": "B"]))
        }
        add("201", "N1"); add("201", "N2"); add("201", "N1")
        add("202", "N1")
        add("201", "N2"); add("201", "N3")
        for number in 1...40 { add("T1", "N\(number)", role: "teacher") }
        add("T1", "N35", role: "teacher"); add("T1", "N2", role: "teacher"); add("T1", "N41", role: "teacher")
        let planned = RosterPlanner(snapshot: Self.snapshot, mode: .addUpdate, scope: .district).plan(items)
        let enrollments = planned.flatMap(\.changes).filter { $0.entity == "enrollment" }.map(\.key)
        #expect(enrollments == ["201|N1", "201|N2", "202|N1", "201|N3"] + (1...41).map { "T1|N\($0)" })
        #expect(planned[2].state == .unchanged && planned[4].state == .unchanged, "201's N1 again, and N2 in 201's second run")
        #expect(planned[items.count - 3].state == .unchanged && planned[items.count - 2].state == .unchanged)
    }

    @Test("Parallel.map keeps every result in order, whatever the pieces")
    func parallelOrder() {
        for count in [0, 1, 3_999, 8_001, 50_003] {
            #expect(Parallel.map(count, minimumPiece: 1_000) { range in range.map { $0 * 2 } } == (0..<count).map { $0 * 2 })
            // Element by element into the result (values with references: strings longer than a small string).
            #expect(Parallel.map(elements: count, minimumPiece: 1_000) { "row \($0) of a long file" } == (0..<count).map { "row \($0) of a long file" })
        }
    }

    @Test("Parallel.update changes every element in place with its own index, whatever the pieces")
    func parallelUpdate() {
        for count in [0, 1, 3_999, 8_001, 50_003] {
            var values = Array(repeating: 1, count: count)
            Parallel.update(&values, minimumPiece: 1_000) { value, index in value += index }
            #expect(values == (0..<count).map { $0 + 1 })
            // With a state of each piece's own: its elements come in order, one after the other.
            Parallel.update(&values, minimumPiece: 1_000, state: { Int?.none }) { last, value, index in
                value = last.map { index - $0 } ?? 0
                last = index
            }
            #expect(values.allSatisfy { $0 == 0 || $0 == 1 })
            // Up to eight pieces a core, none under the minimum.
            let pieces = count == 0 ? 0 : max(1, min(ProcessInfo.processInfo.activeProcessorCount * 8, count / 1_000))
            #expect(values.filter { $0 == 0 }.count == pieces, "one first element a piece")
        }
    }

    @Test("Parallel.take hands back what each element gave up, in order, and leaves each element as changed; lists joined by moving keep every element in order, however they are cut")
    func parallelTakeAndJoin() {
        for count in [0, 1, 3_999, 8_001, 120_007] {
            // Lists of 0–3 texts (long enough to be held apart from the array), as items' changes are.
            var holders = (0..<count).map { index in (0..<(index % 4)).map { "change \($0) of item \(index), a text of its own" } }
            let expected = holders.flatMap { $0 }
            var lists = Parallel.take(&holders, minimumPiece: 1_000, state: { [String]() }) { filler, list -> [String] in
                var taken = filler
                swap(&taken, &list)
                return taken
            }
            #expect(holders.allSatisfy { $0.isEmpty }, "each element left as the body changed it")
            #expect(lists.count == count)
            let joined = [String].joined(moving: &lists) { "" }
            #expect(joined == expected)
            #expect(lists.allSatisfy { $0.isEmpty }, "every list moved out")
        }
        // One long list and many short ones: cut where the elements' share is reached, not by the lists' count.
        var lists = [Array(repeating: "a", count: 200_000)] + (0..<10).map { _ in ["b", "c"] }
        #expect([String].joined(moving: &lists) { "" } == Array(repeating: "a", count: 200_000) + Array(repeating: ["b", "c"], count: 10).flatMap { $0 })
    }

    @Test("Parallel.both with a side that waits (on a thread of its own): both results, the main work's pieces included; main's error comes after the side has ended")
    func bothWaiting() throws {
        let (side, main) = Parallel.both(waiting: { () -> Int in
            Thread.sleep(forTimeInterval: 0.05)
            return 7
        }) { Parallel.map(elements: 10_000, minimumPiece: 1_000) { $0 * 2 } }
        #expect(side == 7 && main == (0..<10_000).map { $0 * 2 })
        struct Refused: Error {}
        let ended = LockedFlag()
        #expect(throws: Refused.self) {
            _ = try Parallel.both(waiting: {
                Thread.sleep(forTimeInterval: 0.05)
                ended.set()
            }) { throw Refused() }
        }
        #expect(ended.value, "the side had ended when the error reached the caller")
    }

    @Test("InBackground makes its value on another thread while the caller goes on; take waits for it and hands it over once")
    func inBackground() {
        let started = LockedFlag(), go = DispatchSemaphore(value: 0)
        let pending = InBackground { () -> [Int] in
            started.set()
            // Made only once the caller, which has gone on, says so (made on the caller's thread, it never would be).
            return go.wait(timeout: .now() + 10) == .success ? Array(0..<1_000) : []
        }
        go.signal()
        #expect(pending.take() == Array(0..<1_000))
        #expect(started.value)
        #expect(pending.take() == nil, "handed over once")
    }

    final class LockedFlag: @unchecked Sendable {
        private let lock = NSLock()
        private var flag = false
        func set() { lock.lock(); flag = true; lock.unlock() }
        var value: Bool { lock.lock(); defer { lock.unlock() }; return flag }
    }

    @Test("a record written from its known sorted keys reads the same as from a dictionary, empty values left out")
    func sortedKeysJSON() {
        let fields = ["userRole": "student", "firstName": "家豪", "lastName": "張 \"Z\"", "middleName": "", "userStatus": "active"]
        let keys = RosterRecord.personFields.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
        #expect(FlatJSON.object(keys: keys, values: keys.map { fields[$0] }) == RosterRecord.json(fields))
    }
}
