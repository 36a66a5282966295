import BatchCore
import Foundation
import Testing

@Suite("Roster files across rows (SPEC §4.2, §4.3, §4.5)")
struct RosterFileTests {
    let header =
        "schoolId,schoolName,userId,userRole,loginId,firstName,lastName,userEmail,userGrade,classId,className,primaryTeacher"

    func inspect(_ lines: [String], demographics: [String]? = nil, fileName: String = "users.csv") throws -> RosterFile {
        let users = try CSVTable.read(
            bytes: Data(([header] + lines).joined(separator: "\n").utf8), fileName: fileName,
            dictionary: RosterDictionaries.users
        ).get()
        let demo = try demographics.map {
            try CSVTable.read(
                bytes: Data($0.joined(separator: "\n").utf8), fileName: "demographics.csv",
                dictionary: RosterDictionaries.demographics
            ).get()
        }
        return RosterFile.inspect(users: users, demographics: demo, rules: RosterRowRules(today: "2026-12-01"))
    }

    /// users.csv's issue codes by line.
    func codes(_ file: RosterFile) -> [Int: [String]] {
        var result: [Int: [String]] = [:]
        for row in file.users where !row.issues.isEmpty { result[row.line] = row.issues.map(\.code) }
        return result
    }

    let chan = "HVP,Harbour View,000123,student,19chanw1,Wing Yan,Chan,,05"

    @Test("the same person on several rows (one per class) passes when the person fields agree")
    func onePersonManyClasses() throws {
        let file = try inspect([
            "\(chan),C5A,5A,", "\(chan),C5A-EN,5A English,", "HVP,,T1,teacher,,Ann,Lee,ann@x.edu,,C5A,,true",
        ])
        #expect(codes(file).isEmpty, "\(file.users.flatMap(\.issues).map(\.message))")
    }

