import Foundation

/// Writes a users.csv and demographics.csv of any size (SPEC §4) for tests, benchmarks and trying the upload: the
/// same input always gives the same bytes. Every student has a homeroom and six subject classes (seven rows), each
/// class a teacher; names are Chinese (in both scripts), accented and plain; userIds keep leading zeros.
///
/// The *changed* variant is the same district a few weeks later: about 5 % of the students updated (a preferred
/// name, an e-mail address or a grade), 1 % new and 1 % gone.
public struct RosterGenerator: Sendable {
    public var schools: Int
    public var students: Int

    public init(schools: Int, students: Int) {
        self.schools = max(1, schools)
        self.students = max(1, students)
    }

    /// `leadingZerosLost`: the original as a spreadsheet saves it when its userId column was not formatted as
    /// Text — every student's userId without its leading zeros, in both files (the damage SPEC §4.3 looks for).
    public enum Variant: Sendable { case original, changed, leadingZerosLost }

    static let grades = ["01", "02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12"]
    static let subjects = ["English", "Mathematics", "Science", "Chinese", "Humanities", "Arts"]
    static let languages = [("yue", "HK"), ("en", "GB"), ("zh", "CN"), ("es", "ES"), ("vi", "VN"), ("de", "DE")]

    public static let usersHeader = RosterDictionaries.users.columns.map(\.name)
    public static let demographicsHeader = RosterDictionaries.demographics.columns.map(\.name)

    /// Writes both files through the sinks, a few hundred kilobytes at a time.
    public func write(_ variant: Variant, users: (String) throws -> Void, demographics: (String) throws -> Void)
        rethrows
    {
        var usersOut = CSVWriter.line(Self.usersHeader)
        var demographicsOut = CSVWriter.line(Self.demographicsHeader)
        usersOut.reserveCapacity(1 << 20)
        func flush(force: Bool = false) throws {
            if force || usersOut.utf8.count > 512 * 1024 { try users(usersOut); usersOut = "" }
            if force || demographicsOut.utf8.count > 512 * 1024 {
                try demographics(demographicsOut); demographicsOut = ""
            }
        }
        var logins = LoginNames()
        let total = variant == .changed ? students + students / 100 : students
        for n in 0..<total {
            var student = self.student(n, logins: &logins)
            if variant == .changed {
                if n < students && n % 100 == 7 { continue }  // gone
                if n < students && n % 20 == 3 { student.update(n) }
            }
            var person = student.cells, demographicsCells = student.demographics
            if variant == .leadingZerosLost {
                let damaged = String(person[0].drop { $0 == "0" })
                person[0] = damaged
                demographicsCells[0] = damaged
            }
            for (classID, className, subject, grade) in classes(of: student) {
                usersOut += row(
                    school: student.school, person: person, classID: classID, className: className, grade: grade,
                    subject: subject, primary: "")
            }
            demographicsOut += CSVWriter.line(demographicsCells)
            try flush()
        }
        for school in 0..<schools {
            for teacher in teachers(of: school) {
                for (classID, className, subject, grade) in teacher.classes {
                    usersOut += row(
                        school: school, person: teacher.cells, classID: classID, className: className, grade: grade,
                        subject: subject, primary: "true")
                }
                try flush()
            }
        }
        try flush(force: true)
    }

    /// Both files of a variant as text (small districts: tests).
    public func files(_ variant: Variant) -> (users: String, demographics: String) {
        var users = "", demographics = ""
        write(variant, users: { users += $0 }, demographics: { demographics += $0 })
        return (users, demographics)
    }

    func schoolID(_ school: Int) -> String { String(format: "SCH%04d", school + 1) }
    func schoolName(_ school: Int) -> String {
        "\(["Harbour", "Lakeside", "Hillview", "Riverside", "Kowloon Bay", "Parkland"][school % 6]) School \(school + 1)"
    }
    func classID(_ school: Int, _ grade: String, _ section: String, _ subject: String?) -> String {
        "\(schoolID(school))-\(grade)\(section)" + (subject.map { "-\($0.prefix(4).uppercased())" } ?? "")
    }

    struct Student {
        var n: Int
        var school: Int
        var grade: String
        var section: String
        /// userId … userStateId, in the order of `usersHeader` from userId on (without the class columns).
        var userID: String
        var loginID: String
        var firstName: String
        var lastName: String
        var preferred: String
        var email: String
        var seed: UInt64

        var cells: [String] {
            [userID, "student", loginID, firstName, lastName, "", preferred, email, grade, "active", "D\(userID)", ""]
        }

        var demographics: [String] {
            var random = SplitMix64(seed: seed)
            let year = 2026 - 6 - (Int(grade) ?? 1)
            let birth = RosterRowRules.dateText(year: year, month: 1 + random.next(12), day: 1 + random.next(28))
            let flags = RosterDictionaries.booleanColumns.map { _ in random.next(5) == 0 ? "true" : "false" }
            let language = RosterGenerator.languages[random.next(RosterGenerator.languages.count)]
            return [userID, birth, ["female", "male"][n % 2]] + flags + [language.0, language.1]
        }

