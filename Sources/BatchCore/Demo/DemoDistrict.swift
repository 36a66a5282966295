import Foundation

/// A believable demo district — three schools, about thirty classes, about eight hundred students with loginIds
/// like `19chanw1`, Chinese and accented names, staff and demographics — made the same way every time, so
/// running the demo twice changes nothing.
public struct DemoDistrict: Sendable {
    public var schools: [School]
    public var classes: [SchoolClass]
    public var people: [Person]
    public var enrollments: [Enrollment]
    public var demographics: [Demographics]

    /// Which students get a photo (most do), and the seed of each.
    public var photoSeeds: [(userID: UserID, seed: UInt64)]

    static let schoolPlan: [(key: String, id: String, name: String, grades: [String], entryYear: Int)] = [
        ("demo-school-hvp", "HVP001", "Harbour View Primary School", ["01", "02", "03", "04", "05"], 21),
        ("demo-school-kbs", "KBS002", "Kowloon Bay Secondary School", ["06", "07", "08", "09"], 17),
        ("demo-school-lhs", "LHS003", "Lakeside High School", ["10", "11", "12"], 14),
    ]

    static let surnames: [(roman: String, native: String?)] = [
        ("Chan", "陳"), ("Wong", "黃"), ("Lee", "李"), ("Cheung", "張"), ("Lau", "劉"), ("Ng", "吳"), ("Ho", "何"),
        ("Leung", "梁"), ("Tam", "譚"), ("Yip", "葉"), ("Tsang", "曾"), ("Kwok", "郭"), ("García", nil), ("Müller", nil),
        ("Nguyễn", nil), ("O'Brien", nil), ("Dubois", nil), ("Silva", nil), ("Novák", nil), ("Smith", nil),
        ("Patel", nil), ("Andersson", nil), ("Kowalski", nil), ("Rossi", nil),
    ]
    static let givenNames: [(roman: String, native: String?, preferred: String?)] = [
        ("Wing Yan", "詠欣", "Winnie"), ("Ka Ho", "家豪", nil), ("Tsz Ching", "芷晴", "Chloe"), ("Chun Hei", "俊希", "Marcus"),
        ("Hoi Ying", "凱瑩", nil), ("Wai Lun", "偉倫", "Alan"), ("Sze Wing", "思穎", "Vivian"), ("Ho Yin", "浩然", nil),
        ("José", nil, nil), ("Zoë", nil, nil), ("Chloé", nil, nil), ("Søren", nil, nil), ("Anaïs", nil, nil),
        ("Mateo", nil, nil), ("Amélie", nil, nil), ("Łukasz", nil, "Luke"), ("Emma", nil, nil), ("Liam", nil, nil),
        ("Olivia", nil, nil), ("Noah", nil, nil), ("Mia", nil, nil), ("Aarav", nil, nil), ("Siobhán", nil, nil),
        ("Thảo", nil, nil),
    ]
    static let subjects = ["Homeroom", "English", "Mathematics", "Science", "Chinese", "Humanities"]

