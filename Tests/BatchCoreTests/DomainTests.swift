import BatchCore
import Foundation
import Testing

@Suite("Identifiers, suggestions, the demo district and the batch lifecycle")
struct DomainTests {
    @Test("identifiers stay text: leading zeros are kept and NFC makes one value of two spellings")
    func identifiers() {
        #expect(UserID(rawValue: "000123").rawValue == "000123")
        #expect(UserID(rawValue: "Jose\u{301}") == UserID(rawValue: "José"))
        #expect(LoginID(rawValue: "19ChanW1").rawValue == "19chanw1")
    }

    @Test(
        "userId format: 1–64 of A–Z a–z 0–9 . _ -",
        arguments: [("000123", true), ("a.b_c-D", true), ("", false), ("has space", false), ("ü", false), (String(repeating: "x", count: 65), false)])
    func userIDFormat(text: String, valid: Bool) {
        #expect(IdentifierRules.isValidUserID(text) == valid)
    }

    @Test("a person's search text is their IDs, names and address lower-cased, accented and Chinese names too")
    func searchText() {
        var person = Person(userID: UserID(rawValue: "000123"), role: .student, firstName: "Wing Yan", lastName: "CHAN", schoolKeys: [])
        person.loginID = LoginID(rawValue: "19ChanW1")
        person.middleName = ""
        person.email = "Wing.Chan@School.example"
        #expect(person.searchText == "000123 19chanw1 wing yan  chan wing.chan@school.example")
        person.preferredFirstName = "ZOË"
        person.lastName = "陳 ÉLODIE"
        #expect(person.searchText == "000123 19chanw1 wing yan  陳 élodie zoë wing.chan@school.example")
        let ascii = [person.userID.rawValue, person.loginID?.rawValue, "Wing Yan", "", "CHAN", "Al-Sayed_9", person.email].compactMap { $0 }
        person.lastName = "CHAN"
        person.preferredFirstName = "Al-Sayed_9"
        #expect(person.searchText == ascii.joined(separator: " ").lowercased())
    }

    @Test("a search text is lower-cased as lowercased() does it, byte for byte, for every Unicode scalar")
    func searchTextEveryScalar() {
        let scalars = (UInt32(0)...0x10FFFF).compactMap(Unicode.Scalar.init)
        var differing: [String] = []
        // 4,096 scalars a name: each scalar is lower-cased by itself.
        for start in stride(from: 0, to: scalars.count, by: 4_096) {
            var name = String.UnicodeScalarView()
            name.append(contentsOf: scalars[start..<min(start + 4_096, scalars.count)])
            let person = Person(userID: UserID(rawValue: "x"), role: .student, firstName: String(name), lastName: "", schoolKeys: [])
            let wanted = Array("x \(String(name)) ".lowercased().utf8)
            if Array(person.searchText.utf8) != wanted { differing.append("U+\(String(scalars[start].value, radix: 16))…") }
        }
        #expect(differing.isEmpty)
    }

    @Test("a misspelt name gets the nearest correct one; a far one gets none")
    func suggestions() {
        let names = ["userEmail", "userId", "schoolId", "firstName"]
        #expect(Similarity.nearest(to: "UserEmail", in: names) == "userEmail")
        #expect(Similarity.nearest(to: "usrEmail", in: names) == "userEmail")
        #expect(Similarity.nearest(to: "favouriteColour", in: names) == nil)
    }

    @Test("the demo district is believable and the same every time")
    func demo() {
        let first = DemoDistrict.make(), second = DemoDistrict.make()
        #expect(first.people == second.people)
        #expect(first.schools.count == 3)
        #expect((25...35).contains(first.classes.count))
        let students = first.people.filter { $0.role == .student }
        #expect((700...900).contains(students.count))
        #expect(Set(students.compactMap(\.loginID)).count == students.count, "loginIds are unique")
        #expect(students.contains { $0.lastName == "陳" }, "some Chinese names")
        #expect(students.contains { $0.firstName == "José" || $0.lastName == "García" }, "some accented names")
        #expect(students.allSatisfy { $0.loginID!.rawValue.range(of: #"^\d\d[a-z]+\d+$"#, options: .regularExpression) != nil })
        #expect(first.photoSeeds.count > students.count * 8 / 10, "most students have a photo")
        #expect(DemoDistrict.asciiFold("García") == "garcia")
        #expect(DemoDistrict.asciiFold("O'Brien") == "obrien")
    }

    @Test(
        "the lifecycle allows only SPEC §8's moves",
        arguments: [
            (BatchStatus.draft, BatchStatus.queued, true), (.draft, .cancelled, true), (.draft, .completed, false),
            (.queued, .processing, true), (.processing, .cancelled, false), (.completed, .undoing, true),
            (.undoing, .undone, true), (.cancelled, .queued, false), (.undone, .undoing, false), (.failed, .queued, true),
        ])
    func lifecycle(from: BatchStatus, to: BatchStatus, allowed: Bool) {
        switch from.transition(to: to) {
        case .success: #expect(allowed)
        case .failure(let error):
            #expect(!allowed)
            #expect(!error.message.isEmpty)
        }
    }

