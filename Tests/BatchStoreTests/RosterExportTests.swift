import BatchCore
import BatchStore
import BatchTestSupport
import Foundation
import Testing

/// Text a sink collects, from whatever thread the store writes on.
final class CollectedText: @unchecked Sendable {
    private let lock = NSLock()
    private var parts: [String] = []
    func append(_ text: String) { lock.withLock { parts.append(text) } }
    var text: String { lock.withLock { parts.joined() } }
}

@Suite("Download your data (SPEC §4.5): the roster in the upload format, SQLite and PostgreSQL")
struct RosterExportTests {
    func district(_ store: Store) async throws {
        try await store.createSchool(School(key: "north", schoolID: "N", name: "North School"), by: .system)
        try await store.createSchool(School(key: "south", schoolID: "S", name: "South School"), by: .system)
        try await store.upsert(people: [
            Person(userID: "000123", role: .student, loginID: "19chanw1", firstName: "詠欣", lastName: "陳", preferredFirstName: "Winnie", grade: "05", schoolKeys: ["north"]),
            Person(userID: "000124", role: .student, loginID: "19garciaj1", firstName: "José", lastName: "García", grade: "05", schoolKeys: ["north"]),
            Person(userID: "000200", role: .student, loginID: "18leem1", firstName: "=HYPERLINK(\"x\")", lastName: "Lee", grade: "06", schoolKeys: ["south"]),
            Person(userID: "T0042", role: .teacher, firstName: "Ann", lastName: "Lee", email: "ann.lee@school.edu", schoolKeys: ["north"]),
        ])
        try await store.upsert(classes: [
            SchoolClass(classID: "N-5A", schoolKey: "north", name: "5A", grade: "05", subject: "Homeroom"),
            SchoolClass(classID: "N-5A-EN", schoolKey: "north", name: "5A English", grade: "05", subject: "English"),
        ])
        try await store.upsert(enrollments: [
            Enrollment(classID: "N-5A", userID: "000123", role: .student), Enrollment(classID: "N-5A-EN", userID: "000123", role: .student),
            Enrollment(classID: "N-5A", userID: "T0042", role: .teacher, primaryTeacher: true),
        ])
        try await store.upsert(demographics: [
            Demographics(userID: "000123", birthDate: "2014-09-02", sex: "female", flags: ["asian": true, "white": false], homeLanguage: "yue", countryOfBirthCode: "HK")
        ])
    }

    func export(_ store: Store, _ query: Store.RosterExportQuery) async throws -> (users: String, demographics: String, rows: Int) {
        let users = CollectedText(), demographics = CollectedText()
        let rows = try await store.exportRoster(query, users: users.append, demographics: demographics.append)
        return (users.text, demographics.text, rows)
    }

