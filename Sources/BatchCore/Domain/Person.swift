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

    /// What is stored of a demographics record besides its student: nil where not set; the flags as `flagsJSON`.
    public typealias Stored = (birthDate: String?, sex: String?, flags: String, homeLanguage: String?, countryOfBirthCode: String?)

    /// A demographics record's JSON (`RosterRecord.json` of its demographics.csv fields) read straight into what is
    /// stored of it: birth date, sex, the flags (`flagsJSON`), home language and country of birth, nil where not set
    /// (a field set to "" is not set); nil when the text is not such an object. No dictionary of the fields or of
    /// the flags is made (a state-size roster's 200,000 students of 15 fields each were a second of its apply):
    /// the flags' JSON is made once for each way of setting them, kept in `flagsMade` by the flags' state.
    public static func stored(json: String, flagsMade: inout [Int: String]) -> Stored? {
        var birthDate: String?, sex: String?, homeLanguage: String?, countryOfBirthCode: String?
        // Two bits a flag, in `flagColumns` order: 1 false, 2 true (0: not set).
        var state = 0
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
                state &= ~(3 << (2 * position))
                if let value { state |= (value == "true" ? 2 : 1) << (2 * position) }
            }
        }
        guard read else { return nil }
        if flagsMade[state] == nil {
            var flags: [String: Bool] = [:]
            for (position, flag) in flagColumns.enumerated() where (state >> (2 * position)) & 3 != 0 {
                flags[flag.column] = (state >> (2 * position)) & 3 == 2
            }
            flagsMade[state] = flagsJSON(flags)
        }
        return (birthDate, sex, flagsMade[state]!, homeLanguage, countryOfBirthCode)
    }

    /// Reads stored flags: the known flag names with `true` or `false`, as `flagsJSON` writes them; anything else
    /// through `JSONDecoder`.
    public static func flags(json: String?) -> [String: Bool] {
        guard var json, !json.isEmpty else { return [:] }
        var flags: [String: Bool] = [:]
        let read = scanFlags(&json) { key, value in flags[String(decoding: key, as: UTF8.self)] = value }
        return read ? flags : decoded(json)
    }

    /// Stored flags as demographics.csv cells, in `flagColumns` order: "true", "false" or "" (not set). Names other
    /// than the flag columns are left out, as `flags(json:)` and then the columns would.
    public static func flagCells(json: String?) -> [String] {
        var cells = Array(repeating: "", count: flagColumns.count)
        guard var json, !json.isEmpty else { return cells }
        // Each key is matched against the names' bytes: no String made a key (200,000 students of 11 flags each).
        let read = scanFlags(&json) { key, value in
            if let position = flagNameBytes.firstIndex(where: { $0.elementsEqual(key) }) { cells[position] = value ? "true" : "false" }
        }
        if !read {
            let flags = decoded(json)
            for (position, flag) in flagColumns.enumerated() { cells[position] = flags[flag.column].map { $0 ? "true" : "false" } ?? "" }
        }
        return cells
    }

    private static let flagNameBytes = flagColumns.map { Array($0.column.utf8) }

    /// Hands each key's bytes and value of a flags object to `each`, byte by byte (200,000 students' flags read
    /// through Substring took 8 s of a state-size re-import's plan). False when the text is not a flat object of
    /// unescaped keys and `true` / `false`: the caller then decodes it with `JSONDecoder`.
    private static func scanFlags(_ json: inout String, _ each: (UnsafeBufferPointer<UInt8>.SubSequence, Bool) -> Void) -> Bool {
        json.withUTF8 { bytes -> Bool in
            let quote = UInt8(ascii: "\""), comma = UInt8(ascii: ","), close = UInt8(ascii: "}")
            guard bytes.count >= 2, bytes[0] == UInt8(ascii: "{"), bytes[bytes.count - 1] == close else { return false }
            var at = 1
            if bytes.count == 2 { return true }
            func matches(_ word: StaticString) -> Bool {
                let count = word.utf8CodeUnitCount
                guard at + count <= bytes.count else { return false }
                for offset in 0..<count where bytes[at + offset] != word.utf8Start[offset] { return false }
                at += count
                return true
            }
            while at < bytes.count {
                guard bytes[at] == quote else { return false }
                let start = at + 1
                var end = start
                while end < bytes.count, bytes[end] != quote {
                    guard bytes[end] != UInt8(ascii: "\\") else { return false }
                    end += 1
                }
                guard end + 1 < bytes.count, bytes[end + 1] == UInt8(ascii: ":") else { return false }
                let key = bytes[start..<end]
                at = end + 2
                if matches("true") {
                    each(key, true)
                } else if matches("false") {
                    each(key, false)
                } else {
                    return false
                }
                guard at < bytes.count else { return false }
                if bytes[at] == close { return at == bytes.count - 1 }
                guard bytes[at] == comma else { return false }
                at += 1
            }
            return false
        }
    }

    private static func decoded(_ json: String) -> [String: Bool] {
        (try? JSONDecoder().decode([String: Bool].self, from: Data(json.utf8))) ?? [:]
    }
}
