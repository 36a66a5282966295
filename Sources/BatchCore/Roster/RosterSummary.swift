/// How many records of one kind a batch creates, updates, leaves unchanged and removes, and how many it cannot
/// touch because of errors (SPEC §4.4 preview, §4.5 report).
public struct EntityCounts: Sendable, Hashable, Codable {
    /// `schools`, `staff`, `students`, `classes`, `enrollments`, `demographics`.
    public var entity: String
    public var created = 0
    public var updated = 0
    public var unchanged = 0
    public var removed = 0
    public var errors = 0

    public init(entity: String) { self.entity = entity }

    public var label: String {
        switch entity {
        case "schools": "Schools"
        case "staff": "Staff"
        case "students": "Students"
        case "classes": "Classes"
        case "enrollments": "Enrollments"
        case "demographics": "Demographics"
        default: entity
        }
    }
}

/// Counts a planned roster batch per entity, from its items: the records each usable row names, and what the
/// changes do to them.
public enum RosterSummary {
    public static let entities = ["schools", "staff", "students", "classes", "enrollments", "demographics"]

    /// Whether two keys have the same bytes (Swift's `==` also calls equal texts whose letters are encoded apart).
    static func sameBytes(_ left: String, _ right: String) -> Bool {
        left.withUTF8Bytes { CSVReader.text(right, is: $0) }
    }

    /// What counting a part of the items found: each entity's records, with what happens to each as bits (one hash a
    /// row and record instead of a set for each of named, created, updated, removed and errors), and the
    /// enrollments of people counted by their runs of rows. Each entity's keys are numbered once by their bytes, as
    /// the database tells its keys apart: two class IDs Swift calls equal, "é" composed on one row and decomposed on
    /// another, are two classes written, so two counted.
    struct Tally {
        var records = [(keys: DistinctTexts, bits: [UInt8])](repeating: (DistinctTexts(), []), count: entities.count)
        var finished: [UInt8] = []

        mutating func mark(_ entity: Int, _ key: String, _ bit: UInt8) {
            records[entity].bits[number(entity, key)] |= bit
        }

        /// The number of the entity's record `key`, added (with no bits) if it was not there.
        mutating func number(_ entity: Int, _ key: String) -> Int {
            let (number, inserted) = records[entity].keys.position(of: key)
            if inserted { records[entity].bits.append(0) }
            return number
        }

        /// Adds what another part found: a record in both has the bits of both.
        mutating func add(_ other: Tally) {
            for entity in records.indices {
                for (number, key) in other.records[entity].keys.texts.enumerated() { mark(entity, key, other.records[entity].bits[number]) }
            }
            finished += other.finished
        }
    }

    /// What happens to a record, as bits (`Tally`).
    static let named: UInt8 = 1, created: UInt8 = 2, updated: UInt8 = 4, removed: UInt8 = 8, errors: UInt8 = 16

