import Foundation

/// The checks one row of users.csv or demographics.csv gets on its own (SPEC §4.2, §4.3), without the database or
/// the other rows: required values, formats, vocabularies, lengths, control characters and spreadsheet damage.
/// Each problem names the row, the column and the value, and says how to fix it.
public struct RosterRowRules: Sendable {
    public var grades: [String]
    /// "Today", for birth dates in the future.
    public var today: String

    public init(grades: [String] = GradeLevels.oneRoster, today: String) {
        self.grades = grades
        self.today = today
    }

    public static let maxNameLength = 100

    /// The problems of one row as they are found, each naming the row, the column and its value.
    struct RowProblems {
        let values: RowValues
        let line: Int
        var issues: [BatchIssue] = []

        func value(_ column: String) -> String { values[column] ?? "" }
        func value(_ column: RowValues.Column) -> String { values[column] ?? "" }

        mutating func error(_ code: String, _ column: String, _ message: String, fix: String) {
            issues.append(.error(code, "Row \(line), \(column): \(message)", fix: fix, column: column, value: value(column)))
        }

        mutating func warning(_ code: String, _ column: String, _ message: String, fix: String) {
            issues.append(.warning(code, "Row \(line), \(column): \(message)", fix: fix, column: column, value: value(column)))
        }
    }

    /// Every problem of one users.csv row (`values` by column name, trimmed).
    public func usersRow(_ values: RowValues, line: Int) -> [BatchIssue] {
        usersPerson(values, line: line) + usersClass(values, line: line)
    }

    /// The users.csv columns the checks of a row's person read: every column but the class's.
    static let usersPersonColumns = [
        "action", "schoolId", "userId", "userRole", "loginId", "firstName", "lastName", "middleName",
        "preferredFirstName", "userEmail", "userGrade", "userStatus",
    ]

    /// Checks users.csv rows in file order like `usersRow`, but checks a row's person (`usersPersonColumns`) only
    /// when those cells differ from the previous row's and that row's person had no problem: a student's row repeats
    /// the person for each of their classes, seven rows a student in a state-size file.
    public struct UsersChecker {
        let rules: RosterRowRules
        let columns: RowValues.Columns
        /// Where each of `usersPersonColumns` is in `columns`' rows (nil: the file lacks it).
        let positions: [Int?]
        let usersColumns: UsersColumns
        /// The previous row's person cells, when its person had no problem.
        var clean = KeptCells()
        /// What the class checks found about each distinct text of the class columns (`classIssues`), and where
        /// those columns are in `columns`' rows.
        var classAnswers = ClassAnswers()
        let classIDAt, classGradeAt, primaryAt, roleAt: Int?

        struct ClassAnswers {
            var classIDs = TextAnswers(), classGrades = TextAnswers(), primaryFlags = TextAnswers(), teachers = TextAnswers()
        }

        /// For the rows of a file whose values share `columns` (other rows are checked whole).
        public init(rules: RosterRowRules, columns: RowValues.Columns) {
            self.rules = rules
            self.columns = columns
            positions = RosterRowRules.usersPersonColumns.map { columns.position(of: $0) }
            usersColumns = UsersColumns(columns)
            (classIDAt, classGradeAt) = (columns.position(of: "classId"), columns.position(of: "classGrade"))
            (primaryAt, roleAt) = (columns.position(of: "primaryTeacher"), columns.position(of: "userRole"))
        }

        public mutating func check(_ values: RowValues, line: Int) -> [BatchIssue] {
            guard values.columns.sameList(as: columns) else {
                clean.forget()
                return rules.usersRow(values, line: line)
            }
            // (Rows not told the same, texts Swift calls equal in other bytes too, are checked again: never wrong.)
            if clean.same(values.values, at: positions) { return classIssues(values, line: line) }
            let person = rules.usersPerson(values, line: line, columns: usersColumns)
            if person.isEmpty { clean.keep(values.values, at: positions) } else { clean.forget() }
            return person + classIssues(values, line: line)
        }

