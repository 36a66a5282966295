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

    @Test("demographics flags are stored as JSONEncoder writes them and read back, other JSON spellings too")
    func demographicsFlags() throws {
        let flags = ["white": true, "asian": false, "section504": true]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let expected = String(decoding: try encoder.encode(flags), as: UTF8.self)
        #expect(Demographics.flagsJSON(flags) == expected)
        #expect(Demographics.flagsJSON([:]) == "{}")
        #expect(Demographics.flags(json: expected) == flags)
        #expect(Demographics.flags(json: "{ \"asian\" : true }") == ["asian": true])
        #expect(Demographics.flags(json: "{}").isEmpty && Demographics.flags(json: nil).isEmpty)
        #expect(Demographics.flags(json: #"{"a\"b":false}"#) == ["a\"b": false])
        #expect(Demographics.flags(json: #"{"asian":tru}"#).isEmpty)
    }

    @Test("demographics flags read as demographics.csv cells give what reading them as a dictionary gives")
    func demographicsFlagCells() {
        func cells(_ flags: [String: Bool]) -> [String] { Demographics.flagColumns.map { flags[$0.column].map { $0 ? "true" : "false" } ?? "" } }
        let all = Dictionary(uniqueKeysWithValues: Demographics.flagColumns.enumerated().map { ($1.column, $0 % 3 == 0) })
        for json in [
            Demographics.flagsJSON(all), Demographics.flagsJSON(["white": true, "asian": false]), "{}", "",
            "{ \"asian\" : true }", #"{"a\"b":false,"white":true}"#, #"{"asian":tru}"#, #"{"unknown":true,"section504":false}"#,
        ] {
            #expect(Demographics.flagCells(json: json) == cells(Demographics.flags(json: json)), "\(json)")
        }
        #expect(Demographics.flagCells(json: nil) == Array(repeating: "", count: Demographics.flagColumns.count))
        #expect(Demographics.flagCells(json: Demographics.flagsJSON(["white": true]))[5] == "true")
    }
}
