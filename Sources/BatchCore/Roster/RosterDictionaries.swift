/// The two roster files (SPEC §4.2, §4.3) as data dictionaries: the same values check an upload's header, make the
/// downloadable templates and the readable *Data dictionary* pages.
public enum RosterDictionaries {
    public static let booleanFormat = "true or false"

    public static let users = DataDictionary(
        fileName: "users.csv",
        columns: [
            .init(
                "action", .optional, meaning: "What the row does",
                format:
                    "Empty or upsert = create or update; delete = end this enrollment (with classId) or mark the person left (without)",
                example: ""),
            .init(
                "schoolId", .required, meaning: "The school's ID (external identifier, case-sensitive)",
                format: "Text, 1–64 characters; must exist or come with schoolName", example: "HVP001"),
            .init(
                "schoolName", .conditional, meaning: "The school's name; needed on at least one row of a new schoolId",
                format: "Text; rows that give a name must agree (a row giving another name than most of the school's rows is an error)", example: "Harbour View Primary School"),
            .init(
                "userId", .required, meaning: "The person's ID, unique in the district",
                format: "Text, 1–64 of A–Z a–z 0–9 . _ -; leading zeros are kept (format the column as Text in Excel)",
                example: "000123"),
            .init(
                "userRole", .required, meaning: "The person's role",
                format: "student, teacher, administrator, aide or staff (any capitalisation)", example: "student"),
            .init(
                "loginId", .conditional, meaning: "The login ID (WebloginID); required for students",
                format: "Text, stored lower-case; unique in the district", example: "19chanw1"),
            .init(
                "firstName", .required, meaning: "First (given) name", format: "Any script; at most 100 characters",
                example: "Wing Yan"),
            .init(
                "lastName", .required, meaning: "Last (family) name", format: "Any script; at most 100 characters",
                example: "陳"),
            .init("middleName", .optional, meaning: "Middle name", format: "At most 100 characters", example: ""),
            .init(
                "preferredFirstName", .optional, meaning: "The name the person goes by",
                format: "At most 100 characters",
                example: "Winnie"),
            .init(
                "userEmail", .conditional, meaning: "E-mail address; required for staff, optional for students",
                format: "name@domain; unique in the file and the district (any capitalisation)",
                example: "chan.wy@school.edu.hk"),
            .init(
                "userGrade", .conditional, meaning: "The student's grade; required for students",
                format: "One of the district's grades (OneRoster: IT PR PK TK KG 01–13 PS UG Other)", example: "05"),
            .init(
                "userStatus", .optional, meaning: "Status", format: "active (default), future (incoming) or left",
                example: "active"),
            .init(
                "userDistrictId", .optional, meaning: "The district's own ID for the person", format: "Text",
                example: ""),
            .init("userStateId", .optional, meaning: "The state's ID for the person", format: "Text", example: ""),
            .init(
                "classId", .optional, meaning: "The class the row enrolls the person in; empty = no class",
                format: "Text, unique in the district; a class belongs to one school", example: "HVP001-5A"),
            .init(
                "className", .conditional, meaning: "The class's name; needed on at least one row of a new classId",
                format: "Text; rows that give a name must agree (a row giving another name than most of the class's rows is an error)", example: "5A"),
            .init(
                "classGrade", .optional, meaning: "The class's grade", format: "One of the district's grades",
                example: "05"),
            .init("classSubject", .optional, meaning: "The class's subject", format: "Text", example: "Homeroom"),
            .init(
                "primaryTeacher", .optional, meaning: "The class's primary teacher (teacher rows with a class only)",
                format: "\(booleanFormat); at most one per class", example: ""),
        ])

    public static let demographics = DataDictionary(
        fileName: "demographics.csv",
        columns: [
            .init(
                "userId", .required,
                meaning: "The student, who must be a student in the users.csv uploaded with this file",
                format: "As in users.csv", example: "000123"),
            .init(
                "birthDate", .optional, meaning: "Date of birth", format: "YYYY-MM-DD, a real date, not in the future",
                example: "2014-09-02"),
            .init("sex", .optional, meaning: "Sex", format: "male, female, other or unspecified", example: "female"),
        ]
            + booleanColumns.map {
                .init($0.name, .optional, meaning: $0.meaning, format: booleanFormat, example: "false")
            } + [
                .init(
                    "homeLanguage", .optional, meaning: "Language spoken at home",
                    format: "ISO 639 code (2 or 3 letters)", example: "yue"),
                .init(
                    "countryOfBirthCode", .optional, meaning: "Country of birth",
                    format: "ISO 3166-1 alpha-2 code (2 letters)",
                    example: "HK"),
            ])

    /// The true/false columns of demographics.csv (the domain's list, so the file and the student page agree).
    public static let booleanColumns: [(name: String, meaning: String)] = Demographics.flagColumns.map { ($0.column, $0.label) }

    public static let usersTemplate = users.template(exampleRows: [
        [
            "schoolId": "HVP001", "schoolName": "Harbour View Primary School", "userId": "000123",
            "userRole": "student",
            "loginId": "19chanw1", "firstName": "Wing Yan", "lastName": "陳", "preferredFirstName": "Winnie",
            "userGrade": "05",
            "classId": "HVP001-5A", "className": "5A", "classGrade": "05", "classSubject": "Homeroom",
        ],
        [
            "schoolId": "HVP001", "userId": "T0042", "userRole": "teacher", "firstName": "José", "lastName": "García",
            "userEmail": "jose.garcia@school.edu.hk", "classId": "HVP001-5A", "primaryTeacher": "true",
        ],
    ])

    public static let demographicsTemplate = demographics.template(exampleRows: [
        [
            "userId": "000123", "birthDate": "2014-09-02", "sex": "female", "asian": "true", "homeLanguage": "yue",
            "countryOfBirthCode": "HK",
        ],
        [
            "userId": "000124", "birthDate": "2014-03-17", "sex": "male", "englishLanguageLearner": "true",
            "homeLanguage": "en",
        ],
    ])
}
