import BatchCore
import BatchServer
import BatchStore
import BatchTestSupport
import Foundation
import Testing
import Vapor
import VaporTesting

/// A configured application on a fresh database, with two schools, students in each, and accounts:
/// `admin` (system-admin), `viewer` (viewer), `northclerk` (student-records scoped to school N).
struct TestApp {
    let app: Application
    let services: AppServices
    static let password = "correct-horse-battery"

    static func with(_ database: TestDatabase, _ body: (TestApp) async throws -> Void) async throws {
        let store = try await database.makeStore()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sb-app-\(UUID().uuidString)")
        var config = AppConfig(dataDirectory: directory, bcryptCost: 4, signInFailureDelayMilliseconds: 0)
        config.resourcesDirectory = FileManager.default.currentDirectoryPath + "/"
        let services = AppServices(config: config, store: store, blobs: try FileBlobStore(root: config.blobDirectory))
        let app = try await Application.make(.testing)
        do {
            try configure(app, services: services)
            let testApp = TestApp(app: app, services: services)
            try await testApp.seed()
            try await body(testApp)
        } catch {
            try? await app.asyncShutdown()
            try? await store.close()
            throw error
        }
        try await app.asyncShutdown()
        try await store.close()
    }

    func seed() async throws {
        let store = services.store
        try await store.createSchool(School(key: "north", schoolID: "N", name: "North School"), by: .system)
        try await store.createSchool(School(key: "south", schoolID: "S", name: "South School"), by: .system)
        try await store.upsert(people: [
            Person(userID: "0001", role: .student, loginID: "19chanw1", firstName: "Wing Yan", lastName: "Chan", grade: "01", schoolKeys: ["north"]),
            Person(userID: "0002", role: .student, loginID: "19lees1", firstName: "Sam", lastName: "Lee", grade: "01", schoolKeys: ["south"]),
        ])
        for (name, role, scope) in [
            ("admin", AccountRole.systemAdmin, AccessScope.district), ("viewer", .viewer, .district),
            ("northclerk", .studentRecords, .schools(["north"])),
        ] {
            _ = try await AccountAdmin.createAccount(
                username: name, role: role.rawValue, schoolIDs: scope == .district ? [] : ["N"], password: Self.password,
                services: services)
        }
    }

    func token(_ username: String) async throws -> String {
        try await AccountAdmin.createToken(username: username, services: services)
    }

    /// Signs in through the form like a browser; returns the cookie header and the session's CSRF token.
    func signIn(_ username: String, password: String = TestApp.password) async throws -> BrowserSession {
        var anonymous = ""
        try await app.testing().test(.GET, "/login") { res in
            anonymous = try #require(res.headers.setCookie?["sb_csrf"]?.string)
        }
        var session = ""
        try await app.testing().test(.POST, "/login", beforeRequest: { req in
            req.headers.replaceOrAdd(name: .cookie, value: "sb_csrf=\(anonymous)")
            try req.content.encode(["username": username, "password": password, "_csrf": anonymous, "next": "/"], as: .urlEncodedForm)
        }, afterResponse: { res in
            #expect(res.status == .seeOther)
            session = try #require(res.headers.setCookie?["sb_session"]?.string)
        })
        var csrf = ""
        try await app.testing().test(.GET, "/", beforeRequest: { req in
            req.headers.replaceOrAdd(name: .cookie, value: "sb_session=\(session)")
        }, afterResponse: { res in
            #expect(res.status == .ok)
            csrf = try #require(Self.hiddenCSRF(in: res.body.string))
        })
        return BrowserSession(cookie: "sb_session=\(session)", csrf: csrf)
    }

    static func hiddenCSRF(in html: String) -> String? {
        guard let range = html.range(of: #"name="_csrf" value="([^"]+)""#, options: .regularExpression) else { return nil }
        return String(html[range]).components(separatedBy: "value=\"").last?.dropLast().description
    }
}

struct BrowserSession {
    var cookie: String
    var csrf: String
}

/// Reads SPEC §10's error body.
struct ErrorJSON: Decodable {
    struct Inner: Decodable {
        var code: String
        var message: String
        var details: [String]
    }
    var error: Inner
}
