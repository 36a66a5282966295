import Foundation

/// A person's role in the roster (`userRole`).
public enum UserRole: String, Sendable, Codable, CaseIterable, Hashable {
    case student, teacher, administrator, aide, staff

    /// Staff are every role but `student`.
    public var isStaff: Bool { self != .student }

    /// Accepts any letter case, as SPEC §4.2 says.
    public init?(lenient text: String) {
        if let exact = UserRole(rawValue: text) {
            self = exact
            return
        }
        self.init(rawValue: text.trimmedCell.lowercased())
    }

    public static let staffRoles: [UserRole] = allCases.filter(\.isStaff)
}

/// A person's status (`userStatus`).
public enum UserStatus: String, Sendable, Codable, CaseIterable, Hashable {
    /// Currently attending or employed.
    case active
    /// Incoming: known but not yet started.
    case future
    /// Withdrawn or no longer employed.
    case left

    public var label: String {
        switch self {
        case .active: "Active"
        case .future: "Incoming"
        case .left: "Left"
        }
    }
}

/// The grade vocabulary of the district (OneRoster's by default).
public enum GradeLevels {
    public static let oneRoster: [String] = [
        "IT", "PR", "PK", "TK", "KG", "01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11",
        "12", "13", "PS", "UG", "Other",
    ]

    /// The grade of `grades` a common other way of writing it means, nil when none: `5` (a spreadsheet took the
    /// zero of 05), `5th`, `Grade 5`, `Gr. 5`, `G5`, `K` or `Kindergarten` (KG), `Pre-K` (PK), `Preschool` (PS),
    /// `Ungraded` (UG), in any letter case. The nearest by spelling would answer `1st` with `IT`.
    public static func meant(_ text: String, in grades: [String]) -> String? {
        var words = text.lowercased().trimmingCharacters(in: .whitespaces)
        let named: [String: String] = [
            "k": "KG", "kg": "KG", "kinder": "KG", "kindergarten": "KG", "kindergarden": "KG", "prek": "PK", "pre-k": "PK",
            "pre k": "PK", "pre-kindergarten": "PK", "prekindergarten": "PK", "pre-kinder": "PK", "transitional kindergarten": "TK",
            "preschool": "PS", "pre-school": "PS", "ungraded": "UG", "infant": "IT", "infant/toddler": "IT", "toddler": "IT",
        ]
        if let grade = named[words] { return grades.contains(grade) ? grade : nil }
        for prefix in ["grade", "gr.", "gr", "g"] where words.hasPrefix(prefix) {
            words = String(words.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces)
            break
        }
        // ("Grade K", "Gr. Pre-K".)
        if let grade = named[words] { return grades.contains(grade) ? grade : nil }
        for suffix in ["st", "nd", "rd", "th"] where words.hasSuffix(suffix) {
            words = String(words.dropLast(suffix.count))
            break
        }
        guard !words.isEmpty, words.count <= 2, words.allSatisfy(\.isASCII), let number = Int(words), (1...13).contains(number) else { return nil }
        let grade = number < 10 ? "0\(number)" : "\(number)"
        return grades.contains(grade) ? grade : nil
    }
}

/// Format rules for identifiers (SPEC §3).
public enum IdentifierRules {
    /// 1–64 characters of `A–Z a–z 0–9 . _ -`.
    public static func isValidUserID(_ text: String) -> Bool {
        // Every allowed character is ASCII, one byte long: the bytes alone answer (any other byte makes it invalid).
        let bytes = text.utf8
        return (1...64).contains(bytes.count)
            && bytes.allSatisfy { byte in
                (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte) || byte == 0x2E
                    || byte == 0x5F || byte == 0x2D
            }
    }

    /// School IDs: 1–64 printable characters without surrounding spaces or control characters.
    public static func schoolIDProblem(_ text: String) -> String? {
        if text.isEmpty { return "The school ID is empty. Enter the school's external ID, for example 001 or HK-ST-12." }
        if text.utf8.count > 64 && text.count > 64 { return "The school ID is \(text.count) characters long; at most 64 are allowed." }
        if text != text.trimmedCell {
            return "The school ID starts or ends with a space. Remove the spaces."
        }
        if !text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }),
            text.unicodeScalars.contains(where: { $0.properties.generalCategory == .control })
        {
            return "The school ID contains an invisible control character. Retype it."
        }
        return nil
    }
}
