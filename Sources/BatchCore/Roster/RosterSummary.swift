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

    /// `roles`: the role of each person a change touches that no row names (sync removals).
    public static func counts(_ items: [BatchItem], roles: [String: UserRole] = [:]) -> [EntityCounts] {
        // One set of keys an entity (in `entities` order) for each of named, created, updated, removed, errors.
        let schools = 0, staff = 1, students = 2, classes = 3, enrollments = 4, demographics = 5
        func sets() -> [Set<String>] { Array(repeating: [], count: entities.count) }
        var named = sets(), created = sets(), updated = sets(), removed = sets(), errors = sets()
        var roleOf = roles
        roleOf.reserveCapacity(items.count / 4)
        var lastUser: String?
        for item in items where RosterPlanner.isUsersRow(item) {
            guard let user = item.input["userId"], user != lastUser else { continue }
            lastUser = user
            if roleOf[user] == nil, let role = UserRole(lenient: item.input["userRole"] ?? "") { roleOf[user] = role }
        }
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
        // Rows come person by person: the previous row's person and school are not counted again.
        var previous: (user: String, school: String?)?
        for item in items {
            let user = item.input["userId"] ?? ""
            if item.state == .error {
                if RosterPlanner.isUsersRow(item) {
                    errors[personEntity(user)].insert(user)
                } else if !RosterPlanner.isSyncItem(item) {
                    errors[demographics].insert(user)
                }
                continue
            }
            guard item.state != .skipped else { continue }
            if RosterPlanner.isUsersRow(item) {
                let school = item.input["schoolId"]
                if previous?.user != user || previous?.school != school {
                    if let school { named[schools].insert(school) }
                    named[personEntity(user)].insert(user)
                    previous = (user, school)
                }
                if let classID = item.input["classId"], !classID.isEmpty {
                    named[classes].insert(classID)
                    named[enrollments].insert(RosterRecord.enrollmentKey(userID: user, classID: classID))
                }
            } else if !RosterPlanner.isSyncItem(item) {
                named[demographics].insert(user)
            }
            guard !item.changes.isEmpty else { continue }
            let removing = RosterPlanner.isSyncItem(item) || item.input["action"]?.lowercased() == "delete"
            for change in item.changes {
                guard let entity = entity(of: change) else { continue }
                if change.field == "*" && change.before == nil {
                    created[entity].insert(change.key)
                } else if (change.field == "*" && change.after == nil) || (removing && change.field == "userStatus") {
                    removed[entity].insert(change.key)
                } else {
                    updated[entity].insert(change.key)
                }
            }
        }
        return entities.indices.map { entity in
            var counts = EntityCounts(entity: entities[entity])
            let made = created[entity], changed = updated[entity].subtracting(made), gone = removed[entity]
            counts.created = made.count
            counts.updated = changed.subtracting(gone).count
            counts.removed = gone.count
            counts.unchanged = named[entity].subtracting(made).subtracting(changed).subtracting(gone).count
            counts.errors = errors[entity].subtracting(named[entity]).count
            return counts
        }
    }
}
