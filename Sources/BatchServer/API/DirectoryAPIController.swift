import BatchCore
import BatchStore
import Vapor

/// `/api/v1` lists and details: students, staff, classes, schools, photos.
struct DirectoryAPIController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get("students", use: students)
        routes.get("staff", use: staff)
        routes.get("students", ":userId", use: student)
        routes.get("students", ":userId", "photo", use: photo)
        routes.get("classes", use: classes)
        routes.get("schools", use: schools)
    }

    struct ListQuery: Content {
        var q: String?
        var schoolId: String?
        var grade: String?
        var classId: String?
        var status: String?
        var limit: Int?
        var offset: Int?
    }

    /// Resolves an external school ID within the account's scope; unknown or outside scope is 404.
    static func schoolKey(_ schoolID: String?, account: Account, store: Store) async throws -> SchoolKey? {
        guard let schoolID, !schoolID.isEmpty else { return nil }
        guard let school = try await store.school(id: SchoolID(rawValue: schoolID)), account.scope.allows(school.key) else {
            throw AppError.notFound("No school with the ID “\(schoolID)” among the schools you can see.")
        }
        return school.key
    }

    func students(req: Request) async throws -> PageJSON<PersonJSON> { try await list(req, kind: .students) }
    func staff(req: Request) async throws -> PageJSON<PersonJSON> { try await list(req, kind: .staff) }

    private func list(_ req: Request, kind: PersonQuery.Kind) async throws -> PageJSON<PersonJSON> {
        let account = try req.account(with: kind == .students ? .viewStudents : .viewStaff)
        let query = try req.query.decode(ListQuery.self)
        var status: UserStatus?
        if let raw = query.status, !raw.isEmpty {
            guard let parsed = UserStatus(rawValue: raw) else {
                throw AppError(.badRequest, "invalid_filter", "status must be one of active, future, left (got “\(raw)”).")
            }
            status = parsed
        }
        let personQuery = PersonQuery(
            kind: kind, scope: account.scope,
            schoolKey: try await Self.schoolKey(query.schoolId, account: account, store: req.store),
            grade: query.grade, classID: query.classId.flatMap { $0.isEmpty ? nil : ClassID(rawValue: $0) },
            status: status, text: query.q, limit: query.limit ?? 50, offset: query.offset ?? 0)
        let page = try await req.store.people(personQuery)
        let schoolIDs = Dictionary(
            uniqueKeysWithValues: try await req.store.schools().map { ($0.key, $0.displayID) })
        return PageJSON(
            items: page.items.map {
                PersonJSON($0.person, schoolIDs: $0.person.schoolKeys.compactMap { schoolIDs[$0] }, classNames: $0.classNames, hasPhoto: $0.hasPhoto)
            }, total: page.total, limit: page.limit, offset: page.offset)
    }

    private func detail(_ req: Request) async throws -> PersonDetail {
        let account = try req.account(with: .viewStudents)
        guard let id = req.parameters.get("userId"),
            let detail = try await req.store.person(UserID(rawValue: id), scope: account.scope),
            detail.person.role == .student
        else { throw AppError.notFound("No such student in the schools you can see.") }
        return detail
    }

    func student(req: Request) async throws -> StudentDetailJSON {
        let detail = try await detail(req)
        var demographics: [String: String]?
        if let d = detail.demographics {
            var map: [String: String] = [:]
            map["birthDate"] = d.birthDate
            map["sex"] = d.sex
            map["homeLanguage"] = d.homeLanguage
            map["countryOfBirthCode"] = d.countryOfBirthCode
            for (column, _) in Demographics.flagColumns { if let flag = d.flags[column] { map[column] = String(flag) } }
            demographics = map
        }
        return StudentDetailJSON(
            person: PersonJSON(detail.person, schoolIDs: detail.schools.map(\.displayID)),
            classes: detail.classes.map {
                .init(classId: $0.schoolClass.classID.rawValue, className: $0.schoolClass.name, role: $0.role.rawValue, primaryTeacher: $0.primaryTeacher)
            },
            demographics: demographics,
            photo: detail.photo.map { .init(width: $0.width, height: $0.height, byteSize: $0.byteSize, version: $0.version, contentHash: $0.contentHash) })
    }

    func photo(req: Request) async throws -> Response {
        let detail = try await detail(req)
        let size = req.query[String.self, at: "size"] ?? "original"
        guard size == "original" || size == "thumbnail" else {
            throw AppError(.badRequest, "invalid_size", "size must be “original” or “thumbnail” (got “\(size)”).")
        }
        guard let photo = detail.photo else { throw AppError.notFound("This student has no photo yet.") }
        return try Self.jpeg(size == "thumbnail" ? photo.thumbnailKey : photo.blobKey, req: req)
    }

    /// A stored JPEG by its content key, revalidated by its ETag (a photo replaced by a batch shows at once).
    static func jpeg(_ key: String, req: Request) throws -> Response {
        guard let bytes = try req.schoolBatch.blobs.get(key) else {
            throw AppError(.notFound, "file_missing", "The stored photo file is missing. Upload the photo again.")
        }
        var headers = HTTPHeaders()
        headers.contentType = .jpeg
        headers.replaceOrAdd(name: .cacheControl, value: "private, no-cache")
        headers.replaceOrAdd(name: .eTag, value: "\"\(key)\"")
        headers.replaceOrAdd(name: "X-Content-Type-Options", value: "nosniff")
        if req.headers.first(name: .ifNoneMatch) == "\"\(key)\"" { return Response(status: .notModified, headers: headers) }
        return Response(status: .ok, headers: headers, body: .init(data: bytes))
    }

    func classes(req: Request) async throws -> [ClassJSON] {
        let account = try req.account(with: .viewClasses)
        let key = try await Self.schoolKey(req.query[String.self, at: "schoolId"], account: account, store: req.store)
        let schoolIDs = Dictionary(uniqueKeysWithValues: try await req.store.schools().map { ($0.key, $0.schoolID?.rawValue) })
        return try await req.store.classes(scope: account.scope, schoolKey: key).map {
            ClassJSON(
                classId: $0.schoolClass.classID.rawValue, schoolId: schoolIDs[$0.schoolClass.schoolKey] ?? nil,
                className: $0.schoolClass.name, classGrade: $0.schoolClass.grade, classSubject: $0.schoolClass.subject,
                students: $0.students)
        }
    }

    func schools(req: Request) async throws -> [SchoolJSON] {
        let account = try req.account()
        return try await req.store.schoolSummaries(scope: account.scope).map {
            SchoolJSON(schoolId: $0.school.schoolID?.rawValue, name: $0.school.name, students: $0.students, staff: $0.staff, classes: $0.classes)
        }
    }
}