        /// `usersClass` of a row of `columns`: a row whose class cells all pass is known so from answers about each
        /// distinct text (a class ID that passes, a grade of the district, a true or false), made once a text of a
        /// piece of the file instead of once a row; any other row is checked by `usersClass`, which words the issues.
        /// (A row of `columns`: `check` asked.)
        mutating func classIssues(_ values: RowValues, line: Int) -> [BatchIssue] {
            // The answers are taken out of the checker while they are asked (swapped, not copied), so that the
            // questions read its rules in place and the cells by position: a copy of the rules and the columns a row
            // counted lists that every core shares up and down, on every core at once (demographics.csv's checks,
            // made so, went from 0.37 to 0.04 s of a core at state size).
            var answers = ClassAnswers()
            swap(&answers, &classAnswers)
            defer { swap(&answers, &classAnswers) }
            // 0: the ID has a problem; 1: it passes; 2: empty.
            let classID = answers.classIDs.answer(values, at: classIDAt) { text in
                if text.isEmpty { return 2 }
                var issues: [BatchIssue] = []
                self.rules.checkIdentifier("classId", text, line: 0, required: false, into: &issues)
                return issues.isEmpty ? 1 : 0
            }
            let grade = answers.classGrades.answer(values, at: classGradeAt) { $0.isEmpty || self.rules.grades.contains($0) ? 1 : 0 }
            // 0: empty; 1: false; 2: true; 3: neither.
            let primary = answers.primaryFlags.answer(values, at: primaryAt) { text in
                text.isEmpty ? 0 : RosterRowRules.trueOrFalse(text).map { $0 ? 2 : 1 } ?? 3
            }
            guard classID != 0, grade == 1, primary != 3 else { return rules.usersClass(values, line: line, columns: usersColumns) }
            if primary == 2 {
                let teacher = answers.teachers.answer(values, at: roleAt) { UserRole(lenient: $0) == .teacher ? 1 : 0 } == 1
                if !teacher || classID == 2 { return rules.usersClass(values, line: line, columns: usersColumns) }
            }
            return []
        }
    }

