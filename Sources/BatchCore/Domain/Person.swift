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

    /// The lower-cased text a list search matches against.
    public var searchText: String {
        [userID.rawValue, loginID?.rawValue, firstName, middleName, lastName, preferredFirstName, email]
            .compactMap { $0 }.joined(separator: " ").lowercased()
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

    /// The flags as stored: a JSON object with sorted keys, as `JSONEncoder` with `.sortedKeys` writes it. Written
    /// by hand: one encoder a student cost seconds of a state-size roster's apply.
    public static func flagsJSON(_ flags: [String: Bool]) -> String {
        var out: [UInt8] = [UInt8(ascii: "{")]
        for key in flags.keys.sorted(by: { $0.utf8.lexicographicallyPrecedes($1.utf8) }) {
            if out.count > 1 { out.append(UInt8(ascii: ",")) }
            FlatJSON.appendString(key, to: &out)
            out.append(UInt8(ascii: ":"))
            out.append(contentsOf: flags[key]! ? Array("true".utf8) : Array("false".utf8))
        }
        out.append(UInt8(ascii: "}"))
        return String(decoding: out, as: UTF8.self)
    }

    /// Reads stored flags: the known flag names with `true` or `false`, as `flagsJSON` writes them; anything else
    /// through `JSONDecoder`.
    public static func flags(json: String?) -> [String: Bool] {
        guard let json, !json.isEmpty else { return [:] }
        var flags: [String: Bool] = [:]
        var rest = Substring(json)
        guard rest.hasPrefix("{"), rest.hasSuffix("}") else { return decoded(json) }
        rest = rest.dropFirst().dropLast()
        guard !rest.isEmpty else { return [:] }
        for pair in rest.split(separator: ",", omittingEmptySubsequences: false) {
            guard pair.hasPrefix("\""), let colon = pair.lastIndex(of: ":") else { return decoded(json) }
            let key = pair[pair.index(after: pair.startIndex)..<colon].dropLast()
            guard pair[pair.index(before: colon)] == "\"", !key.contains("\"") && !key.contains("\\") else { return decoded(json) }
            switch pair[pair.index(after: colon)...] {
            case "true": flags[String(key)] = true
            case "false": flags[String(key)] = false
            default: return decoded(json)
            }
        }
        return flags
    }

    private static func decoded(_ json: String) -> [String: Bool] {
        (try? JSONDecoder().decode([String: Bool].self, from: Data(json.utf8))) ?? [:]
    }
}