        mutating func update(_ n: Int) {
            switch n % 3 {
            case 0: preferred = preferred == "Sam" ? "Alex" : "Sam"
            case 1: email = "\(loginID).new@students.example.edu"
            default: grade = RosterGenerator.grades[min(11, (Int(grade) ?? 1))]
            }
        }
    }

    /// Login IDs like `19chanw1`, unique: the number counts students with the same start.
    struct LoginNames {
        var used: [String: Int] = [:]
        mutating func make(_ base: String) -> String {
            let next = used[base, default: 0] + 1
            used[base] = next
            return "\(base)\(next)"
        }
    }

    func student(_ n: Int, logins: inout LoginNames) -> Student {
        var random = SplitMix64(seed: UInt64(n) &* 0x9E37_79B9 &+ 17)
        let school = n % schools
        let grade = Self.grades[(n / schools) % Self.grades.count]
        let section = (n / (schools * Self.grades.count)) % 2 == 0 ? "A" : "B"
        let surname = DemoDistrict.surnames[random.next(DemoDistrict.surnames.count)]
        let given = DemoDistrict.givenNames[random.next(DemoDistrict.givenNames.count)]
        let native = surname.native != nil && given.native != nil && random.next(4) == 0
        let ascii = surname.roman.folding(options: [.diacriticInsensitive, .caseInsensitive], locale: nil).filter {
            $0.isLetter && $0.isASCII
        }
        let initial =
            given.roman.folding(options: .diacriticInsensitive, locale: nil).lowercased().first(where: \.isLetter).map(
                String.init) ?? "x"
        let entry = 26 - (Int(grade) ?? 1)
        let login = logins.make("\(entry)\(ascii.lowercased())\(initial)")
        return Student(
            n: n, school: school, grade: grade, section: section, userID: String(format: "%08d", n + 1), loginID: login,
            firstName: native ? given.native! : given.roman, lastName: native ? surname.native! : surname.roman,
            preferred: given.preferred ?? "", email: random.next(2) == 0 ? "\(login)@students.example.edu" : "",
            seed: UInt64(n) &+ 1_000)
    }

    func classes(of student: Student) -> [(String, String, String, String)] {
        [
            (
                classID(student.school, student.grade, student.section, nil),
                "\(Int(student.grade) ?? 0)\(student.section)", "Homeroom", student.grade
            )
        ]
            + Self.subjects.map { subject in
                (
                    classID(student.school, student.grade, student.section, subject),
                    "\(Int(student.grade) ?? 0)\(student.section) \(subject)", subject, student.grade
                )
            }
    }

    struct Teacher {
        var cells: [String]
        var classes: [(String, String, String, String)]
    }

    /// A homeroom teacher for each homeroom and a teacher for each subject (all its grades and sections).
    func teachers(of school: Int) -> [Teacher] {
        var result: [Teacher] = []
        var number = 0
        func person(_ first: String, _ last: String) -> [String] {
            number += 1
            let id = String(format: "T%04d%03d", school + 1, number)
            return [
                id, "teacher", "", first, last, "", "", "\(id.lowercased())@staff.example.edu", "", "active", "", "",
            ]
        }
        for grade in Self.grades {
            for section in ["A", "B"] {
                let given = DemoDistrict.givenNames[(school + number) % DemoDistrict.givenNames.count].roman
                result.append(
                    Teacher(
                        cells: person(
                            given, DemoDistrict.surnames[(school * 7 + number) % DemoDistrict.surnames.count].roman),
                        classes: [
                            (classID(school, grade, section, nil), "\(Int(grade) ?? 0)\(section)", "Homeroom", grade)
                        ]))
            }
        }
        for subject in Self.subjects {
            let classes = Self.grades.flatMap { grade in
                ["A", "B"].map { section in
                    (
                        classID(school, grade, section, subject), "\(Int(grade) ?? 0)\(section) \(subject)", subject,
                        grade
                    )
                }
            }
            let given = DemoDistrict.givenNames[(school * 3 + number) % DemoDistrict.givenNames.count].roman
            result.append(
                Teacher(
                    cells: person(
                        given, DemoDistrict.surnames[(school + number * 5) % DemoDistrict.surnames.count].roman),
                    classes: classes))
        }
        return result
    }

    /// One users.csv line: action, school, the person's cells, the class's cells.
    func row(
        school: Int, person: [String], classID: String, className: String, grade: String, subject: String,
        primary: String
    ) -> String {
        CSVWriter.line(
            ["", schoolID(school), schoolName(school)] + person + [classID, className, grade, subject, primary])
    }
}