    /// `roles`: the role of each person a change touches that no row names (sync removals). A large batch is
    /// counted in two parts at once, cut where a person's rows end, and what the parts found is then put together
    /// (counted in one pass beside the storing of the items, the counts had gone on alone for half a second after it).
    /// `cutNear`: where to cut (moved on to the next person's first row); by default half way for 200,000 items or
    /// more, and no cut below (tests cut small batches anywhere).
    public static func counts(_ items: [BatchItem], roles: [String: UserRole] = [:], cutNear wanted: Int? = nil) -> [EntityCounts] {
        let enrollments = entities.firstIndex(of: "enrollments")!
        let named = Self.named, created = Self.created, updated = Self.updated, removed = Self.removed, errors = Self.errors
        let columns = Columns(items), userColumn = columns.user, roleColumn = columns.role
        var roleOf = roles
        roleOf.reserveCapacity(items.count / 4)
        // Fields are read through the array, not from a copy of each item (copying 1.6 million items, with their
        // references counted up and down, was seconds of a state-size roster).
        // People whose rows come in more than one run (their enrollments are kept by key, as
        // `RosterPlanner.SeenEnrollments.scattered` finds them), found in the same pass as the roles.
        var started: Set<String> = [], runsApart: Set<String> = []
        started.reserveCapacity(items.count / 4)
        var lastUser: String?
        // (Read through the buffer: through the array, each item's cells were retained and released at each read.)
        items.withUnsafeBufferPointer { items in
            for index in items.indices where items[index].input[roleColumn] != nil {
                guard let user = items[index].input[userColumn], user != lastUser else { continue }
                lastUser = user
                if roleOf[user] == nil, let role = UserRole(lenient: items[index].input[roleColumn] ?? "") { roleOf[user] = role }
                if !started.insert(user).inserted { runsApart.insert(user) }
            }
        }
        let scattered = runsApart
        let knownRoles = roleOf
        // The cut: half way, moved on to where the next person's rows start (a person's run of rows is counted
        // whole, in one part).
        var middle = min(max(wanted ?? (items.count >= 200_000 ? items.count / 2 : items.count), 1), items.count)
        while middle < items.count && items[middle].input[userColumn] == items[middle - 1].input[userColumn] { middle += 1 }
        let cut = middle
        var tally: Tally
        if cut < items.count {
            let (second, first) = Parallel.both(yielding: {
                tallyRange(items, cut..<items.count, columns: columns, roles: knownRoles, scattered: scattered)
            }) {
                tallyRange(items, 0..<cut, columns: columns, roles: knownRoles, scattered: scattered)
            }
            tally = first
            tally.add(second)
        } else {
            tally = tallyRange(items, 0..<items.count, columns: columns, roles: knownRoles, scattered: scattered)
        }
        let records = tally.records, finished = tally.finished
        return entities.indices.map { entity in
            var counts = EntityCounts(entity: entities[entity])
            func count(_ bits: UInt8) {
                let made = bits & created != 0, gone = bits & removed != 0, changed = bits & updated != 0 && !made
                if made { counts.created += 1 }
                if gone { counts.removed += 1 }
                if changed && !gone { counts.updated += 1 }
                if bits & named != 0 && !made && !changed && !gone { counts.unchanged += 1 }
                if bits & errors != 0 && bits & named == 0 { counts.errors += 1 }
            }
            for bits in records[entity].bits { count(bits) }
            if entity == enrollments { for bits in finished { count(bits) } }
            return counts
        }
    }

    /// The columns the counting reads, found once in the first file's list, which its rows share (a row with another
    /// list is read by name).
    struct Columns: Sendable {
        let user, role, school, classID, sync, action: RowValues.Column

        init(_ items: [BatchItem]) {
            let shared = items.first?.input.columns
            user = RowValues.Column("userId", in: shared)
            role = RowValues.Column(RosterPlanner.usersRowColumn, in: shared)
            school = RowValues.Column("schoolId", in: shared)
            classID = RowValues.Column("classId", in: shared)
            sync = RowValues.Column(RosterPlanner.syncColumn, in: shared)
            action = RowValues.Column("action", in: shared)
        }
    }