    @Test("status names are exactly those of SPEC §8")
    func statusNames() {
        #expect(BatchStatus.allCases.map(\.rawValue) == [
            "draft", "queued", "processing", "completed", "completed_with_errors", "failed", "cancelled", "undoing", "undone",
        ])
    }

    @Test("an audit diff lists only changed fields")
    func auditDiff() {
        let changes = AuditEntry.diff(before: ["a": "1", "b": "2", "c": nil], after: ["a": "1", "b": "3", "c": "x"])
        #expect(changes == [.init(field: "b", before: "2", after: "3"), .init(field: "c", before: nil, after: "x")])
    }

    @Test("demographics flags are stored as one character a flag, in the file's column order, and read back")
    func demographicsFlags() {
        let flags = ["white": true, "asian": false, "section504": true]
        // hispanicOrLatinoEthnicity, americanIndianOrAlaskaNative, asian, blackOrAfricanAmerican,
        // nativeHawaiianOrOtherPacificIslander, white, demographicRaceTwoOrMoreRaces, englishLanguageLearner,
        // specialEducation, section504, economicallyDisadvantaged.
        #expect(Demographics.flagsText(flags) == "--0--1---1-")
        #expect(Demographics.flagsText([:]) == "-----------")
        #expect(Demographics.flagsText(["unknown": true, "white": false]) == "-----0-----")
        #expect(Demographics.flags(stored: "--0--1---1-") == flags)
        #expect(Demographics.flags(stored: "-----------").isEmpty && Demographics.flags(stored: nil).isEmpty)
        let all = Dictionary(uniqueKeysWithValues: Demographics.flagColumns.enumerated().map { ($1.column, $0 % 3 == 0) })
        #expect(Demographics.flags(stored: Demographics.flagsText(all)) == all)
        // Anything else stored records no flags: a text of another length, a character other than 1 or 0.
        #expect(Demographics.flags(stored: "{}").isEmpty && Demographics.flags(stored: "--0--1---1").isEmpty)
        #expect(Demographics.flags(stored: "x-0--1---1-") == flags)
    }

    @Test("demographics flags read as demographics.csv cells give what reading them as a dictionary gives")
    func demographicsFlagCells() {
        func cells(_ flags: [String: Bool]) -> [String] { Demographics.flagColumns.map { flags[$0.column].map { $0 ? "true" : "false" } ?? "" } }
        let all = Dictionary(uniqueKeysWithValues: Demographics.flagColumns.enumerated().map { ($1.column, $0 % 3 == 0) })
        for stored in [Demographics.flagsText(all), Demographics.flagsText(["white": true, "asian": false]), "-----------", "", "{}"] {
            #expect(Demographics.flagCells(stored: stored) == cells(Demographics.flags(stored: stored)), "\(stored)")
        }
        #expect(Demographics.flagCells(stored: nil) == Array(repeating: "", count: Demographics.flagColumns.count))
        #expect(Demographics.flagCells(stored: Demographics.flagsText(["white": true]))[5] == "true")
        #expect(Demographics.flagCells(stored: Demographics.flagsText(all)) == cells(all))
    }

    @Test("a demographics record's JSON read straight into what is stored gives what reading it as a dictionary gives")
    func demographicsStored() {
        // What the apply stored before: the record read into a dictionary, its set flags into another.
        func viaDictionary(_ json: String) -> [String?] {
            let fields = RosterRecord.fields(json)
            func text(_ field: String) -> String? { fields[field].flatMap { $0.isEmpty ? nil : $0 } }
            var flags: [String: Bool] = [:]
            for (column, _) in Demographics.flagColumns {
                if let value = fields[column], !value.isEmpty { flags[column] = value == "true" }
            }
            return [text("birthDate"), text("sex"), Demographics.flagsText(flags), text("homeLanguage"), text("countryOfBirthCode")]
        }
        let records: [[String: String]] = [
            ["birthDate": "2014-09-02", "sex": "f", "white": "true", "asian": "false", "homeLanguage": "yue", "countryOfBirthCode": "HK"],
            ["birthDate": "2013-01-31", "section504": "true", "economicallyDisadvantaged": "", "sex": ""],
            ["white": "false", "asian": "false", "englishLanguageLearner": "true", "unknown": "true"],
            ["birthDate": "2014-09-02", "sex": "f", "white": "true", "asian": "false", "homeLanguage": "粵語"],
            [:],
        ]
        for json in records.map(RosterRecord.json) + [#"{"white":"true","white":"false"}"#, #"{"sex":null,"asian":"TRUE"}"#] {
            guard let stored = Demographics.stored(json: json) else {
                Issue.record("\(json) not read")
                continue
            }
            #expect([stored.birthDate, stored.sex, stored.flags, stored.homeLanguage, stored.countryOfBirthCode] == viaDictionary(json), "\(json)")
        }
        #expect(Demographics.stored(json: "not json") == nil)
    }
}