    @Test(
        "a person described two ways is an error on the later row, naming the earlier one, and says when most rows agree otherwise; their other rows are skipped"
    )
    func inconsistentPerson() throws {
        let file = try inspect([
            "\(chan),C5A,5A,", "HVP,,000123,student,19chanw1,Wing Yan,Chen,,05,C5A-EN,5A English,",
            "\(chan),C5A-MA,5A Maths,",
        ])
        #expect(codes(file) == [3: ["inconsistent_person"], 2: ["depends_on_bad_row"], 4: ["depends_on_bad_row"]])
        // A skipped row names the file as it was uploaded, not "users.csv".
        let renamed = try inspect(["HVP,,000123,student,19chanw1,Wing Yan,Chen,,05,C5A-EN,5A English,", "\(chan),C5A,5A,"], fileName: "roster 2026.csv")
        #expect(renamed.users[0].issues.first?.message == "Row 2, userId: skipped because roster 2026.csv row 3, about the same person (userId 000123), has an error.")
        #expect(renamed.users[0].issues.first?.fix == "Correct row 3 of roster 2026.csv; this row then goes through as it is.")
        let message = try #require(file.users[1].issues.first?.message)
        #expect(
            message == "Row 3, lastName: “Chen” differs from row 2 (“Chan”) for the same userId 000123.", "\(message)")
        // The odd row first: the later rows are still the errors (SPEC §4.2), and say that row 2 is likely the odd one.
        let oddFirst = try inspect([
            "HVP,,000123,student,19chanw1,Wing Yan,Chen,,05,C5A-EN,5A English,", "\(chan),C5A,5A,", "\(chan),C5A-MA,5A Maths,",
        ])
        #expect(codes(oddFirst) == [2: ["depends_on_bad_row"], 3: ["inconsistent_person"], 4: ["inconsistent_person"]])
        #expect(oddFirst.users[1].issues.first?.message
            == "Row 3, lastName: “Chan” differs from row 2 (“Chen”) for the same userId 000123. 2 of the person's 3 rows give “Chan”: row 2 may be the one to correct.")
        // Most rows leave the login ID empty: each says once that a student needs one, and row 2, the one row giving
        // it, is not called the one to correct. An optional cell left empty on most rows differs, without the hint.
        let blanks = try inspect([
            "\(chan),C5A,5A,", "HVP,,000123,student,,Wing Yan,Chan,,05,C5A-EN,5A English,",
            "HVP,,000123,student,,Wing Yan,Chan,,05,C5A-MA,5A Maths,",
        ])
        #expect(codes(blanks) == [2: ["depends_on_bad_row"], 3: ["missing_login_id"], 4: ["missing_login_id"]])
        let header = "schoolId,userId,userRole,loginId,firstName,lastName,userGrade,userEmail,classId"
        let optional = try RosterFile.inspect(
            users: CSVTable.read(
                bytes: Data([header, "HVP,000123,student,19chanw1,Wing Yan,Chan,05,w@x.edu,C5A", "HVP,000123,student,19chanw1,Wing Yan,Chan,05,,C5B",
                    "HVP,000123,student,19chanw1,Wing Yan,Chan,05,,C5C"].joined(separator: "\n").utf8),
                fileName: "users.csv", dictionary: RosterDictionaries.users
            ).get(), demographics: nil, rules: RosterRowRules(today: "2026-12-01"))
        let messages = optional.users.flatMap(\.issues).filter { $0.code == "inconsistent_person" }.map(\.message)
        #expect(messages == [
            "Row 3, userEmail: “” differs from row 2 (“w@x.edu”) for the same userId 000123.",
            "Row 4, userEmail: “” differs from row 2 (“w@x.edu”) for the same userId 000123.",
        ], "\(messages)")
    }

    @Test("a login ID or an address on two different people is an error on the second")
    func sharedLoginAndEmail() throws {
        let file = try inspect([
            "HVP,,000123,student,19chanw1,Wing Yan,Chan,w@x.edu,05,,,",
            "HVP,,000124,student,19CHANW1,Ka Ho,Chan,W@X.edu,05,,,",
        ])
        #expect(codes(file) == [3: ["duplicate_login_id", "duplicate_email"]])

        // Each row of the second person says so, not only its first (the later rows of one person reuse the first
        // row's answers), and a differing row of the same person is still compared with the first.
        let rows = try inspect([
            "HVP,,000123,student,19chanw1,Wing Yan,Chan,w@x.edu,05,C5A,5A,",
            "HVP,,000124,student,19CHANW1,Ka Ho,Chan,W@X.edu,05,C5A,5A,",
            "HVP,,000124,student,19CHANW1,Ka Ho,Chan,W@X.edu,05,C5A-EN,5A English,",
            "HVP,,000124,student,19CHANW1,Ka Ho,Chen,W@X.edu,05,C5A-MA,5A Maths,",
        ])
        #expect(codes(rows)[3] == ["duplicate_login_id", "duplicate_email"])
        #expect(codes(rows)[4] == ["duplicate_login_id", "duplicate_email"])
        #expect(codes(rows)[5] == ["inconsistent_person", "duplicate_login_id", "duplicate_email"])
        let message = try #require(rows.users[2].issues.first?.message)
        #expect(message == "Row 4, loginId: “19CHANW1” is also the login ID of userId 000123 on row 2.", "\(message)")
    }

    @Test("a class in two schools, a class under two names, a school under two names, two primary teachers")
    func classesAndSchools() throws {
        let file = try inspect([
            "HVP,Harbour View,T1,teacher,,Ann,Lee,ann@x.edu,,C5A,5A,true", "KBS,,T2,teacher,,Bo,Ng,bo@x.edu,,C5A,,",
            "HVP,Harbour View Primary,T3,teacher,,Cy,Ho,cy@x.edu,,C5B,5B,",
            "HVP,,T4,teacher,,Di,Yip,di@x.edu,,C5B,5 B,",
            "HVP,,T5,teacher,,Ed,Lau,ed@x.edu,,C5A,,true",
        ])
        #expect(
            codes(file) == [
                3: ["class_in_two_schools"], 4: ["school_name_differs"], 5: ["class_name_differs"],
                6: ["two_primary_teachers"],
            ])
        // The rows after a differing school name that repeat it (a person's next classes) each say so too, naming
        // the first row's name.
        let repeated = try inspect([
            "HVP,Harbour View,T1,teacher,,Ann,Lee,ann@x.edu,,C5A,5A,",
            "HVP,Harbour View Primary,T3,teacher,,Cy,Ho,cy@x.edu,,C5B,5B,",
            "HVP,Harbour View Primary,T3,teacher,,Cy,Ho,cy@x.edu,,C5C,5C,",
            "HVP,Harbour View,T4,teacher,,Di,Yip,di@x.edu,,C5D,5D,",
        ])
        #expect(codes(repeated) == [3: ["school_name_differs"], 4: ["school_name_differs"]])
        #expect(
            repeated.users[2].issues.first?.message
                == "Row 4, schoolName: “Harbour View Primary” differs from the name 2 rows give school HVP (“Harbour View”, first on row 2).")
    }

    @Test("a row whose userId a spreadsheet damaged takes no login ID or address from the person it probably is")
    func damagedUserID() throws {
        let file = try inspect([
            "HVP,Harbour View,1.23E+05,student,19chanw1,Wing Yan,Chan,wy@x.edu,05,C5A,5A,",
            "HVP,Harbour View,123000,student,19chanw1,Wing Yan,Chan,wy@x.edu,05,C5A,5A,",
            "HVP,Harbour View,123000,student,19chanw1,Wing Yan,Chan,wy@x.edu,05,C5B,5B,",
        ])
        #expect(codes(file) == [2: ["scientific_notation"]])
    }

    @Test("a school or class under two names: the name most rows give holds, and only the rows giving another are errors")
    func mostRowsName() throws {
        // One misspelt school name on the first row of its school: that row is the error, not the four after it.
        let misspelt = try inspect(
            ["HVP,Harbor View,T1,teacher,,Ann,Lee,ann@x.edu,,C5A,5A,"]
                + (2...5).map { "HVP,Harbour View,T\($0),teacher,,Bo\($0),Ng,bo\($0)@x.edu,,C5A,5A," })
        #expect(codes(misspelt) == [2: ["school_name_differs"]])
        #expect(
            misspelt.users[0].issues.first?.message
                == "Row 2, schoolName: “Harbor View” differs from the name 4 rows give school HVP (“Harbour View”, first on row 3).")
        // The first name given, on rows apart, when most rows give another; the same for a class's name; a row that
        // leaves the name empty says nothing.
        let first = try inspect([
            "HVP,Harbor View,T1,teacher,,Ann,Lee,ann@x.edu,,C5A,5 A,", "HVP,Harbour View,T2,teacher,,Bo,Ng,bo@x.edu,,C5A,5A,",
            "HVP,,T3,teacher,,Cy,Ho,cy@x.edu,,C5A,,", "HVP,Harbour View,T4,teacher,,Di,Yip,di@x.edu,,C5A,5A,",
            "HVP,Harbor View,T5,teacher,,Ed,Lau,ed@x.edu,,C5A,5 A,", "HVP,Harbour View,T6,teacher,,Fay,Chu,fay@x.edu,,C5A,5A,",
        ])
        #expect(
            codes(first) == [
                2: ["school_name_differs", "class_name_differs"], 6: ["school_name_differs", "class_name_differs"],
            ])
        #expect(
            first.users[4].issues.map(\.message) == [
                "Row 6, schoolName: “Harbor View” differs from the name 3 rows give school HVP (“Harbour View”, first on row 3).",
                "Row 6, className: “5 A” differs from the name 3 rows give class C5A (“5A”, first on row 3).",
            ])
    }

    @Test("an exact duplicate row is a warning and counts once; a class of 81 students is a warning, not an error")
    func warnings() throws {
        let students = (1...81).map {
            "HVP,,\(String(format: "%06d", $0)),student,s\($0),First,Last,,05,BIG,Big class,"
        }
        let file = try inspect(students + [students[0]])
        #expect(codes(file) == [2: ["class_over_80"], 83: ["duplicate_row"]])
        // A duplicate gets only that warning, not what the checks across rows would find on a second such row (a
        // second primary teacher, a second name of the school); the rows after it are checked as without it.
        let teacher = "HVP,Harbour View,T1,teacher,,Al,Ng,al@x.edu,,C5A,5A,true"
        let twice = try inspect([teacher, teacher, "HVP,Harbour,T2,teacher,,Bo,Li,bo@x.edu,,C5A,5A,true"])
        #expect(codes(twice) == [3: ["duplicate_row"], 4: ["school_name_differs", "two_primary_teachers"]])
        // The class name's "é" written composed, then decomposed: the same row to Swift, so a duplicate, as before the
        // rows' cells were hashed as numbers; the next row, the same name in another class, is not.
        let accents = try inspect([
            "HVP,Harbour View,S1,student,al1,Al,Ng,,05,C5A,Caf\u{E9} 5A,", "HVP,Harbour View,S1,student,al1,Al,Ng,,05,C5A,Cafe\u{301} 5A,",
            "HVP,Harbour View,S1,student,al1,Al,Ng,,05,C5B,Caf\u{E9} 5A,",
        ])
        #expect(codes(accents) == [3: ["duplicate_row"]])
        #expect(file.users.allSatisfy { !$0.hasErrors })
        #expect(file.users[0].issues[0].message.contains("81 students"))
        // 80 students, one of them on a second row that is not an exact duplicate (no class name): 81 rows, 80
        // students, no warning.
        let eighty = try inspect(
            Array(students.prefix(80)) + ["HVP,,000001,student,s1,First,Last,,05,BIG,,"])
        #expect(codes(eighty) == [:])
    }

    @Test("demographics: each userId must be a student of the users.csv; a bad student's demographics are skipped")
    func demographics() throws {
        let file = try inspect(
            ["\(chan),C5A,5A,", "HVP,,000124,student,,Ka Ho,Chan,,05,,,", "HVP,,T1,teacher,,Ann,Lee,ann@x.edu,,,,"],
            demographics: [
                "userId,birthDate", "000123,2014-09-02", "000999,2014-01-01", "T1,1980-01-01", "000124,2014-05-05",
                "000123,2014-09-02",
            ])
        #expect(codes(file) == [3: ["missing_login_id"]], "users.csv")
        var demographicCodes: [Int: [String]] = [:]
        for row in file.demographics where !row.issues.isEmpty { demographicCodes[row.line] = row.issues.map(\.code) }
        #expect(
            demographicCodes == [
                3: ["not_in_users"], 4: ["not_in_users"], 5: ["depends_on_bad_row"], 6: ["duplicate_student"],
            ])
    }

    @Test("demographics: a userId that a spreadsheet stripped of its leading zeros, in either file, says which file to mend")
    func demographicsLeadingZeros() throws {
        let file = try inspect(
            ["\(chan),C5A,5A,", "HVP,,124,student,s124,Ka Ho,Chan,,05,,,"],
            demographics: ["userId,birthDate", "000124,2014-05-05", "123,2014-09-02", "000999,2014-01-01"])
        let messages = Dictionary(uniqueKeysWithValues: file.demographics.map { ($0.line, $0.issues.map { "\($0.code): \($0.message) \($0.fix)" }) })
        #expect(messages[2] == [
            "not_in_users: Row 2, userId: 000124 is not a student in the users.csv uploaded with this file, but 124 is: a spreadsheet "
                + "appears to have removed the leading zeros of users.csv's userId. Write 000124 in users.csv's userId column (format it "
                + "as Text before saving); this row then goes through as it is.",
        ])
        #expect(messages[3] == [
            "not_in_users: Row 3, userId: 123 is not a student in the users.csv uploaded with this file, but 000123 is: leading zeros "
                + "appear to have been removed by a spreadsheet. Write 000123, and format the column as Text before saving from a spreadsheet.",
        ])
        #expect(messages[4] == [
            "not_in_users: Row 4, userId: 000999 is not a student in the users.csv uploaded with this file. Add the student to users.csv, or delete this row.",
        ])
    }

    @Test("demographics.csv alone is refused with a clear message")
    func demographicsAlone() {
        let rejection = RosterFile.demographicsAlone(fileName: "demographics.csv")
        #expect(rejection.issues.map(\.code) == ["demographics_without_users"])
        #expect(rejection.issues[0].message.contains("only together with the users.csv"))
    }

    func rejection(_ text: String) -> [BatchIssue] {
        switch CSVTable.read(bytes: Data(text.utf8), fileName: "users.csv", dictionary: RosterDictionaries.users) {
        case .failure(let rejection): return rejection.issues
        case .success: return []
        }
    }

    @Test("users.csv headers: misspelled, wrongly capitalised, duplicated, unknown and missing headers fail the file at once, one message each")
    func headers() throws {
        let issues = rejection(
            "schoolId,schoolname,userId,userId,UserRole,loginId,firstName,lastNme,favouriteColour\nHVP,x,1,1,student,a,b,c,red\n")
        let messages = issues.map(\.message)
        #expect(messages.contains("\"schoolname\" — did you mean \"schoolName\"?"))
        #expect(messages.contains("\"UserRole\" — did you mean \"userRole\"?"))
        #expect(messages.contains { $0.contains("\"lastNme\"") && $0.contains("lastName") })
        #expect(messages.contains { $0.contains("userId") && $0.lowercased().contains("twice") || $0.contains("more than once") })
        #expect(messages.contains { $0.contains("favouriteColour") })
        #expect(Set(issues.map(\.code)).count >= 3, "\(issues.map(\.code))")
        #expect(!rejection("schoolId,userId,userRole,firstName\nHVP,1,student,a\n").isEmpty, "lastName is required")
        #expect(rejection(header + "\n").map(\.code) == ["no_rows"], "a header and no data rows")
        let trimmed = try CSVTable.read(
            bytes: Data((header.replacingOccurrences(of: "userId", with: "userId ") + "\n" + chan + ",,,\n\n\n").utf8), fileName: "users.csv",
            dictionary: RosterDictionaries.users
        ).get()
        #expect(trimmed.warnings.map(\.code) == ["header_trimmed"])
        #expect(trimmed.records.count == 1, "blank lines are ignored")
    }
}
