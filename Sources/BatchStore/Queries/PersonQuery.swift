import Foundation
import BatchCore

/// Filters of the Students and Staff lists (and their API).
public struct PersonQuery: Sendable, Hashable {
    public enum Kind: String, Sendable { case students, staff, all }

    public var kind: Kind
    public var scope: AccessScope
    public var schoolKey: SchoolKey?
    public var grade: String?
    public var classID: ClassID?
    public var status: UserStatus?
    /// Free text: matched against userId, loginId, names and e-mail.
    public var text: String?
    /// Login IDs starting with this (lower-case), found through the login ID index: suggestions for file names.
    public var loginIDPrefix: String?
    /// Groups (the photo download's choices): a person in any of these schools / grades / classes, and among these
    /// people; an empty list does not restrict.
    public var anyOfSchools: [SchoolKey] = []
    public var anyOfGrades: [String] = []
    public var anyOfClasses: [ClassID] = []
    public var anyOfPeople: [UserID] = []
    public var limit: Int
    public var offset: Int

    public init(
        kind: Kind, scope: AccessScope, schoolKey: SchoolKey? = nil, grade: String? = nil, classID: ClassID? = nil,
        status: UserStatus? = nil, text: String? = nil, limit: Int = 50, offset: Int = 0
    ) {
        self.kind = kind
        self.scope = scope
        self.schoolKey = schoolKey
        self.grade = grade
        self.classID = classID
        self.status = status
        self.text = text
        self.limit = min(max(limit, 1), 500)
        self.offset = max(offset, 0)
    }

    var filter: SQLFilter {
        var filter = SQLFilter()
        switch kind {
        case .students: filter.add("p.user_role = 'student'")
        case .staff: filter.add("p.user_role IN ('teacher', 'administrator', 'aide', 'staff')")
        case .all: break
        }
        if let keys = scope.schoolKeys {
            // `IN (subquery)` lets the planner start from the few matching rows; a correlated EXISTS would probe
            // once per person (60× slower at 200,000 students, see docs/benchmarks.md).
            filter.add(in: keys.sorted().map { .id($0) }) {
                "p.user_id IN (SELECT ps.user_id FROM person_schools ps WHERE ps.school_key IN (\($0)))"
            }
        }
        if let schoolKey {
            filter.add(
                "p.user_id IN (SELECT ps2.user_id FROM person_schools ps2 WHERE ps2.school_key = ?)",
                .id(schoolKey))
        }
        if let grade, !grade.isEmpty { filter.add("p.user_grade = ?", .text(grade)) }
        if let classID {
            filter.add(
                "p.user_id IN (SELECT e.user_id FROM enrollments e WHERE e.class_id = ?)", .id(classID))
        }
        if let status { filter.add("p.user_status = ?", .text(status.rawValue)) }
        if !anyOfSchools.isEmpty {
            filter.add(in: anyOfSchools.map { .id($0) }) {
                "p.user_id IN (SELECT ps3.user_id FROM person_schools ps3 WHERE ps3.school_key IN (\($0)))"
            }
        }
        if !anyOfGrades.isEmpty { filter.add(column: "p.user_grade", in: anyOfGrades.map { .text($0) }) }
        if !anyOfClasses.isEmpty {
            filter.add(in: anyOfClasses.map { .id($0) }) { "p.user_id IN (SELECT e2.user_id FROM enrollments e2 WHERE e2.class_id IN (\($0)))" }
        }
        if !anyOfPeople.isEmpty { filter.add(column: "p.user_id", in: anyOfPeople.map { .id($0) }) }
        if let prefix = loginIDPrefix, let last = prefix.unicodeScalars.last, let next = Unicode.Scalar(last.value + 1) {
            // A range the unique index answers; LIKE keeps it exact whatever the database's collation.
            let upper = String(prefix.unicodeScalars.dropLast()) + String(Character(next))
            let escaped = prefix.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                .replacingOccurrences(of: "_", with: "\\_")
            filter.add("p.login_id >= ? AND p.login_id < ? AND p.login_id LIKE ? ESCAPE '\\'", .text(prefix), .text(upper), .text(escaped + "%"))
        }
        if let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty {
            let escaped = text.nfc.lowercased()
                .replacingOccurrences(of: "\\", with: "\\\\")
                .replacingOccurrences(of: "%", with: "\\%")
                .replacingOccurrences(of: "_", with: "\\_")
            filter.add("p.search_text LIKE ? ESCAPE '\\'", .text("%\(escaped)%"))
        }
        return filter
    }
}