    /// Counts the items of `range`, which starts where a person's rows start.
    static func tallyRange(
        _ items: [BatchItem], _ range: Range<Int>, columns: Columns, roles roleOf: [String: UserRole], scattered: Set<String>
    ) -> Tally {
        let schools = 0, staff = 1, students = 2, classes = 3, enrollments = 4, demographics = 5
        let named = Self.named, created = Self.created, updated = Self.updated, removed = Self.removed, errors = Self.errors
        var tally = Tally()
        func mark(_ entity: Int, _ key: String, _ bit: UInt8) { tally.mark(entity, key, bit) }
        let userColumn = columns.user, roleColumn = columns.role, schoolColumn = columns.school, classColumn = columns.classID
        let syncColumn = columns.sync, actionColumn = columns.action
        func personEntity(_ userID: String) -> Int { roleOf[userID] == .student ? students : staff }
        func entity(of change: FieldChange) -> Int? {
            switch change.entity {
            case "school": schools
            case "person": personEntity(change.key)
            case "class": classes
            case "enrollment": enrollments
            case "demographics": demographics
            default: nil
            }
        }
        // A person's enrollments are those of their run of rows (a row's enrollment changes are its own): kept for
        // the run in a short list by class, then tallied, instead of 1.4 million `userId|classId` keys made and
        // hashed. A scattered person's, and the sync item's, are kept by key.
        tally.finished.reserveCapacity(range.count)
        var run: [(classID: String, bits: UInt8)] = []
        var runUser: String?
        // Whether the last person asked about is scattered: asked again for each of their rows (a hash a row).
        var lastAsked: (user: String, scattered: Bool)?
        func isScattered(_ user: String) -> Bool {
            if let lastAsked, lastAsked.user == user { return lastAsked.scattered }
            let answer = scattered.contains(user)
            lastAsked = (user, answer)
            return answer
        }
        func markEnrollment(_ user: String, _ classID: String, _ bit: UInt8) {
            if isScattered(user) {
                mark(enrollments, RosterRecord.enrollmentKey(userID: user, classID: classID), bit)
                return
            }
            if user != runUser {
                for entry in run { tally.finished.append(entry.bits) }
                run.removeAll(keepingCapacity: true)
                runUser = user
            }
            if let position = run.firstIndex(where: { sameBytes($0.classID, classID) }) {
                run[position].bits |= bit
            } else {
                run.append((classID, bit))
            }
        }
        // Rows come person by person: the previous row's person and school are not marked again. The person's
        // record is remembered for the person's own changes, and a row's class is numbered once for each distinct
        // text of a piece of the file (`TextAnswers`), not by hashing its ID on each row and again for the class's
        // change on the row that creates it.
        var previous: (user: String, school: String?)?
        var person: (user: String, entity: Int, number: Int)?
        var classNumbers = TextAnswers()
        for index in range {
            let input = items[index].input, state = items[index].state
            let user = input[userColumn] ?? ""
            let usersRow = input[roleColumn] != nil, syncItem = input[syncColumn] != nil
            if state == .error {
                if usersRow {
                    mark(personEntity(user), user, errors)
                } else if !syncItem {
                    mark(demographics, user, errors)
                }
                continue
            }
            guard state != .skipped else { continue }
            var rowClass: (id: String, number: Int)?
            if usersRow {
                let school = input[schoolColumn]
                if previous?.user != user || previous?.school != school {
                    if let school { mark(schools, school, named) }
                    let entity = personEntity(user), number = tally.number(entity, user)
                    tally.records[entity].bits[number] |= named
                    person = (user, entity, number)
                    previous = (user, school)
                }
                if let classID = input[classColumn], !classID.isEmpty {
                    let number = Int(classNumbers.answer(input, classColumn) { Int32(tally.number(classes, $0)) })
                    tally.records[classes].bits[number] |= named
                    markEnrollment(user, classID, named)
                    rowClass = (classID, number)
                }
            } else if !syncItem {
                mark(demographics, user, named)
            }
            guard !items[index].changes.isEmpty else { continue }
            let removing = syncItem || input[actionColumn]?.lowercased() == "delete"
            // (Read in place: a copy of each change retained and released its texts.)
            items[index].changes.withUnsafeBufferPointer { changes in
                for position in changes.indices {
                    guard let entity = entity(of: changes[position]) else { continue }
                    let whole = changes[position].field == "*"
                    let bit: UInt8
                    if whole && changes[position].before == nil {
                        bit = created
                    } else if (whole && changes[position].after == nil) || (removing && changes[position].field == "userStatus") {
                        bit = removed
                    } else {
                        bit = updated
                    }
                    // (A users.csv row's enrollment change is about the row's own enrollment; its class and person
                    // changes most often about its own class and person, already numbered.)
                    if entity == enrollments, usersRow, let rowClass {
                        markEnrollment(user, rowClass.id, bit)
                    } else if entity == classes, usersRow, let rowClass, sameBytes(changes[position].key, rowClass.id) {
                        tally.records[classes].bits[rowClass.number] |= bit
                    } else if let person, entity == person.entity, sameBytes(changes[position].key, person.user) {
                        tally.records[person.entity].bits[person.number] |= bit
                    } else {
                        mark(entity, changes[position].key, bit)
                    }
                }
            }
        }
        for entry in run { tally.finished.append(entry.bits) }
        return tally
    }
}