    /// The problems of a users.csv row's person: its action, school, userId, role, login ID, names, address, grade
    /// and status.
    func usersPerson(_ values: RowValues, line: Int, columns: UsersColumns = UsersColumns(nil)) -> [BatchIssue] {
        var found = RowProblems(values: values, line: line)
        let action = RosterPlanner.lowercased(found.value(columns.action))
        if !["", "upsert", "delete"].contains(action) {
            found.error(
                "invalid_action", "action", "“\(found.value("action"))” is not an action.",
                fix: "Leave action empty (create or update), or write upsert or delete.")
        }
        let schoolID = found.value(columns.schoolID)
        if schoolID.isEmpty {
            found.error(
                "missing_value", "schoolId", "the school ID is empty.",
                fix: "Fill in the school's ID, as on the Schools page.")
        } else if let problem = IdentifierRules.schoolIDProblem(schoolID) {
            found.error("invalid_school_id", "schoolId", problem, fix: "Correct the school ID.")
        }
        checkIdentifier("userId", found.value(columns.userID), line: line, required: true, into: &found.issues)
        let roleText = found.value(columns.role)
        let role = UserRole(lenient: roleText)
        if roleText.isEmpty {
            found.error(
                "missing_value", "userRole", "the role is empty.",
                fix: "Write student, teacher, administrator, aide or staff.")
        } else if role == nil {
            found.error(
                "invalid_role", "userRole", "“\(roleText)” is not a role.",
                fix: "Write student, teacher, administrator, aide or staff.")
        }
        let loginID = found.value(columns.loginID)
        if role == .student && loginID.isEmpty {
            found.error(
                "missing_login_id", "loginId", "a student needs a login ID.",
                fix: "Fill in the student's login ID (WebloginID), e.g. 19chanw1.")
        } else if !loginID.isEmpty {
            if !Self.isPrintableASCII(loginID) && (loginID.contains(where: \.isWhitespace) || hasControl(loginID)) {
                found.error(
                    "invalid_login_id", "loginId", "“\(loginID)” contains a space or an invisible character.",
                    fix: "Remove the spaces from the login ID.")
            } else if ExcelDamage.hasCurlyQuotes(loginID) {
                found.error(
                    "curly_quotes", "loginId", "“\(loginID)” contains typographic quotes.",
                    fix: "Retype the login ID without quotes.")
            }
        }
        for (column, position) in zip(["firstName", "lastName", "middleName", "preferredFirstName"], columns.names) {
            let name = found.value(position)
            if name.isEmpty {
                if column == "firstName" || column == "lastName" {
                    found.error(
                        "missing_value", column, "the name is empty.",
                        fix: "Fill in the \(column == "firstName" ? "first" : "last") name.")
                }
            } else if name.utf8.count > Self.maxNameLength && name.count > Self.maxNameLength {
                found.error(
                    "too_long", column,
                    "the name is \(name.count) characters long; at most \(Self.maxNameLength) are allowed.",
                    fix: "Shorten the name.")
            } else if hasControl(name) {
                found.error(
                    "control_character", column, "“\(visible(name))” contains an invisible control character.",
                    fix: "Retype the name.")
            } else if name.utf8.contains(0x22) {
                // A quote mark inside a cell that does not start with one is kept as it is (RFC 4180 has no meaning
                // for it): most often an apostrophe mistyped, or a quote left from a cell split badly.
                found.warning(
                    "quote_in_name", column, "“\(name)” has a double quote mark (\") in it.",
                    fix: "If it stands for an apostrophe, write \(name.replacingOccurrences(of: "\"", with: "'")); if it was left "
                        + "over from another cell, remove it. A name that really has quote marks can stay as it is.")
            }
        }
        let email = found.value(columns.email)
        if email.isEmpty {
            if let role, role.isStaff {
                found.error(
                    "missing_email", "userEmail", "staff need an e-mail address.",
                    fix: "Fill in the \(role.rawValue)'s school e-mail address.")
            }
        } else if let problem = EmailAddress.problem(with: email) {
            found.error(
                problem.code, "userEmail", "“\(email)” cannot be used: \(problem.reason).",
                fix: "Correct the address so it looks like name@school.edu.")
        }
        let grade = found.value(columns.grade)
        if role == .student && grade.isEmpty {
            found.error(
                "missing_grade", "userGrade", "a student needs a grade.",
                fix: "Write one of: \(grades.joined(separator: " ")).")
        } else if !grade.isEmpty && !grades.contains(grade) {
            found.error("invalid_grade", "userGrade", "“\(grade)” is not one of the district's grades.", fix: gradeFix(grade))
        }
        let status = RosterPlanner.lowercased(found.value(columns.status))
        if !status.isEmpty && UserStatus(rawValue: status) == nil {
            found.error(
                "invalid_status", "userStatus", "“\(found.value("userStatus"))” is not a status.",
                fix: "Write active, future or left (or leave it empty for active).")
        }
        return found.issues
    }

    /// The users.csv columns the checks read, found once in the column list the rows share (a row is read by
    /// position, not by hashing the columns' names: a tenth of the row rules' time at state size, and over a second
    /// of the checks across rows, eight a row). The row rules and the checks across rows use the same.
    struct UsersColumns {
        let action, schoolID, schoolName, userID, role, loginID, email, grade, status: RowValues.Column
        let classID, className, classGrade, primaryTeacher: RowValues.Column
        /// firstName, lastName, middleName, preferredFirstName.
        let names: [RowValues.Column]

        /// nil: read every row by name.
        init(_ columns: RowValues.Columns?) {
            func column(_ name: String) -> RowValues.Column { RowValues.Column(name, in: columns) }
            action = column("action")
            schoolID = column("schoolId")
            schoolName = column("schoolName")
            userID = column("userId")
            role = column("userRole")
            loginID = column("loginId")
            email = column("userEmail")
            grade = column("userGrade")
            status = column("userStatus")
            classID = column("classId")
            className = column("className")
            classGrade = column("classGrade")
            primaryTeacher = column("primaryTeacher")
            names = ["firstName", "lastName", "middleName", "preferredFirstName"].map(column)
        }
    }

    /// The problems of a users.csv row's class columns (the primary-teacher flag also reads the row's role).
    func usersClass(_ values: RowValues, line: Int, columns: UsersColumns = UsersColumns(nil)) -> [BatchIssue] {
        var found = RowProblems(values: values, line: line)
        let role = UserRole(lenient: found.value(columns.role))
        let classID = found.value(columns.classID)
        checkIdentifier("classId", classID, line: line, required: false, into: &found.issues)
        let classGrade = found.value(columns.classGrade)
        if !classGrade.isEmpty && !grades.contains(classGrade) {
            found.error(
                "invalid_grade", "classGrade", "“\(classGrade)” is not one of the district's grades.",
                fix: gradeFix(classGrade))
        }
        let primaryText = found.value(columns.primaryTeacher)
        if !primaryText.isEmpty {
            let primary = Self.trueOrFalse(primaryText)
            if primary == nil {
                found.error(
                    "invalid_boolean", "primaryTeacher", "“\(found.value("primaryTeacher"))” is not true or false.",
                    fix: "Write true or false.")
            } else if primary == true && (role != .teacher || classID.isEmpty) {
                found.error(
                    "primary_not_teacher", "primaryTeacher",
                    "only a teacher row with a classId can be a class's primary teacher.",
                    fix: "Set primaryTeacher only on a teacher's row that names the class.")
            }
        }
        return found.issues
    }

    /// Every problem of one demographics.csv row.
    public func demographicsRow(_ values: RowValues, line: Int) -> [BatchIssue] {
        var found = RowProblems(values: values, line: line)
        checkIdentifier("userId", found.value("userId"), line: line, required: true, into: &found.issues)
        for column in Self.demographicsCellColumns {
            if let problem = demographicsProblem(column, found.value(column)) {
                found.error(problem.code, column, problem.message, fix: problem.fix)
            }
        }
        return found.issues
    }

    /// The demographics.csv columns whose cells are checked each by itself (`demographicsProblem`), in the order
    /// their problems are listed: every column but userId.
    static let demographicsCellColumns =
        ["birthDate", "sex"] + RosterDictionaries.booleanColumns.map(\.name) + ["homeLanguage", "countryOfBirthCode"]

    /// The problem of one cell of a demographics.csv column other than userId, which needs nothing but the cell
    /// (nil: it has none; an empty cell has none).
    func demographicsProblem(_ column: String, _ text: String) -> (code: String, message: String, fix: String)? {
        Self.demographicsProblem(column, text, today: today)
    }

    static func demographicsProblem(_ column: String, _ text: String, today: String) -> (code: String, message: String, fix: String)? {
        guard !text.isEmpty else { return nil }
        switch column {
        case "birthDate":
            if let date = ExcelDamage.dateFromSerial(text) {
                return (
                    "date_as_number", "“\(text)” looks like a date a spreadsheet turned into a number (it would be \(date)).",
                    "Format the column as Text (or as YYYY-MM-DD) and write the date as \(date)."
                )
            } else if let problem = Self.dateProblem(text) {
                return ("invalid_date", problem.message, problem.fix)
            } else if text > today {
                return ("future_date", "\(text) is in the future.", "Correct the date of birth.")
            }
            return nil
        case "sex":
            guard !["male", "female", "other", "unspecified"].contains(text.lowercased()) else { return nil }
            return ("invalid_sex", "“\(text)” is not one of the values.", "Write male, female, other or unspecified.")
        case "homeLanguage":
            guard !((2...3).contains(text.utf8.count) && text.utf8.allSatisfy { (0x61...0x7A).contains($0) }) else { return nil }
            return (
                "invalid_language", "“\(text)” is not an ISO 639 language code.",
                "Write the 2- or 3-letter code in lower case, e.g. en, zh, yue."
            )
        case "countryOfBirthCode":
            guard !(text.utf8.count == 2 && text.utf8.allSatisfy { (0x41...0x5A).contains($0) }) else { return nil }
            return (
                "invalid_country", "“\(text)” is not an ISO 3166-1 alpha-2 country code.",
                "Write the 2-letter code in capitals, e.g. HK, GB, US."
            )
        case _ where Self.demographicsFlagColumns.contains(column):
            guard Self.trueOrFalse(text) == nil else { return nil }
            return ("invalid_boolean", "“\(text)” is not true or false.", "Write true or false.")
        default:
            assertionFailure("\(column) is not a column of demographics.csv checked by itself")
            return nil
        }
    }

    /// The yes/no columns of demographics.csv.
    static let demographicsFlagColumns = Set(RosterDictionaries.booleanColumns.map(\.name))

    /// Checks demographics.csv rows like `demographicsRow`, but answers whether a cell of the columns checked each by
    /// itself passes once for each distinct text of a piece of the file (a birth date, `false`, a language code),
    /// not once a row: a row whose cells all pass gets only its userId checked; any other row is checked whole,
    /// which words its problems.
    public struct DemographicsChecker {
        let rules: RosterRowRules
        let columns: RowValues.Columns
        let userID: RowValues.Column
        /// Where each of `demographicsCellColumns` is in `columns`' rows (nil: the file lacks it), with what is known
        /// of each one's distinct texts.
        let positions: [Int?]
        var answers: [TextAnswers]
        let today: String

        /// For the rows of a file whose values share `columns` (other rows are checked whole).
        public init(rules: RosterRowRules, columns: RowValues.Columns) {
            self.rules = rules
            self.columns = columns
            userID = RowValues.Column("userId", in: columns)
            positions = RosterRowRules.demographicsCellColumns.map { columns.position(of: $0) }
            answers = positions.map { _ in TextAnswers() }
            today = rules.today
        }

        public mutating func check(_ values: RowValues, line: Int) -> [BatchIssue] {
            guard values.columns.sameList(as: columns) else { return rules.demographicsRow(values, line: line) }
            // The questions hold no reference to count (a copy of the rules or of a column a cell had each counted
            // a list shared by every core up and down, on every core at once): positions, and the date as a value.
            let today = today
            for index in positions.indices {
                let passes = answers[index].answer(values, at: positions[index]) { text in
                    Self.problem(index, text, today: today) ? 0 : 1
                }
                if passes == 0 { return rules.demographicsRow(values, line: line) }
            }
            var issues: [BatchIssue] = []
            rules.checkIdentifier("userId", values[userID] ?? "", line: line, required: true, into: &issues)
            return issues
        }

        private static func problem(_ index: Int, _ text: String, today: String) -> Bool {
            RosterRowRules.demographicsProblem(RosterRowRules.demographicsCellColumns[index], text, today: today) != nil
        }
    }

    /// userId / classId: required where asked, the identifier format, and the spreadsheet damage it shows.
    func checkIdentifier(_ column: String, _ text: String, line: Int, required: Bool, into issues: inout [BatchIssue]) {
        func error(_ code: String, _ message: String, fix: String) {
            issues.append(.error(code, "Row \(line), \(column): \(message)", fix: fix, column: column, value: text))
        }
        if text.isEmpty {
            if required { error("missing_value", "the ID is empty.", fix: "Fill in the \(column).") }
        } else if ExcelDamage.isScientificNotation(text) {
            error(
                "scientific_notation",
                "“\(text)” is a number a spreadsheet wrote in scientific notation; the real ID is lost.",
                fix:
                    "Format the \(column) column as Text in the spreadsheet, type the IDs again (or export them again) and save as CSV."
            )
        } else if ExcelDamage.hasCurlyQuotes(text) {
            error(
                "curly_quotes", "“\(text)” contains typographic quotes (“ ” ‘ ’).", fix: "Retype the ID without quotes."
            )
        } else if column == "userId" && !IdentifierRules.isValidUserID(text) {
            error(
                "invalid_user_id", "“\(visible(text))” is not a valid ID: use 1–64 of A–Z a–z 0–9 . _ -.",
                fix: "Correct the userId.")
        } else if hasControl(text) || (text.utf8.count > 64 && text.count > 64) {
            error(
                "invalid_class_id", "“\(visible(text))” is too long or contains an invisible character.",
                fix: "Correct the classId.")
        }
    }

    func gradeFix(_ grade: String) -> String {
        let all = "Use one of: \(grades.joined(separator: " "))."
        guard let meant = GradeLevels.meant(grade, in: grades) else {
            return (Similarity.nearest(to: grade, in: grades).map { "Did you mean \($0)? " } ?? "") + all
        }
        // (A one-digit grade is most often 05 after a spreadsheet took its zero.)
        if meant == "0" + grade {
            return "Did you mean \(meant)? A spreadsheet may have removed its leading zero: write \(meant), and format the column as Text "
                + "before saving. \(all)"
        }
        return "Did you mean \(meant)? \(all)"
    }

    /// Letters, digits and punctuation of ASCII only: no space, no control character (most cells).
    static func isPrintableASCII(_ text: String) -> Bool { text.utf8.allSatisfy { $0 > 0x20 && $0 < 0x7F } }

    func hasControl(_ text: String) -> Bool {
        if text.utf8.allSatisfy({ $0 >= 0x20 && $0 < 0x7F }) { return false }
        return text.unicodeScalars.contains {
            !Self.hasNoControl($0.value)
                && ($0.properties.generalCategory == .control
                    || $0.properties.generalCategory == .format && !(0x200C...0x200D).contains($0.value))
        }
    }

    /// Blocks without a control or format character (Latin, Greek, Cyrillic, Hebrew, Latin Extended Additional and
    /// Greek Extended, kana and CJK, Hangul): most letters of a name, answered without reading their Unicode
    /// properties (a third of the row rules' time on a file of accented and Chinese names).
    /// `RosterRowRulesTests.invisibleCharacters` checks every scalar of these blocks.
    static func hasNoControl(_ scalar: UInt32) -> Bool {
        switch scalar {
        case 0x20...0x7E, 0xA0...0xAC, 0xAE...0x5FF, 0x1E00...0x1FFF, 0x3040...0x9FFF, 0xAC00...0xD7A3: true
        default: false
        }
    }

    /// Control characters shown as `\u{0}` so a person can see where they are.
    func visible(_ text: String) -> String {
        String(
            text.unicodeScalars.map {
                $0.properties.generalCategory == .control ? "\\u{\(String($0.value, radix: 16))}" : String($0)
            }.joined())
    }

    /// What is wrong with a date that should be written YYYY-MM-DD, and how to write it; nil when it is a real
    /// date so written. Says which part is wrong ("there is no month 13"), and reads a date written with the
    /// year last (31/01/2015, 01.31.2015) both ways, day first and month first, to offer what it may be.
    static func dateProblem(_ text: String) -> (message: String, fix: String)? {
        // Most dates are written as asked: read by their bytes.
        if let (year, month, day) = isoDate(text), wrongPart(year: year, month: month, day: day) == nil { return nil }
        let example = "Write the date as YYYY-MM-DD, e.g. 2014-09-02."
        let numbers = text.split(omittingEmptySubsequences: false) { "-/.".contains($0) }
        guard numbers.count == 3, numbers.allSatisfy({ !$0.isEmpty && $0.count <= 4 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) })
        else { return ("“\(text)” is not a date written YYYY-MM-DD.", example) }
        let (first, second, third) = (Int(numbers[0])!, Int(numbers[1])!, Int(numbers[2])!)
        if numbers[0].count == 4 && numbers[1].count <= 2 && numbers[2].count <= 2 {
            if let wrong = wrongPart(year: first, month: second, day: third) {
                return ("“\(text)” is not a real date: \(wrong).", example)
            }
            if text.count == 10 && text.allSatisfy({ $0 != "/" && $0 != "." }) { return nil }
            return ("“\(text)” is not written YYYY-MM-DD.", "Write it as \(dateText(year: first, month: second, day: third)).")
        }
        guard numbers[2].count == 4, numbers[0].count <= 2, numbers[1].count <= 2 else {
            return ("“\(text)” is not a date written YYYY-MM-DD.", example)
        }
        // The year last: day/month/year in most of the world, month/day/year in the United States.
        let dayFirst = wrongPart(year: third, month: second, day: first) == nil ? dateText(year: third, month: second, day: first) : nil
        let monthFirst = wrongPart(year: third, month: first, day: second) == nil ? dateText(year: third, month: first, day: second) : nil
        switch (dayFirst, monthFirst) {
        case let (day?, month?) where day == month:
            return ("“\(text)” is not written YYYY-MM-DD.", "Write it as \(day).")
        case let (day?, month?):
            return (
                "“\(text)” is not written YYYY-MM-DD, and could be read two ways.",
                "Write it as \(day) if \(first) is the day, or \(month) if \(first) is the month."
            )
        case let (day?, nil):
            return ("“\(text)” is not written YYYY-MM-DD (it reads as day/month/year).", "Write it as \(day).")
        case let (nil, month?):
            return ("“\(text)” is not written YYYY-MM-DD (it reads as month/day/year).", "Write it as \(month).")
        case (nil, nil):
            return ("“\(text)” is not a real date, whether read day first or month first.", "Check the date, and write it as YYYY-MM-DD, e.g. 2014-09-02.")
        }
    }

    /// A yes/no cell (primaryTeacher, demographics.csv's flags): `true` or `false` in any letter case; nil for any
    /// other text, the empty one too.
    static func trueOrFalse(_ text: String) -> Bool? {
        switch text {
        case "true": true
        case "false": false
        default:
            switch text.lowercased() {
            case "true": true
            case "false": false
            default: nil
            }
        }
    }

    /// The year, month and day of a text of ten ASCII bytes written YYYY-MM-DD; nil for any other text.
    static func isoDate(_ text: String) -> (year: Int, month: Int, day: Int)? {
        text.utf8.withContiguousStorageIfAvailable { bytes -> (year: Int, month: Int, day: Int)? in
            guard bytes.count == 10, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-") else { return nil }
            func number(_ places: Range<Int>) -> Int? {
                var value = 0
                for place in places {
                    let digit = Int(bytes[place]) - 0x30
                    guard (0...9).contains(digit) else { return nil }
                    value = value * 10 + digit
                }
                return value
            }
            guard let year = number(0..<4), let month = number(5..<7), let day = number(8..<10) else { return nil }
            return (year, month, day)
        } ?? nil
    }

    /// Which part of a date is wrong, in words ("there is no month 13", "February 2015 has 28 days"); nil when it
    /// is a real date.
    static func wrongPart(year: Int, month: Int, day: Int) -> String? {
        guard (1...12).contains(month) else { return "there is no month \(month)" }
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
        let days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
        guard (1...days).contains(day) else {
            return day == 0 ? "there is no day 0" : "\(monthNames[month - 1]) \(year) has \(days) days"
        }
        return nil
    }

    static let monthNames = [
        "January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December",
    ]

    /// A date as YYYY-MM-DD, the form every date of a roster is written in.
    static func dateText(year: Int, month: Int, day: Int) -> String { String(format: "%04d-%02d-%02d", year, month, day) }
}
