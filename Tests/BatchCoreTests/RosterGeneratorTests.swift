import BatchCore
import Foundation
import Testing

@Suite("The roster generator of the tests and benchmarks")
struct RosterGeneratorTests {
    let generator = RosterGenerator(schools: 3, students: 300)

    func table(_ text: String, _ dictionary: DataDictionary) throws -> CSVTable {
        try CSVTable.read(bytes: Data(text.utf8), fileName: dictionary.fileName, dictionary: dictionary).get()
    }

    @Test(
        "users.csv and demographics.csv pass the header and row checks; seven rows a student, a teacher for every class"
    )
    func valid() throws {
        let files = generator.files(.original)
        let users = try table(files.users, RosterDictionaries.users)
        let demographics = try table(files.demographics, RosterDictionaries.demographics)
        let rules = RosterRowRules(today: "2026-12-01")
        for record in users.records {
            let issues = rules.usersRow(users.values(of: record), line: record.line)
            #expect(issues.isEmpty, "\(issues.map(\.message))")
            if !issues.isEmpty { break }
        }
        for record in demographics.records {
            #expect(rules.demographicsRow(demographics.values(of: record), line: record.line).isEmpty)
        }
        let studentRows = users.records.filter { users.value("userRole", in: $0) == "student" }
        #expect(studentRows.count == 300 * 7)
        #expect(demographics.records.count == 300)
        let classes = Set(studentRows.map { users.value("classId", in: $0) })
        let taught = users.records.filter {
            users.value("userRole", in: $0) == "teacher" && users.value("primaryTeacher", in: $0) == "true"
        }
        #expect(Set(taught.map { users.value("classId", in: $0) }) == classes, "every class has its primary teacher")
        #expect(taught.count == classes.count, "one primary teacher a class")
        let sizes = Dictionary(grouping: studentRows, by: { users.value("classId", in: $0) }).mapValues(\.count)
        #expect(sizes.values.allSatisfy { $0 <= 80 }, "no class over the warning size")
    }

    @Test("identifiers keep their leading zeros, login IDs are unique, names include Chinese script and accents")
    func realistic() throws {
        let users = try table(generator.files(.original).users, RosterDictionaries.users)
        let students = users.records.filter { users.value("userRole", in: $0) == "student" }
        #expect(users.value("userId", in: students[0]) == "00000001")
        var loginOf: [String: String] = [:]
        for record in students {
            let user = users.value("userId", in: record), login = users.value("loginId", in: record)
            #expect(loginOf[login, default: user] == user, "\(login) belongs to one student")
            loginOf[login] = user
        }
        let names = students.map { users.value("lastName", in: $0) }
        #expect(names.contains { $0.unicodeScalars.contains { (0x4E00...0x9FFF).contains($0.value) } })
        #expect(names.contains { $0.contains("í") || $0.contains("ü") || $0.contains("á") || $0.contains("ễ") })
    }

    @Test(
        "the same input gives the same bytes; the changed variant updates about 5 %, adds 1 % and drops 1 % of the students"
    )
    func changedVariant() throws {
        #expect(generator.files(.original) == generator.files(.original))
        let before = try table(generator.files(.original).demographics, RosterDictionaries.demographics)
        let after = try table(generator.files(.changed).demographics, RosterDictionaries.demographics)
        let old = Set(before.records.map { before.value("userId", in: $0) })
        let new = Set(after.records.map { after.value("userId", in: $0) })
        #expect(old.subtracting(new).count == 3, "1 % gone")
        #expect(new.subtracting(old).count == 3, "1 % new")
        let usersBefore = try table(generator.files(.original).users, RosterDictionaries.users)
        let usersAfter = try table(generator.files(.changed).users, RosterDictionaries.users)
        func people(_ t: CSVTable) -> [String: [String]] {
            var result: [String: [String]] = [:]
            for record in t.records where t.value("userRole", in: record) == "student" {
                result[t.value("userId", in: record)] = ["preferredFirstName", "userEmail", "userGrade"].map {
                    t.value($0, in: record)
                }
            }
            return result
        }
        let a = people(usersBefore), b = people(usersAfter)
        let updated = a.keys.filter { b[$0] != nil && a[$0] != b[$0] }.count
        #expect((10...20).contains(updated), "about 5 % of 300 updated: \(updated)")
    }

    @Test("the spreadsheet-damaged variant is the original with every student's userId stripped of its leading zeros, in both files")
    func leadingZerosLostVariant() throws {
        let original = generator.files(.original), damaged = generator.files(.leadingZerosLost)
        for (dictionary, before, after) in [
            (RosterDictionaries.users, original.users, damaged.users), (RosterDictionaries.demographics, original.demographics, damaged.demographics),
        ] {
            let a = try table(before, dictionary), b = try table(after, dictionary)
            #expect(a.records.count == b.records.count)
            for (x, y) in zip(a.records, b.records) {
                let student = dictionary.fileName == "demographics.csv" || a.value("userRole", in: x) == "student"
                let id = a.value("userId", in: x)
                #expect(b.value("userId", in: y) == (student ? String(id.drop { $0 == "0" }) : id))
                #expect(a.values(of: x).dictionary.filter { $0.key != "userId" } == b.values(of: y).dictionary.filter { $0.key != "userId" })
            }
        }
        #expect(damaged.users.contains("\r\n,SCH0001,Harbour School 1,1,student,"))
    }
}
