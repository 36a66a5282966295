@testable import BatchCore
import Foundation
import Testing

@Suite("Roster rows on their own (SPEC §4.2, §4.3): formats, vocabularies and spreadsheet damage")
struct RosterRowRulesTests {
    let rules = RosterRowRules(today: "2026-12-01")

    let student: [String: String] = [
        "schoolId": "HVP001", "userId": "000123", "userRole": "Student", "loginId": "19chanw1", "firstName": "詠欣",
        "lastName": "Chan", "userGrade": "05",
    ]

    func codes(_ changes: [String: String], base: [String: String]? = nil) -> [String] {
        rules.usersRow(RowValues((base ?? student).merging(changes) { _, new in new }), line: 7).map(\.code)
    }

    @Test("a complete student row and a teacher row with an address pass; the role is accepted in any capitalisation")
    func valid() {
        #expect(codes([:]).isEmpty)
        let teacher = [
            "schoolId": "HVP001", "userId": "T-0042", "userRole": "TEACHER", "firstName": "José", "lastName": "García",
            "userEmail": "jose.garcia@school.edu.hk", "classId": "HVP001-5A", "primaryTeacher": "true",
        ]
        #expect(codes([:], base: teacher).isEmpty)
    }

    @Test("checked in file order, a person repeated on the next rows is checked once, and every row still gets its own problems")
    func repeatedPerson() {
        let columns = RowValues.Columns([
            "schoolId", "userId", "userRole", "loginId", "firstName", "lastName", "userGrade", "classId", "classGrade",
            "primaryTeacher",
        ])
        func row(_ changes: [String: String] = [:]) -> RowValues {
            let cells = student.merging(["classId": "HVP001-5A", "classGrade": "05"]) { _, new in new }.merging(changes) { _, new in new }
            return RowValues(columns: columns, values: columns.names.map { cells[$0] ?? "" })
        }
        let rows = [
            row(), row(["classId": "HVP001-5B"]), row(["classGrade": "Year 5"]),  // one person, a bad class grade
            row(["primaryTeacher": "true"]),  // a student cannot be a primary teacher
            row(["userGrade": "5"]), row(["userGrade": "5", "classId": "HVP001-5C"]),  // the same bad grade twice
            row(["userGrade": "5"]), row(), row(["userId": "000124"]), row(["userId": "000124", "firstName": ""]),
            RowValues(student),  // a row with other columns is checked whole
        ]
        var checker = RosterRowRules.UsersChecker(rules: rules, columns: columns)
        let checked = rows.enumerated().map { checker.check($1, line: $0 + 2) }
        let whole = rows.enumerated().map { rules.usersRow($1, line: $0 + 2) }
        #expect(checked == whole)
        #expect(checked.map { $0.map(\.code) } == [
            [], [], ["invalid_grade"], ["primary_not_teacher"], ["invalid_grade"], ["invalid_grade"], ["invalid_grade"], [], [],
            ["missing_value"], [],
        ])
        #expect(checked[5].first?.message.hasPrefix("Row 7, userGrade:") == true)
    }

    @Test("rows read from a file (cells as the reader numbered them), a person repeated on the next rows, get the same problems as rows checked whole")
    func repeatedPersonFromFile() throws {
        let header = "schoolId,userId,userRole,loginId,firstName,lastName,userEmail,userGrade,classId,classGrade,primaryTeacher"
        let lines = [
            "HVP001,T-0042,teacher,jgarcia,José,García,jose.garcia@school.edu.hk,,HVP001-5A,05,true",
            "HVP001,000123,student,19chanw1,詠欣,Chan,,05,HVP001-5A,05,false",
            "HVP001,000123,student,19chanw1,詠欣,Chan,,05,HVP001-5B,05,false",  // the person of the row before: checked once
            "HVP001,000125,student,19leem1,Mei,Lee,,05,HVP001-5A,Year 5,false",  // a bad grade
            "HVP001,000126,student,19hos1,Siu,Ho,,05,HVP001-5A,Year 5,false",  // the same bad grade: found again, its own row
            "HVP001,000127,student,19yut1,Tin,Yu,,05,HVP001-5A,05,true",  // a student as primary teacher of a clean class
            "HVP001,000127,student,19yut1,Tin,Yu,,5,HVP001-5A,05,false",  // the same person with a bad grade
            // The class cells' answers are kept for each distinct text (`classIssues`): a text seen before, good or
            // bad, gives the problems it gives when checked whole.
            "HVP001,T-0042,teacher,jgarcia,José,García,jose.garcia@school.edu.hk,,HVP001-5B,05,TRUE",  // a primary teacher, upper case
            "HVP001,T-0042,teacher,jgarcia,José,García,jose.garcia@school.edu.hk,,,,true",  // primary teacher of no class
            "HVP001,T-0042,teacher,jgarcia,José,García,jose.garcia@school.edu.hk,,HVP001-5C,05,yes",
            "HVP001,T-0042,teacher,jgarcia,José,García,jose.garcia@school.edu.hk,,1.23E+05,05,false",
            "HVP001,T-0042,teacher,jgarcia,José,García,jose.garcia@school.edu.hk,,1.23E+05,Year 5,TRUE",
            "HVP001,000128,student,19wongk1,Kit,Wong,,05,HVP001-5C,05,TRUE",  // a student as primary teacher, upper case
            "HVP001,000128,student,19wongk1,Kit,Wong,,05,HVP001-5C,05,yes",
        ]
        let bytes = Data(([header] + lines).joined(separator: "\r\n").utf8)
        let table = try CSVTable.read(bytes: bytes, fileName: "users.csv", dictionary: RosterDictionaries.users).get()
        var checker = RosterRowRules.UsersChecker(rules: rules, columns: table.rowColumns)
        let values = table.records.map { table.values(of: $0) }
        #expect(values.allSatisfy { $0.values.numberedIn != nil })  // cells as the reader numbered them
        let checked = zip(table.records, values).map { checker.check($1, line: $0.line) }
        #expect(checked == zip(table.records, values).map { rules.usersRow($1, line: $0.line) })
        #expect(
            checked.map { $0.map(\.code) } == [
                [], [], [], ["invalid_grade"], ["invalid_grade"], ["primary_not_teacher"], ["invalid_grade"],
                [], ["primary_not_teacher"], ["invalid_boolean"], ["scientific_notation"], ["scientific_notation", "invalid_grade"],
                ["primary_not_teacher"], ["invalid_boolean"],
            ])
        #expect(checked[4].first?.message.hasPrefix("Row 6, classGrade:") == true)
    }

    @Test("a date that is not a real date or not written YYYY-MM-DD says which part is wrong and what it may be")
    func dateMessages() {
        func problem(_ birth: String) -> String? {
            rules.demographicsRow(RowValues(["userId": "000123", "birthDate": birth]), line: 5)
                .first { $0.code == "invalid_date" }.map { "\($0.message) \($0.fix)" }
        }
        #expect(problem("2015-02-28") == nil)
        #expect(problem("2016-02-29") == nil)
        #expect(problem("2015-13-01") == "Row 5, birthDate: “2015-13-01” is not a real date: there is no month 13. Write the date as YYYY-MM-DD, e.g. 2014-09-02.")
        #expect(problem("2015-02-29") == "Row 5, birthDate: “2015-02-29” is not a real date: February 2015 has 28 days. Write the date as YYYY-MM-DD, e.g. 2014-09-02.")
        #expect(problem("2015-4-7") == "Row 5, birthDate: “2015-4-7” is not written YYYY-MM-DD. Write it as 2015-04-07.")
        #expect(problem("13/01/2015") == "Row 5, birthDate: “13/01/2015” is not written YYYY-MM-DD (it reads as day/month/year). Write it as 2015-01-13.")
        #expect(problem("01.13.2015") == "Row 5, birthDate: “01.13.2015” is not written YYYY-MM-DD (it reads as month/day/year). Write it as 2015-01-13.")
        #expect(
            problem("02/09/2014")
                == "Row 5, birthDate: “02/09/2014” is not written YYYY-MM-DD, and could be read two ways. Write it as 2014-09-02 if 2 is the day, or 2014-02-09 if 2 is the month.")
        #expect(problem("05/05/2014") == "Row 5, birthDate: “05/05/2014” is not written YYYY-MM-DD. Write it as 2014-05-05.")
        #expect(problem("31/02/2015") == "Row 5, birthDate: “31/02/2015” is not a real date, whether read day first or month first. Check the date, and write it as YYYY-MM-DD, e.g. 2014-09-02.")
        #expect(problem("next week") == "Row 5, birthDate: “next week” is not a date written YYYY-MM-DD. Write the date as YYYY-MM-DD, e.g. 2014-09-02.")
    }

    @Test("an invisible character is found wherever it is: the blocks answered without Unicode properties hold none")
    func invisibleCharacters() {
        func slow(_ scalar: Unicode.Scalar) -> Bool {
            scalar.properties.generalCategory == .control
                || scalar.properties.generalCategory == .format && !(0x200C...0x200D).contains(scalar.value)
        }
        let quick = (UInt32(0)...0x10FFFF).filter(RosterRowRules.hasNoControl).compactMap(Unicode.Scalar.init)
        #expect(quick.count > 40_000)
        #expect(quick.filter(slow).isEmpty)
        let scalars = ((UInt32(0)...0x3100).compactMap(Unicode.Scalar.init)
            + [0xFEFF, 0xFFF9, 0x110BD, 0x1D173, 0xE0001, 0xE0020, 0x4E2D, 0xAC00].compactMap(Unicode.Scalar.init))
        let differing = scalars.filter { rules.hasControl("Wing\(Character($0))Yan") != slow($0) }.map { String($0.value, radix: 16) }
        #expect(differing.isEmpty)
        // A name with one: its own issue, with a name made of letters of every answered block beside it.
        #expect(codes(["firstName": "詠欣 Zoë Ολγα Дарья 한결 ḿ\u{AD}"]) == ["control_character"])
        #expect(codes(["firstName": "詠欣 Zoë Ολγα Дарья 한결 ḿ"]).isEmpty)
    }

    @Test("typographic quotes are found in an ID by their bytes, and nothing else is taken for one")
    func curlyQuotes() {
        for quote in ["“", "”", "‘", "’", "„", "‚", "«", "»"] {
            #expect(ExcelDamage.hasCurlyQuotes("\(quote)000123"), "\(quote)")
            #expect(ExcelDamage.hasCurlyQuotes("000\(quote)123"), "\(quote)")
            #expect(ExcelDamage.hasCurlyQuotes("000123\(quote)"), "\(quote)")
        }
        for text in ["", "a", "000123", "\"000123\"", "'000123'", "…", "€12", "é", "詠欣", "–", "—", "\u{2017}", "\u{201B}", "\u{201F}", "\u{C2}\u{AC}"] {
            #expect(!ExcelDamage.hasCurlyQuotes(text), "\(text)")
        }
    }

    @Test(
        "each broken field gives its own code, naming row and column",
        arguments: [
            (["userId": "1.23E+05"], "scientific_notation"), (["userId": "1.23e5"], "scientific_notation"),
            (["userId": "“000123”"], "curly_quotes"), (["userId": "000 123"], "invalid_user_id"),
            (["userId": ""], "missing_value"),
            (["userRole": "pupil"], "invalid_role"), (["loginId": ""], "missing_login_id"),
            (["loginId": "19 chan"], "invalid_login_id"),
            (["firstName": ""], "missing_value"), (["lastName": String(repeating: "a", count: 101)], "too_long"),
            (["firstName": "Wing\u{0}Yan"], "control_character"), (["userGrade": ""], "missing_grade"),
            (["userGrade": "5"], "invalid_grade"),
            (["userStatus": "gone"], "invalid_status"), (["action": "remove"], "invalid_action"),
            (["schoolId": ""], "missing_value"),
            (["userEmail": "chan.school.edu"], "email_missing_at"), (["classId": "9.87E+04"], "scientific_notation"),
            (["classGrade": "Year 5"], "invalid_grade"), (["primaryTeacher": "yes"], "invalid_boolean"),
            (["primaryTeacher": "true"], "primary_not_teacher"),
        ] as [([String: String], String)])
    func broken(change: [String: String], code: String) {
        let issues = rules.usersRow(RowValues(student.merging(change) { _, new in new }), line: 7)
        #expect(issues.map(\.code) == [code], "\(issues.map(\.message))")
        #expect(
            issues.first?.message.hasPrefix("Row 7, \(change.keys.first!):") == true, "\(issues.first?.message ?? "")")
        #expect(issues.first?.column == change.keys.first!)
        #expect(!(issues.first?.fix.isEmpty ?? true))
    }

    @Test("a quote mark inside a name (O\"Brien, read as it is) is a warning suggesting the apostrophe; the row still goes through")
    func quoteInName() throws {
        let table = try CSVTable.read(
            bytes: Data("schoolId,userId,userRole,loginId,firstName,lastName,userGrade\nHVP,000123,student,19obrienm1,Mary,O\"Brien,05\n".utf8),
            fileName: "users.csv", dictionary: RosterDictionaries.users
        ).get()
        let values = table.values(of: table.records[0])
        #expect(values["lastName"] == "O\"Brien")
        let issues = rules.usersRow(values, line: 2)
        #expect(issues.map(\.code) == ["quote_in_name"])
        #expect(issues.first?.severity == .warning)
        #expect(issues.first?.message == "Row 2, lastName: “O\"Brien” has a double quote mark (\") in it.")
        #expect(issues.first?.fix.hasPrefix("If it stands for an apostrophe, write O'Brien;") == true)
    }

    @Test("staff need an e-mail address; students do not")
    func staffEmail() {
        #expect(codes(["userRole": "aide", "loginId": "", "userGrade": ""]) == ["missing_email"])
        #expect(codes(["userEmail": ""]).isEmpty)
    }

    @Test("a misspelt grade is answered with the nearest one")
    func gradeSuggestion() {
        let issue = rules.usersRow(RowValues(student.merging(["userGrade": "O5"]) { _, new in new }), line: 3).first
        #expect(issue?.fix.hasPrefix("Did you mean 05?") == true, "\(issue?.fix ?? "")")
        // Other ways of writing a grade: the grade they mean, not the nearest spelling ("1st" is two letters from IT).
        func fix(_ grade: String) -> String {
            rules.usersRow(RowValues(student.merging(["userGrade": grade]) { _, new in new }), line: 3).first?.fix ?? ""
        }
        for (written, meant) in [
            ("1st", "01"), ("2nd", "02"), ("3RD", "03"), ("12th", "12"), ("Grade 5", "05"), ("gr. 7", "07"), ("G10", "10"),
            ("K", "KG"), ("Kindergarten", "KG"), ("Pre-K", "PK"), ("preschool", "PS"), ("Ungraded", "UG"), ("Grade K", "KG"), ("Gr. Pre-K", "PK"),
        ] {
            #expect(fix(written).hasPrefix("Did you mean \(meant)? Use one of:"), "\(written): \(fix(written))")
        }
        #expect(fix("5").hasPrefix("Did you mean 05? A spreadsheet may have removed its leading zero"), "\(fix("5"))")
        // Only a grade the district has; a number past 13 is no grade.
        #expect(GradeLevels.meant("5th", in: ["KG", "01"]) == nil && GradeLevels.meant("14th", in: GradeLevels.oneRoster) == nil)
        #expect(GradeLevels.meant("5.5", in: GradeLevels.oneRoster) == nil && GradeLevels.meant("grade", in: GradeLevels.oneRoster) == nil)
    }

    @Test("leading zeros a spreadsheet removed are found against the IDs that exist")
    func leadingZeros() {
        let existing: Set<String> = ["000123", "0042"]
        #expect(ExcelDamage.restoredLeadingZeros("123", exists: existing.contains) == "000123")
        #expect(ExcelDamage.restoredLeadingZeros("42", exists: existing.contains) == "0042")
        #expect(ExcelDamage.restoredLeadingZeros("999", exists: existing.contains) == nil)
        #expect(ExcelDamage.restoredLeadingZeros("s123", exists: existing.contains) == nil)
    }

    @Test(
        "demographics: dates, vocabularies and true/false",
        arguments: [
            (["birthDate": "45123"], "date_as_number"), (["birthDate": "2014-02-30"], "invalid_date"),
            (["birthDate": "02/09/2014"], "invalid_date"), (["birthDate": "2027-01-01"], "future_date"),
            (["sex": "F"], "invalid_sex"), (["asian": "yes"], "invalid_boolean"),
            (["homeLanguage": "Cantonese"], "invalid_language"),
            (["countryOfBirthCode": "HKG"], "invalid_country"), (["userId": "1.5E+03"], "scientific_notation"),
        ] as [([String: String], String)])
    func demographics(change: [String: String], code: String) {
        let row = [
            "userId": "000123", "birthDate": "2014-09-02", "sex": "female", "asian": "TRUE", "homeLanguage": "yue",
            "countryOfBirthCode": "HK",
        ]
        #expect(rules.demographicsRow(RowValues(row), line: 2).isEmpty)
        #expect(rules.demographicsRow(RowValues(row.merging(change) { _, new in new }), line: 2).map(\.code) == [code])
    }

    @Test("demographics rows read from a file, their cells seen before good and bad, get the problems of rows checked whole")
    func demographicsFromFile() throws {
        let header = "userId,birthDate,sex,asian,white,homeLanguage,countryOfBirthCode"
        let lines = [
            "000123,2014-09-02,female,false,TRUE,yue,HK",
            "000124,2014-09-02,female,false,true,yue,HK",  // every cell seen before and passed
            "000125,2014-09-02,F,yes,true,Cantonese,HKG",  // new texts, each a problem
            "000126,2014-09-02,F,false,yes,yue,HKG",  // the same bad texts seen before
            "1.5E+03,2014-09-02,female,false,true,yue,HK",  // cells that pass, a damaged userId
            "000127,2014/09/02,male,false,true,en,GB",  // a date written another way
            "000128,41884,male,false,true,en,GB",  // a date turned into a number
            "000129,2030-01-01,male,false,true,en,GB",  // a date in the future
            "000130,2015-02-29,male,false,true,en,GB",  // no such day
            "000131,2030-01-01,male,false,true,en,GB",  // the future date again
            "000132,,,,,,",  // empty cells pass
            "000133, 2014-09-02 ,female, yes ,true,yue,HK",  // cells with spaces around them: trimmed, texts of their own
            "000134,2014-09-02,FEMALE,False,TRUE,yue,hk",  // letter case: sex and flags in any case, a country in capitals
            "000135,2014-09-02,女,false,true,粵語,香港",  // not ASCII
        ]
        let bytes = Data(([header] + lines).joined(separator: "\r\n").utf8)
        let table = try CSVTable.read(bytes: bytes, fileName: "demographics.csv", dictionary: RosterDictionaries.demographics).get()
        var checker = RosterRowRules.DemographicsChecker(rules: rules, columns: table.rowColumns)
        let values = table.records.map { table.values(of: $0) }
        // Cells as the reader numbered them, but the trimmed row's, which are texts of their own.
        #expect(values.indices.filter { values[$0].values.numberedIn == nil } == [11])
        let checked = zip(table.records, values).map { checker.check($1, line: $0.line) }
        #expect(checked == zip(table.records, values).map { rules.demographicsRow($1, line: $0.line) })
        #expect(
            checked.map { $0.map(\.code) } == [
                [], [], ["invalid_sex", "invalid_boolean", "invalid_language", "invalid_country"],
                ["invalid_sex", "invalid_boolean", "invalid_country"], ["scientific_notation"], ["invalid_date"], ["date_as_number"],
                ["future_date"], ["invalid_date"], ["future_date"], [], ["invalid_boolean"], ["invalid_country"],
                ["invalid_sex", "invalid_language", "invalid_country"],
            ])
        // Another file's columns in another order, one of them missing: the same rows get the same problems.
        let reordered = "countryOfBirthCode,sex,userId,birthDate,white"
        let reorderedLines = ["HKG,F,000125,2014-09-02,true", "HK,female,000124,2014-09-02,true", "HKG,F,000126,2014-09-02,yes"]
        let other = try CSVTable.read(
            bytes: Data(([reordered] + reorderedLines).joined(separator: "\n").utf8), fileName: "demographics.csv",
            dictionary: RosterDictionaries.demographics
        ).get()
        var otherChecker = RosterRowRules.DemographicsChecker(rules: rules, columns: other.rowColumns)
        let otherChecked = other.records.map { otherChecker.check(other.values(of: $0), line: $0.line) }
        #expect(otherChecked == other.records.map { rules.demographicsRow(other.values(of: $0), line: $0.line) })
        #expect(otherChecked.map { $0.map(\.code) } == [["invalid_sex", "invalid_country"], [], ["invalid_sex", "invalid_boolean", "invalid_country"]])
        // A row of the first file checked by the other file's checker (another column list): checked whole.
        #expect(otherChecker.check(values[3], line: 5) == checked[3])
        #expect(checked[3].map(\.message) == [
            "Row 5, sex: “F” is not one of the values.", "Row 5, white: “yes” is not true or false.",
            "Row 5, countryOfBirthCode: “HKG” is not an ISO 3166-1 alpha-2 country code.",
        ])
    }

    @Test("a date turned into a number says which date it was")
    func dateSerial() {
        #expect(ExcelDamage.dateFromSerial("45123") == "2023-07-16")
        #expect(ExcelDamage.dateFromSerial("41884") == "2014-09-02")
        #expect(ExcelDamage.dateFromSerial("123") == nil)
    }

    @Test("the templates have the dictionary's header and two example rows that pass the row rules")
    func templates() throws {
        for (dictionary, template) in [
            (RosterDictionaries.users, RosterDictionaries.usersTemplate),
            (RosterDictionaries.demographics, RosterDictionaries.demographicsTemplate),
        ] {
            let table = try CSVTable.read(
                bytes: Data(template.utf8), fileName: dictionary.fileName, dictionary: dictionary
            ).get()
            #expect(table.records.count == 2)
            for record in table.records {
                let issues =
                    dictionary.fileName == "users.csv"
                    ? rules.usersRow(table.values(of: record), line: record.line)
                    : rules.demographicsRow(table.values(of: record), line: record.line)
                #expect(issues.isEmpty, "\(issues.map(\.message))")
            }
        }
    }
}
