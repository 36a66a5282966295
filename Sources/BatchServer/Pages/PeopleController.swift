import BatchCore
import BatchStore
import Vapor

/// The Students and Staff lists (search, filters, paging) and a person's page.
struct PeopleController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("students", use: students)
        routes.get("staff", use: staff)
        routes.get("students", "users.csv", use: studentsCSV)
        routes.get("staff", "users.csv", use: staffCSV)
        routes.get("students", ":userId", use: student)
        routes.get("staff", ":userId", use: staffMember)
    }

    struct Option: Encodable {
        var value: String
        var label: String
        var selected: Bool
    }

    struct Row: Encodable {
        var userID: String
        var loginID: String
        var name: String
        var role: String
        var grade: String
        var classes: String
        var schools: String
        var status: String
        var statusCode: String
        var email: String
        var hasPhoto: Bool
        var link: String
    }

    struct ListPage: Encodable {
        var layout: LayoutContext
        var isStudents: Bool
        var basePath: String
        var rows: [Row]
        var total: Int
        var firstShown: Int
        var lastShown: Int
        var previousLink: String?
        var nextLink: String?
        var schools: [Option]
        var grades: [Option]
        var classes: [Option]
        var statuses: [Option]
        var text: String
        var filtered: Bool
        /// People can be ticked: for their photos (students) and as users.csv.
        var canChoose: Bool
        var canExportPhotos: Bool
        var canExportRoster: Bool
        /// users.csv of everyone matching the filters.
        var csvLink: String
    }

    /// The list filters as they appear in the page's query string.
    struct Filters: Content {
        var q: String?
        var school: String?
        var grade: String?
        var classId: String?
        var status: String?
        var page: Int?

        func query(kind: PersonQuery.Kind, scope: AccessScope, pageSize: Int = 50) -> PersonQuery {
            PersonQuery(
                kind: kind, scope: scope, schoolKey: school.flatMap { $0.isEmpty ? nil : SchoolKey(rawValue: $0) },
                grade: grade?.isEmpty == false ? grade : nil,
                classID: classId.flatMap { $0.isEmpty ? nil : ClassID(rawValue: $0) },
                status: status.flatMap(UserStatus.init(rawValue:)), text: q, limit: pageSize,
                offset: max(0, (page ?? 1) - 1) * pageSize)
        }

        func link(base: String, page: Int) -> String {
            var items: [URLQueryItem] = []
            for (name, value) in [("q", q), ("school", school), ("grade", grade), ("classId", classId), ("status", status)] {
                if let value, !value.isEmpty { items.append(URLQueryItem(name: name, value: value)) }
            }
            if page > 1 { items.append(URLQueryItem(name: "page", value: String(page))) }
            var components = URLComponents()
            components.path = base
            components.queryItems = items.isEmpty ? nil : items
            return components.string ?? base
        }
    }

    static func row(_ item: PersonListRow, base: String) -> Row {
        let person = item.person
        return Row(
            userID: person.userID.rawValue, loginID: person.loginID?.rawValue ?? "", name: person.displayName,
            role: person.role.rawValue.capitalized, grade: person.grade ?? "", classes: item.classNames.joined(separator: ", "),
            schools: item.schoolNames.joined(separator: ", "), status: person.status.label, statusCode: person.status.rawValue,
            email: person.email ?? "", hasPhoto: item.hasPhoto,
            link: "\(base)/\(person.userID.rawValue.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? "")")
    }

    func students(req: Request) async throws -> View { try await list(req, kind: .students) }
    func staff(req: Request) async throws -> View { try await list(req, kind: .staff) }

    func studentsCSV(req: Request) async throws -> Response { try await csv(req, kind: .students) }
    func staffCSV(req: Request) async throws -> Response { try await csv(req, kind: .staff) }

    /// The list's people as users.csv (Download your data, SPEC §4.5): the ticked ones (`userIds[]`), or everyone
    /// matching the filters; with a school filter, only that school's rows.
    private func csv(_ req: Request, kind: PersonQuery.Kind) async throws -> Response {
        let account = try req.account(with: .rosterExport)
        let filters = try req.query.decode(Filters.self)
        var people = filters.query(kind: kind, scope: account.scope)
        people.anyOfPeople = ((try? req.query.get([String].self, at: "userIds")) ?? []).map(UserID.init(rawValue:))
        let export = Store.RosterExportQuery(scope: account.scope, schoolKey: people.schoolKey, include: kind, people: people)
        return try await ExportsAPIController.csv(req, name: kind == .students ? "students-users.csv" : "staff-users.csv") { sink in
            try await req.store.exportRoster(export, users: sink)
        }
    }

    private func list(_ req: Request, kind: PersonQuery.Kind) async throws -> View {
        let account = try req.account(with: kind == .students ? .viewStudents : .viewStaff)
        let filters = try req.query.decode(Filters.self)
        let query = filters.query(kind: kind, scope: account.scope)
        let base = kind == .students ? "/students" : "/staff"
        let page = try await req.store.people(query)
        let schools = try await req.store.schools().filter { account.scope.allows($0.key) }
        let classes = try await req.store.classes(scope: account.scope, schoolKey: query.schoolKey)
        let settings = try await req.store.settings()
        let currentPage = query.offset / query.limit + 1
        let context = ListPage(
            layout: LayoutContext(request: req, title: kind == .students ? "Students" : "Staff", districtName: settings.districtName),
            isStudents: kind == .students, basePath: base, rows: page.items.map { Self.row($0, base: base) },
            total: page.total, firstShown: page.items.isEmpty ? 0 : query.offset + 1,
            lastShown: query.offset + page.items.count,
            previousLink: currentPage > 1 ? filters.link(base: base, page: currentPage - 1) : nil,
            nextLink: query.offset + page.items.count < page.total ? filters.link(base: base, page: currentPage + 1) : nil,
            schools: schools.map { Option(value: $0.key.rawValue, label: $0.name, selected: $0.key == query.schoolKey) },
            grades: settings.gradeLevels.map { Option(value: $0, label: $0, selected: $0 == query.grade) },
            classes: classes.map {
                Option(value: $0.schoolClass.classID.rawValue, label: "\($0.schoolClass.name) — \($0.schoolName)",
                       selected: $0.schoolClass.classID == query.classID)
            },
            statuses: UserStatus.allCases.map { Option(value: $0.rawValue, label: $0.label, selected: $0 == query.status) },
            text: filters.q ?? "",
            filtered: [filters.q, filters.school, filters.grade, filters.classId, filters.status].contains { !($0 ?? "").isEmpty },
            canChoose: (kind == .students && account.can(.photoExport)) || account.can(.rosterExport),
            canExportPhotos: kind == .students && account.can(.photoExport), canExportRoster: account.can(.rosterExport),
            csvLink: filters.link(base: base + "/users.csv", page: 1))
        return try await req.view.render("people", context)
    }

    struct Field: Encodable {
        var label: String
        var value: String
    }

    struct ClassRow: Encodable {
        var classID: String
        var name: String
        var school: String
        var grade: String
        var subject: String
        var role: String
    }

    struct PersonPage: Encodable {
        var layout: LayoutContext
        var backLink: String
        var backLabel: String
        var name: String
        var isStudent: Bool
        var userID: String
        var photoURL: String?
        var photoNote: String
        var fields: [Field]
        var classes: [ClassRow]
        var demographics: [Field]
        var showDocuments = false
        var documents: [DocumentRow] = []
    }

    struct DocumentRow: Encodable {
        var documentType: String
        var schoolYear: String
        var term: String
        var title: String
        var uploadedBy: String
        var uploadedAt: String
        var fileName: String
        var size: String
        var encrypted: Bool
        var link: String
    }

    static func personPage(request: Request, detail: PersonDetail) -> PersonPage {
        let person = detail.person
        let isStudent = person.role == .student
        var fields: [Field] = [
            Field(label: "userId", value: person.userID.rawValue),
            Field(label: "Role", value: person.role.rawValue.capitalized),
        ]
        if let login = person.loginID { fields.append(Field(label: "loginId (WebloginID)", value: login.rawValue)) }
        fields.append(Field(label: "First name", value: person.firstName))
        if let middle = person.middleName, !middle.isEmpty { fields.append(Field(label: "Middle name", value: middle)) }
        fields.append(Field(label: "Last name", value: person.lastName))
        if let preferred = person.preferredFirstName, !preferred.isEmpty { fields.append(Field(label: "Preferred first name", value: preferred)) }
        if let grade = person.grade { fields.append(Field(label: "Grade", value: grade)) }
        fields.append(Field(label: "Status", value: person.status.label))
        fields.append(Field(label: "E-mail", value: person.email ?? "—"))
        fields.append(Field(label: "School", value: detail.schools.map { "\($0.name) (\($0.displayID))" }.joined(separator: ", ")))
        if let district = person.districtID { fields.append(Field(label: "District ID", value: district)) }
        if let state = person.stateID { fields.append(Field(label: "State ID", value: state)) }
        var demographics: [Field] = []
        if let d = detail.demographics {
            demographics.append(Field(label: "Birth date", value: d.birthDate ?? "—"))
            demographics.append(Field(label: "Sex", value: d.sex?.capitalized ?? "—"))
            for (column, label) in Demographics.flagColumns {
                if let flag = d.flags[column] { demographics.append(Field(label: label, value: flag ? "Yes" : "No")) }
            }
            demographics.append(Field(label: "Home language", value: d.homeLanguage ?? "—"))
            demographics.append(Field(label: "Country of birth", value: d.countryOfBirthCode ?? "—"))
        }
        let encodedID = person.userID.rawValue.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? ""
        let photoNote = detail.photo.map { "\($0.width) × \($0.height) px, version \($0.version)" } ?? "No photo yet."
        return PersonPage(
            layout: LayoutContext(request: request, title: "\(person.firstName) \(person.lastName)"),
            backLink: isStudent ? "/students" : "/staff", backLabel: isStudent ? "Students" : "Staff",
            name: "\(person.firstName) \(person.lastName)", isStudent: isStudent, userID: person.userID.rawValue,
            photoURL: detail.photo.map { _ in "/api/v1/students/\(encodedID)/photo?size=original" }, photoNote: photoNote,
            fields: fields,
            classes: detail.classes.map {
                ClassRow(
                    classID: $0.schoolClass.classID.rawValue, name: $0.schoolClass.name, school: $0.schoolName,
                    grade: $0.schoolClass.grade ?? "", subject: $0.schoolClass.subject ?? "",
                    role: $0.role == .teacher && $0.primaryTeacher ? "Primary teacher" : $0.role.rawValue.capitalized)
            },
            demographics: demographics)
    }

    func student(req: Request) async throws -> View { try await person(req, students: true) }
    func staffMember(req: Request) async throws -> View { try await person(req, students: false) }

    private func person(_ req: Request, students: Bool) async throws -> View {
        let account = try req.account(with: students ? .viewStudents : .viewStaff)
        guard let id = req.parameters.get("userId"),
            let detail = try await req.store.person(UserID(rawValue: id), scope: account.scope),
            (detail.person.role == .student) == students
        else { throw AppError.notFound("No such \(students ? "student" : "staff member") in the schools you can see.") }
        var page = Self.personPage(request: req, detail: detail)
        if students, account.can(.documentBatch) {
            page.showDocuments = true
            let encoded = detail.person.userID.rawValue.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? ""
            page.documents = (try await req.store.documents(of: detail.person.userID, scope: account.scope) ?? []).map {
                DocumentRow(
                    documentType: $0.documentType, schoolYear: $0.schoolYear, term: $0.term, title: $0.title ?? "",
                    uploadedBy: $0.uploadedByName, uploadedAt: AuditController.timeFormat.string(from: Date(millis: $0.createdAt)),
                    fileName: $0.fileName, size: ByteCountFormatter.string(fromByteCount: $0.byteSize, countStyle: .binary),
                    encrypted: $0.encrypted, link: "/students/\(encoded)/documents/\($0.documentID)")
            }
        }
        return try await req.view.render("person", page)
    }
}