    public static func make() -> DemoDistrict {
        var random = SplitMix64(seed: 20_260_901)
        var schools: [School] = []
        var classes: [SchoolClass] = []
        var people: [Person] = []
        var enrollments: [Enrollment] = []
        var demographics: [Demographics] = []
        var photoSeeds: [(UserID, UInt64)] = []
        var loginCounts: [String: Int] = [:]
        var studentNumber = 100
        var staffNumber = 10

        for plan in schoolPlan {
            let school = School(key: SchoolKey(rawValue: plan.key), schoolID: SchoolID(rawValue: plan.id), name: plan.name)
            schools.append(school)
            // Two office staff a school.
            for title in ["Principal", "Data Officer"] {
                staffNumber += 1
                let given = givenNames[random.next(givenNames.count)], surname = surnames[random.next(surnames.count)]
                people.append(
                    Person(
                        userID: UserID(rawValue: String(format: "T%05d", staffNumber)), role: .administrator,
                        firstName: given.roman, lastName: surname.roman,
                        email: "\(asciiFold(given.roman)).\(asciiFold(surname.roman)).\(staffNumber)@demo-district.example.org",
                        districtID: title, schoolKeys: [school.key]))
            }
            let classesPerGrade = plan.grades.count >= 5 ? 2 : 3
            for grade in plan.grades {
                for section in 0..<classesPerGrade {
                    let letter = ["A", "B", "C", "D"][section]
                    let gradeLabel = Int(grade).map(String.init) ?? grade
                    let classID = ClassID(rawValue: "\(plan.id)-\(grade)\(letter)")
                    classes.append(
                        SchoolClass(
                            classID: classID, schoolKey: school.key, name: "\(gradeLabel)\(letter)", grade: grade,
                            subject: "Homeroom"))
                    // The class teacher.
                    staffNumber += 1
                    let given = givenNames[random.next(givenNames.count)], surname = surnames[random.next(surnames.count)]
                    let teacherID = UserID(rawValue: String(format: "T%05d", staffNumber))
                    people.append(
                        Person(
                            userID: teacherID, role: .teacher, firstName: given.roman, lastName: surname.roman,
                            email: "\(asciiFold(given.roman)).\(asciiFold(surname.roman)).\(staffNumber)@demo-district.example.org",
                            schoolKeys: [school.key]))
                    enrollments.append(Enrollment(classID: classID, userID: teacherID, role: .teacher, primaryTeacher: true))
                    // 24–32 students.
                    let size = 24 + random.next(9)
                    let entryYear = plan.entryYear + (Int(grade).map { $0 - (Int(plan.grades[0]) ?? 0) } ?? 0)
                    for _ in 0..<size {
                        studentNumber += 1
                        let surname = surnames[random.next(surnames.count)]
                        let given = givenNames[random.next(givenNames.count)]
                        let useNative = surname.native != nil && given.native != nil && random.next(4) == 0
                        let stem = "\(entryYear % 100)\(asciiFold(surname.roman))\(asciiFold(given.roman).prefix(1))"
                        loginCounts[stem, default: 0] += 1
                        let userID = UserID(rawValue: String(format: "%07d", studentNumber))
                        let status: UserStatus = random.next(60) == 0 ? .future : (random.next(80) == 0 ? .left : .active)
                        people.append(
                            Person(
                                userID: userID, role: .student, loginID: LoginID(rawValue: "\(stem)\(loginCounts[stem]!)"),
                                firstName: useNative ? given.native! : given.roman,
                                lastName: useNative ? surname.native! : surname.roman,
                                preferredFirstName: given.preferred, grade: grade, status: status,
                                stateID: String(format: "HK%08d", 40_000_000 + studentNumber), schoolKeys: [school.key]))
                        enrollments.append(Enrollment(classID: classID, userID: userID, role: .student))
                        let age = 6 + (Int(grade) ?? 1) - 1
                        let birthYear = 2026 - age - 1
                        var flags: [String: Bool] = [:]
                        for (column, _) in Demographics.flagColumns { flags[column] = random.next(8) == 0 }
                        demographics.append(
                            Demographics(
                                userID: userID,
                                birthDate: RosterRowRules.dateText(year: birthYear, month: 1 + random.next(12), day: 1 + random.next(28)),
                                sex: ["female", "male"][random.next(2)], flags: flags,
                                homeLanguage: surname.native != nil ? "yue" : ["en", "es", "fr", "de", "vi", "pl"][random.next(6)],
                                countryOfBirthCode: surname.native != nil ? "HK" : ["GB", "ES", "FR", "DE", "VN", "PL"][random.next(6)]))
                        if random.next(10) != 0 { photoSeeds.append((userID, random.nextUInt64())) }
                    }
                }
            }
        }
        return DemoDistrict(
            schools: schools, classes: classes, people: people, enrollments: enrollments, demographics: demographics,
            photoSeeds: photoSeeds.map { (userID: $0.0, seed: $0.1) })
    }

    /// Lower-case ASCII letters only: `García` → `garcia`, `O'Brien` → `obrien`, `Wing Yan` → `wingyan`.
    public static func asciiFold(_ text: String) -> String {
        let folded = text.applyingTransform(.stripDiacritics, reverse: false) ?? text
        return String(
            folded.lowercased().replacingOccurrences(of: "ł", with: "l").replacingOccurrences(of: "ø", with: "o")
                .unicodeScalars.filter { ("a"..."z").contains($0) }.map(Character.init))
    }
}
