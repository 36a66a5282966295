import BatchCore
import BatchServer
import BatchTestSupport
import Foundation
import Testing
import Vapor
import VaporTesting

@Suite("HTTP: roles, scope, CSRF and sign-in on SQLite and PostgreSQL")
struct AccessHTTPTests {
    @Test("GET /healthz answers ok when the database is reachable", arguments: TestDatabase.all)
    func health(database: TestDatabase) async throws {
        try await TestApp.with(database) { t in
            try await t.app.testing().test(.GET, "/healthz") { res in
                #expect(res.status == .ok)
                #expect(res.body.string == #"{"status":"ok"}"#)
            }
        }
    }

    @Test("a viewer token gets 403 from POST /api/v1/batches, in the JSON error shape", arguments: TestDatabase.all)
    func viewerCannotCreateBatches(database: TestDatabase) async throws {
        try await TestApp.with(database) { t in
            let token = try await t.token("viewer")
            try await t.app.testing().test(.POST, "/api/v1/batches", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
                try req.content.encode(["kind": "roster"], as: .json)
            }, afterResponse: { res in
                #expect(res.status == .forbidden)
                let body = try res.content.decode(ErrorJSON.self)
                #expect(body.error.code == "forbidden")
                #expect(body.error.message.contains("role"))
            })
            // An admin may.
            let admin = try await t.token("admin")
            try await t.app.testing().test(.POST, "/api/v1/batches", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: admin)
                try req.content.encode(["kind": "roster"], as: .json)
            }, afterResponse: { res in
                #expect(res.status == .created)
                #expect(res.body.string.contains(#""status":"draft""#))
            })
        }
    }

    @Test("an account scoped to school N gets 404 for a student of school S, through the API and the pages", arguments: TestDatabase.all)
    func scope(database: TestDatabase) async throws {
        try await TestApp.with(database) { t in
            let token = try await t.token("northclerk")
            try await t.app.testing().test(.GET, "/api/v1/students/0002", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
            }, afterResponse: { res in
                #expect(res.status == .notFound)
                let decoded = try res.content.decode(ErrorJSON.self)
                #expect(decoded.error.code == "not_found")
            })
            try await t.app.testing().test(.GET, "/api/v1/students/0001", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
            }, afterResponse: { res in
                #expect(res.status == .ok)
            })
            try await t.app.testing().test(.GET, "/api/v1/students", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
            }, afterResponse: { res in
                #expect(res.body.string.contains("0001") && !res.body.string.contains("0002"))
            })
            try await t.app.testing().test(.GET, "/api/v1/students?schoolId=S", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
            }, afterResponse: { res in
                #expect(res.status == .notFound, "filtering by a school outside scope is 404 too")
            })
            let browser = try await t.signIn("northclerk")
            try await t.app.testing().test(.GET, "/students/0002", beforeRequest: { req in
                req.headers.replaceOrAdd(name: .cookie, value: browser.cookie)
            }, afterResponse: { res in
                #expect(res.status == .notFound)
                #expect(res.body.string.contains("No such student"))
                #expect(!res.body.string.contains("Sam"))
            })
            try await t.app.testing().test(.GET, "/students/0001", beforeRequest: { req in
                req.headers.replaceOrAdd(name: .cookie, value: browser.cookie)
            }, afterResponse: { res in
                #expect(res.status == .ok)
                #expect(res.body.string.contains("Wing Yan Chan"))
            })
        }
    }

    @Test("a form post without the CSRF token, or from another site, is refused", arguments: TestDatabase.all)
    func csrf(database: TestDatabase) async throws {
        try await TestApp.with(database) { t in
            let browser = try await t.signIn("admin")
            let form = ["schoolID": "W", "name": "West School"]
            try await t.app.testing().test(.POST, "/schools", beforeRequest: { req in
                req.headers.replaceOrAdd(name: .cookie, value: browser.cookie)
                try req.content.encode(form, as: .urlEncodedForm)
            }, afterResponse: { res in
                #expect(res.status == .forbidden)
                #expect(res.body.string.contains("did not come from SchoolBatch"))
            })
            try await t.app.testing().test(.POST, "/schools", beforeRequest: { req in
                req.headers.replaceOrAdd(name: .cookie, value: browser.cookie)
                req.headers.replaceOrAdd(name: .origin, value: "https://evil.example")
                req.headers.replaceOrAdd(name: .host, value: "schoolbatch.local")
                try req.content.encode(form.merging(["_csrf": browser.csrf]) { $1 }, as: .urlEncodedForm)
            }, afterResponse: { res in
                #expect(res.status == .forbidden)
            })
            #expect(try await t.services.store.school(id: "W") == nil, "nothing was created")
            try await t.app.testing().test(.POST, "/schools", beforeRequest: { req in
                req.headers.replaceOrAdd(name: .cookie, value: browser.cookie)
                try req.content.encode(form.merging(["_csrf": browser.csrf]) { $1 }, as: .urlEncodedForm)
            }, afterResponse: { res in
                #expect(res.status == .seeOther)
            })
            #expect(try await t.services.store.school(id: "W")?.name == "West School")
        }
    }

    @Test("repeated failed sign-ins are refused for a while, even with the right password", arguments: TestDatabase.all)
    func throttling(database: TestDatabase) async throws {
        try await TestApp.with(database) { t in
            for _ in 0..<5 {
                try await t.app.testing().test(.POST, "/api/v1/auth/token", beforeRequest: { req in
                    try req.content.encode(["username": "admin", "password": "wrong-password"], as: .json)
                }, afterResponse: { res in
                    #expect(res.status == .unauthorized)
                    let decoded = try res.content.decode(ErrorJSON.self)
                #expect(decoded.error.code == "wrong_credentials")
                })
            }
            try await t.app.testing().test(.POST, "/api/v1/auth/token", beforeRequest: { req in
                try req.content.encode(["username": "admin", "password": TestApp.password], as: .json)
            }, afterResponse: { res in
                #expect(res.status == .tooManyRequests)
                let decoded = try res.content.decode(ErrorJSON.self)
                #expect(decoded.error.message.contains("minute"))
            })
            // Another username is not affected.
            try await t.app.testing().test(.POST, "/api/v1/auth/token", beforeRequest: { req in
                try req.content.encode(["username": "viewer", "password": TestApp.password], as: .json)
            }, afterResponse: { res in
                #expect(res.status == .created)
                #expect(res.body.string.contains("sb_"))
            })
        }
    }

    @Test("a page asks an anonymous visitor to sign in and comes back after", arguments: [TestDatabase.sqlite])
    func signInRedirect(database: TestDatabase) async throws {
        try await TestApp.with(database) { t in
            try await t.app.testing().test(.GET, "/students?grade=01") { res in
                #expect(res.status == .seeOther)
                #expect(res.headers.first(name: .location) == "/login?next=%2Fstudents%3Fgrade%3D01")
            }
            try await t.app.testing().test(.GET, "/api/v1/students") { res in
                #expect(res.status == .unauthorized)
            }
        }
    }

    @Test("the home page shows each role only its batch updates", arguments: [TestDatabase.sqlite])
    func home(database: TestDatabase) async throws {
        try await TestApp.with(database) { t in
            let clerk = try await t.signIn("northclerk")
            try await t.app.testing().test(.GET, "/", beforeRequest: { req in
                req.headers.replaceOrAdd(name: .cookie, value: clerk.cookie)
            }, afterResponse: { res in
                let html = res.body.string
                #expect(html.contains("Student Photo") && html.contains("Student Email"))
                #expect(!html.contains("Roster batch upload"))
                #expect(!html.contains(">Accounts<"), "no admin navigation for a clerk")
            })
        }
    }

    @Test("bad input gets a clear JSON error, never a 500", arguments: [TestDatabase.sqlite])
    func badInput(database: TestDatabase) async throws {
        try await TestApp.with(database) { t in
            let admin = try await t.token("admin")
            let cases: [(String, HTTPStatus, String)] = [
                (#"{"kind":"spaceships"}"#, .unprocessableEntity, "invalid_input"),
                (#"{"kind":"roster","options":{"mode":"replace-all"}}"#, .unprocessableEntity, "invalid_input"),
                (#"{"kind": "#, .badRequest, "malformed_request"),
                (#"{"nokind":1}"#, .badRequest, "malformed_request"),
            ]
            for (body, status, code) in cases {
                try await t.app.testing().test(.POST, "/api/v1/batches", beforeRequest: { req in
                    req.headers.bearerAuthorization = .init(token: admin)
                    req.headers.contentType = .json
                    req.body = ByteBuffer(string: body)
                }, afterResponse: { res in
                    #expect(res.status == status, "\(body)")
                    let decoded = try res.content.decode(ErrorJSON.self)
                #expect(decoded.error.code == code, "\(body)")
                })
            }
            try await t.app.testing().test(.PATCH, "/api/v1/settings", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: admin)
                try req.content.encode(["changeThreshold": 400], as: .json)
            }, afterResponse: { res in
                #expect(res.status == .unprocessableEntity)
                let decoded = try res.content.decode(ErrorJSON.self)
                #expect(decoded.error.details.first?.contains("changeThreshold") == true)
            })
        }
    }

    @Test("the OpenAPI document describes every /api/v1 route that exists", arguments: [TestDatabase.sqlite])
    func openAPI(database: TestDatabase) async throws {
        try await TestApp.with(database) { t in
            var document: [String: Any] = [:]
            try await t.app.testing().test(.GET, "/openapi.json") { res in
                #expect(res.status == .ok)
                document = try #require(try JSONSerialization.jsonObject(with: Data(res.body.string.utf8)) as? [String: Any])
            }
            let paths = try #require(document["paths"] as? [String: [String: Any]])
            var documented: Set<String> = []
            for (path, operations) in paths { for method in operations.keys { documented.insert("\(method.uppercased()) \(path)") } }
            var served: Set<String> = []
            for route in t.app.routes.all {
                let path = "/" + route.path.map { component -> String in
                    if case .parameter(let name) = component { return "{\(name)}" }
                    return component.description
                }.joined(separator: "/")
                guard path.hasPrefix("/api/v1") || path == "/healthz" else { continue }
                served.insert("\(route.method.rawValue) \(path)")
            }
            #expect(served.subtracting(documented).isEmpty, "undocumented: \(served.subtracting(documented).sorted())")
            #expect(documented.subtracting(served).isEmpty, "documented but missing: \(documented.subtracting(served).sorted())")
        }
    }
}

@Suite("HTTP: pages a system administrator uses")
struct AdminPagesHTTPTests {
    @Test("a school without an ID closes the gate, and Schools and the home page say which and why")
    func gateOnPages() async throws {
        try await TestApp.with(.sqlite) { t in
            let admin = try await t.signIn("admin")
            try await t.app.testing().test(.POST, "/schools/north", beforeRequest: { req in
                req.headers.replaceOrAdd(name: .cookie, value: admin.cookie)
                try req.content.encode(["schoolID": "", "name": "North School", "_csrf": admin.csrf], as: .urlEncodedForm)
            }, afterResponse: { res in
                #expect(res.status == .seeOther)
            })
            try await t.app.testing().test(.GET, "/schools", beforeRequest: { req in
                req.headers.replaceOrAdd(name: .cookie, value: admin.cookie)
            }, afterResponse: { res in
                let html = res.body.string
                #expect(html.contains("Not available"))
                #expect(html.contains("1 school needs attention before rosters can be uploaded."))
                #expect(html.contains("<strong>North School</strong> has no school ID"))
                #expect(html.contains(#"<span class="badge bad">missing</span>"#))
            })
            try await t.app.testing().test(.GET, "/", beforeRequest: { req in
                req.headers.replaceOrAdd(name: .cookie, value: admin.cookie)
            }, afterResponse: { res in
                #expect(res.body.string.contains("North School has no school ID"))
            })
        }
    }

    @Test("accounts, account edit, audit and staff pages render for an administrator")
    func adminPagesRender() async throws {
        try await TestApp.with(.sqlite) { t in
            let admin = try await t.signIn("admin")
            for path in ["/accounts", "/schools/north", "/audit", "/staff", "/students", "/students/0001"] {
                try await t.app.testing().test(.GET, path, beforeRequest: { req in
                    req.headers.replaceOrAdd(name: .cookie, value: admin.cookie)
                }, afterResponse: { res in
                    #expect(res.status == .ok, "\(path)")
                })
            }
            let accountID = try #require(try await t.services.store.credentials(username: "viewer")?.account.id)
            try await t.app.testing().test(.GET, "/accounts/\(accountID.rawValue)", beforeRequest: { req in
                req.headers.replaceOrAdd(name: .cookie, value: admin.cookie)
            }, afterResponse: { res in
                #expect(res.status == .ok)
                #expect(res.body.string.contains("Account <code>viewer</code>"))
            })
        }
    }

    @Test("an administrator creates a school-scoped account through the form")
    func createScopedAccount() async throws {
        try await TestApp.with(.sqlite) { t in
            let admin = try await t.signIn("admin")
            try await t.app.testing().test(.POST, "/accounts", beforeRequest: { req in
                req.headers.replaceOrAdd(name: .cookie, value: admin.cookie)
                req.headers.contentType = .urlEncodedForm
                req.body = ByteBuffer(string: "_csrf=\(admin.csrf)&username=Ms.Lam&displayName=Ms%20Lam&role=viewer&scope=schools&schools%5B%5D=south&password=long-enough-pass")
            }, afterResponse: { res in
                #expect(res.status == .seeOther)
            })
            let account = try #require(try await t.services.store.credentials(username: "ms.lam")?.account)
            #expect(account.scope == .schools(["south"]))
            #expect(account.role == .viewer)
            let audit = try await t.services.store.auditEntries(.init(action: "account.create"))
            #expect(audit.items.contains { $0.targetID == "ms.lam" && $0.actorName == "admin" })
        }
    }
}
