import Foundation

/// A student or staff member (SPEC §3).
public struct Person: Sendable, Hashable, Codable {
    public var userID: UserID
    public var role: UserRole
    public var loginID: LoginID?
    public var firstName: String
    public var middleName: String?
    public var lastName: String
    public var preferredFirstName: String?
    public var email: String?
    public var grade: String?
    public var status: UserStatus
    public var districtID: String?
    public var stateID: String?
    /// Internal keys of the person's schools.
    public var schoolKeys: [SchoolKey]

    public init(
        userID: UserID, role: UserRole, loginID: LoginID? = nil, firstName: String, middleName: String? = nil,
        lastName: String, preferredFirstName: String? = nil, email: String? = nil, grade: String? = nil,
        status: UserStatus = .active, districtID: String? = nil, stateID: String? = nil, schoolKeys: [SchoolKey]
    ) {
        self.userID = userID
        self.role = role
        self.loginID = loginID
        self.firstName = firstName
        self.middleName = middleName
        self.lastName = lastName
        self.preferredFirstName = preferredFirstName
        self.email = email
        self.grade = grade
        self.status = status
        self.districtID = districtID
        self.stateID = stateID
        self.schoolKeys = schoolKeys
    }

    /// "Last, First (Preferred)" as lists show it.
    public var displayName: String {
        var name = "\(lastName), \(firstName)"
        if let preferred = preferredFirstName, !preferred.isEmpty, preferred != firstName { name += " (\(preferred))" }
        return name
    }

