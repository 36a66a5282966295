import BatchCore
import BatchStore
import Foundation
import Vapor

/// *Download your data* for scripts (SPEC §10): `GET /api/v1/exports/users.csv?schoolId=&include=students|staff|all`
/// and `GET /api/v1/exports/demographics.csv?schoolId=`, in exactly the upload format. Written to a temporary file
/// a page of people at a time, then streamed and removed.
struct ExportsAPIController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let exports = routes.grouped("exports")
        exports.get("users.csv", use: users)
        exports.get("demographics.csv", use: demographics)
    }

    struct Filters: Content {
        var schoolId: String?
        var include: String?
    }

    /// The export query of the request's filters; an unknown school or `include` value is a 422 naming it.
    static func query(_ req: Request, account: Account) async throws -> Store.RosterExportQuery {
        let filters = try req.query.decode(Filters.self)
        var query = Store.RosterExportQuery(scope: account.scope)
        if let schoolID = filters.schoolId, !schoolID.isEmpty {
            guard let school = try await req.store.school(id: SchoolID(rawValue: schoolID)), account.scope.allows(school.key) else {
                throw AppError.invalid("No school with the school ID “\(schoolID)” is among your schools.")
            }
            query.schoolKey = school.key
        }
        switch filters.include ?? "all" {
        case "all", "": query.include = .all
        case "students": query.include = .students
        case "staff": query.include = .staff
        case let other: throw AppError.invalid("include must be students, staff or all (got “\(other)”).")
        }
        return query
    }

    /// The download's name says what it holds: `users-SCH0002-students.csv`, `demographics-SCH0002.csv`, or
    /// `users.csv` for everyone (a school ID's characters other than letters, digits, `.`, `-` and `_` become `_`).
    static func downloadName(_ base: String, _ req: Request) -> String {
        let filters = try? req.query.decode(Filters.self)
        let school = filters?.schoolId.flatMap { $0.isEmpty ? nil : $0 }.map { id in
            String(id.unicodeScalars.map { $0.isASCII && (CharacterSet.alphanumerics.contains($0) || ".-_".unicodeScalars.contains($0)) ? Character($0) : "_" })
        }
        let include = base == "users" ? filters?.include.flatMap { $0 == "students" || $0 == "staff" ? $0 : nil } : nil
        return ([base] + [school, include].compactMap { $0 }).joined(separator: "-") + ".csv"
    }

    func users(req: Request) async throws -> Response {
        let account = try req.account(with: .rosterExport)
        return try await Self.csv(req, name: Self.downloadName("users", req)) { sink in
            try await req.store.exportRoster(try await Self.query(req, account: account), users: sink)
        }
    }

    func demographics(req: Request) async throws -> Response {
        let account = try req.account(with: .rosterExport)
        var query = try await Self.query(req, account: account)
        query.include = .students
        return try await Self.csv(req, name: Self.downloadName("demographics", req)) { sink in
            try await req.store.exportRoster(query, users: nil, demographics: sink)
        }
    }

    /// Writes through `write` into a temporary file and answers with it as a CSV attachment.
    static func csv(_ req: Request, name: String, _ write: (@escaping @Sendable (String) throws -> Void) async throws -> Void)
        async throws -> Response
    {
        let directory = req.application.schoolBatch.config.uploadDirectory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("export-\(UUID().uuidString).csv")
        guard FileManager.default.createFile(atPath: url.path, contents: nil) else { throw AppError.invalid("The export file could not be made.") }
        let handle = try FileHandle(forWritingTo: url)
        do {
            try await write { text in try handle.write(contentsOf: Data(text.utf8)) }
            try handle.close()
        } catch {
            try? handle.close()
            try? FileManager.default.removeItem(at: url)
            throw error
        }
        return try await GroupZip.streamAttachment(
            at: url, mediaType: HTTPMediaType(type: "text", subType: "csv", parameters: ["charset": "utf-8"]), downloadName: name,
            req: req, removeAfter: true)
    }
}