    @Test("the export passes the upload's own header and row checks; leading zeros and Chinese names come back byte for byte; a cell that would run as a formula is neutralised", arguments: TestDatabase.all)
    func roundTripShape(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await district(store)
            let files = try await export(store, .init(scope: .district))
            #expect(files.rows == 5, "two classes for 000123, one each for the others (000124 without a class)")
            let users = try CSVTable.read(bytes: Data(files.users.utf8), fileName: "users.csv", dictionary: RosterDictionaries.users).get()
            let demographics = try CSVTable.read(
                bytes: Data(files.demographics.utf8), fileName: "demographics.csv", dictionary: RosterDictionaries.demographics
            ).get()
            let checked = RosterFile.inspect(users: users, demographics: demographics, rules: RosterRowRules(today: "2026-12-01"))
            let problems = (checked.users + checked.demographics).flatMap(\.issues).filter { $0.severity == .error }
            #expect(problems.isEmpty, "\(problems.map(\.message))")
            #expect(files.users.contains(",N,North School,000123,student,19chanw1,詠欣,陳,,Winnie,,05,active,,,N-5A,5A,05,Homeroom,\r\n"))
            #expect(files.users.contains(",N,North School,T0042,teacher,,Ann,Lee,,,ann.lee@school.edu,,active,,,N-5A,5A,05,Homeroom,true\r\n"))
            #expect(files.users.contains(",N,North School,000124,student,19garciaj1,José,García,,,,05,active,,,,,,,\r\n"), "no class: class columns empty")
            #expect(files.users.contains("\"'=HYPERLINK(\"\"x\"\")\""), "the formula is neutralised: \(files.users)")
            #expect(files.users.hasPrefix(CSVWriter.byteOrderMark + "action,schoolId,"), "a byte order mark, for Excel to read 陳 right")
            #expect(files.demographics == CSVWriter.byteOrderMark + CSVWriter.line(RosterGenerator.demographicsHeader)
                + "000123,2014-09-02,female,,,true,,,false,,,,,,yue,HK\r\n")
        }
    }

    @Test(
        "a district of more people than one read (500) comes out whole: every person once, in the people list's order, each with their classes or their school",
        arguments: TestDatabase.all)
    func manyPeople(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await store.createSchool(School(key: "north", schoolID: "N", name: "North School"), by: .system)
            try await store.createSchool(School(key: "south", schoolID: "S", name: "South School"), by: .system)
            // 1,234 students: last names that sort apart from their userIds, some sharing a name (then by userId).
            let lastNames = ["Wong", "Chan", "García", "Lee", "陳", "Ng"]
            let people = (0..<1_234).map { index in
                Person(
                    userID: UserID(rawValue: String(format: "%06d", index)), role: .student, firstName: "Kid \(index % 7)",
                    lastName: lastNames[index % lastNames.count], grade: "05", schoolKeys: [index % 2 == 0 ? "north" : "south"])
            }
            try await store.upsert(people: people)
            try await store.upsert(classes: [
                SchoolClass(classID: "N-5A", schoolKey: "north", name: "5A", grade: "05", subject: "Homeroom"),
                SchoolClass(classID: "N-5A-EN", schoolKey: "north", name: "5A English", grade: "05", subject: "English"),
            ])
            // The north students in two classes each; the south ones in none (a row for their school).
            try await store.upsert(
                enrollments: people.filter { $0.schoolKeys == ["north"] }.flatMap { person in
                    ["N-5A", "N-5A-EN"].map { Enrollment(classID: ClassID(rawValue: $0), userID: person.userID, role: .student) }
                })
            try await store.upsert(demographics: people.prefix(700).map { Demographics(userID: $0.userID, sex: "female") })
            let files = try await export(store, .init(scope: .district))
            #expect(files.rows == 617 * 2 + 617)
            let users = try CSVTable.read(bytes: Data(files.users.utf8), fileName: "users.csv", dictionary: RosterDictionaries.users).get()
            let userIDs = users.records.map { $0.cells[3] }
            // Each person's rows together, the people in the list's order.
            var order: [String] = []
            for id in userIDs where order.last != id { order.append(id) }
            let expected = people.sorted { a, b in
                (a.lastName, a.firstName, a.userID.rawValue) < (b.lastName, b.firstName, b.userID.rawValue)
            }.map(\.userID.rawValue)
            #expect(order == expected)
            let demographics = try CSVTable.read(
                bytes: Data(files.demographics.utf8), fileName: "demographics.csv", dictionary: RosterDictionaries.demographics
            ).get()
            #expect(Set(demographics.records.map { $0.cells[0] }) == Set(people.prefix(700).map(\.userID.rawValue)))
            #expect(demographics.records.count == 700)
            // demographics.csv alone (the API's download of it): the same lines, no users.csv made.
            let alone = CollectedText()
            _ = try await store.exportRoster(.init(scope: .district), users: nil, demographics: alone.append)
            #expect(alone.text == files.demographics)
        }
    }

    @Test("filtered by school and by students / staff; a scoped account exports only its schools", arguments: TestDatabase.all)
    func filters(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await district(store)
            let south = try await export(store, .init(scope: .district, schoolKey: "south"))
            #expect(south.rows == 1 && south.users.contains("000200") && !south.users.contains("000123"))
            let staff = try await export(store, .init(scope: .district, include: .staff))
            #expect(staff.rows == 1 && staff.users.contains("T0042"))
            #expect(staff.demographics == CSVWriter.byteOrderMark + CSVWriter.line(RosterGenerator.demographicsHeader), "staff have no demographics")
            let north = try await export(store, .init(scope: .schools(["north"]), include: .students))
            #expect(north.rows == 3 && !north.users.contains("000200"))
        }
    }
}