    /// The lower-cased text a list search matches against: `lowercased()` of the parts joined by spaces, made by
    /// `appendLowercased` (a first roster writes 206,000 people, most names not ASCII).
    public var searchText: String {
        let parts = [userID.rawValue, loginID?.rawValue, firstName, middleName, lastName, preferredFirstName, email].compactMap { $0 }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(parts.reduce(parts.count) { $0 + $1.utf8.count })
        for (index, part) in parts.enumerated() {
            if index > 0 { bytes.append(UInt8(ascii: " ")) }
            Self.appendLowercased(part, to: &bytes)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Appends the UTF-8 of `text.lowercased()`, which lower-cases each Unicode scalar by itself. ASCII is
    /// lower-cased byte by byte, and a scalar that lower-casing does not change (a Chinese character, a small accented
    /// letter) is copied as it is: `lowercased()` makes a string of every non-ASCII scalar's mapping, a tenth of
    /// making a first roster's people rows. (A test checks every scalar against `lowercased()`.)
    static func appendLowercased(_ text: String, to bytes: inout [UInt8]) {
        func lowered(_ byte: UInt8) -> UInt8 { byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte + 32 : byte }
        if text.utf8.allSatisfy({ $0 < 0x80 }) {
            for byte in text.utf8 { bytes.append(lowered(byte)) }
            return
        }
        for scalar in text.unicodeScalars {
            if scalar.isASCII {
                bytes.append(lowered(UInt8(truncatingIfNeeded: scalar.value)))
            } else if scalar.properties.changesWhenLowercased {
                bytes.append(contentsOf: scalar.properties.lowercaseMapping.utf8)
            } else {
                UTF8.encode(scalar) { bytes.append($0) }
            }
        }
    }
}

/// A class (section) of one school.
public struct SchoolClass: Sendable, Hashable, Codable {
    public var classID: ClassID
    public var schoolKey: SchoolKey
    public var name: String
    public var grade: String?
    public var subject: String?

    public init(classID: ClassID, schoolKey: SchoolKey, name: String, grade: String? = nil, subject: String? = nil) {
        self.classID = classID
        self.schoolKey = schoolKey
        self.name = name
        self.grade = grade
        self.subject = subject
    }
}

/// A person's membership of a class.
public struct Enrollment: Sendable, Hashable, Codable {
    public var classID: ClassID
    public var userID: UserID
    public var role: UserRole
    public var primaryTeacher: Bool

    public init(classID: ClassID, userID: UserID, role: UserRole, primaryTeacher: Bool = false) {
        self.classID = classID
        self.userID = userID
        self.role = role
        self.primaryTeacher = primaryTeacher
    }
}

/// A student's demographics (SPEC §4.3). Flags are optional: nil means not recorded.
public struct Demographics: Sendable, Hashable, Codable {
    public var userID: UserID
    public var birthDate: String?
    public var sex: String?
    public var flags: [String: Bool]
    public var homeLanguage: String?
    public var countryOfBirthCode: String?

    public init(
        userID: UserID, birthDate: String? = nil, sex: String? = nil, flags: [String: Bool] = [:],
        homeLanguage: String? = nil, countryOfBirthCode: String? = nil
    ) {
        self.userID = userID
        self.birthDate = birthDate
        self.sex = sex
        self.flags = flags
        self.homeLanguage = homeLanguage
        self.countryOfBirthCode = countryOfBirthCode
    }

    /// The yes/no columns of demographics.csv, in file order, with labels for pages.
    public static let flagColumns: [(column: String, label: String)] = [
        ("hispanicOrLatinoEthnicity", "Hispanic or Latino"),
        ("americanIndianOrAlaskaNative", "American Indian or Alaska Native"),
        ("asian", "Asian"),
        ("blackOrAfricanAmerican", "Black or African American"),
        ("nativeHawaiianOrOtherPacificIslander", "Native Hawaiian or Other Pacific Islander"),
        ("white", "White"),
        ("demographicRaceTwoOrMoreRaces", "Two or more races"),
        ("englishLanguageLearner", "English language learner"),
        ("specialEducation", "Special education"),
        ("section504", "Section 504"),
        ("economicallyDisadvantaged", "Economically disadvantaged"),
    ]

    /// The flags as stored: one character a flag of `flagColumns`, in that order, "1" yes, "0" no, "-" not recorded.
    /// Names other than the flag columns are not stored. Eleven bytes a student, held in the string itself: the JSON
    /// object stored before (`{"americanIndianOrAlaskaNative":false,…}`) was 321 bytes a student, 64 of a state-size
    /// district's 71 MB of demographics, each written twice by SQLite (its log, then the database; docs/decisions.md,
    /// round 42).
    public static func flagsText(_ flags: [String: Bool]) -> String {
        String(decoding: flagColumns.map { flags[$0.column].map { $0 ? yes : no } ?? notRecorded }, as: UTF8.self)
    }

    private static let yes = UInt8(ascii: "1"), no = UInt8(ascii: "0"), notRecorded = UInt8(ascii: "-")

    /// What is stored of a demographics record besides its student: nil where not set; the flags as `flagsText`.
    public typealias Stored = (birthDate: String?, sex: String?, flags: String, homeLanguage: String?, countryOfBirthCode: String?)

    /// A demographics record's JSON (`RosterRecord.json` of its demographics.csv fields) read straight into what is
    /// stored of it: birth date, sex, the flags (`flagsText`), home language and country of birth, nil where not set
    /// (a field set to "" is not set); nil when the text is not such an object. No dictionary of the fields or of
    /// the flags is made (a state-size roster's 200,000 students of 15 fields each were a second of its apply).
    public static func stored(json: String) -> Stored? {
        var birthDate: String?, sex: String?, homeLanguage: String?, countryOfBirthCode: String?
        var flags = [UInt8](repeating: notRecorded, count: flagColumns.count)
        var reader = FlatJSON.Reader(bytes: Array(json.utf8))
        let read = reader.object { key, value in
            let value = value.flatMap { $0.isEmpty ? nil : $0 }
            switch key {
            case "birthDate": birthDate = value
            case "sex": sex = value
            case "homeLanguage": homeLanguage = value
            case "countryOfBirthCode": countryOfBirthCode = value
            default:
                guard let position = flagColumns.firstIndex(where: { $0.column == key }) else { return }
                flags[position] = value.map { $0 == "true" ? yes : no } ?? notRecorded
            }
        }
        guard read else { return nil }
        return (birthDate, sex, String(decoding: flags, as: UTF8.self), homeLanguage, countryOfBirthCode)
    }

    /// Stored flags (`flagsText`) as demographics.csv cells, in `flagColumns` order: "true", "false" or "" (not
    /// recorded). NULL, or a text of another length, records none; a character other than "1" or "0" records none.
    public static func flagCells(stored: String?) -> [String] {
        var cells = Array(repeating: "", count: flagColumns.count)
        guard let stored, stored.utf8.count == flagColumns.count else { return cells }
        for (position, byte) in stored.utf8.enumerated() where byte == yes || byte == no {
            cells[position] = byte == yes ? "true" : "false"
        }
        return cells
    }

    /// Stored flags (`flagsText`): the flags recorded, by name.
    public static func flags(stored: String?) -> [String: Bool] {
        var flags: [String: Bool] = [:]
        for (position, cell) in flagCells(stored: stored).enumerated() where !cell.isEmpty {
            flags[flagColumns[position].column] = cell == "true"
        }
        return flags
    }
}
