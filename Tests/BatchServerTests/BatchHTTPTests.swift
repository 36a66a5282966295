import BatchCore
import BatchServer
import BatchStore
import BatchTestSupport
import Crypto
import Foundation
import Testing
import Vapor
import VaporTesting

@Suite("HTTP: receiving files, preview, submit, undo on SQLite and PostgreSQL")
struct BatchHTTPTests {
    struct Created: Decodable { var id: String; var status: String }
    struct Received: Decodable {
        struct File: Decodable { var sha256: String; var byteSize: Int64; var fileName: String; var items: Int }
        var file: File
        var counts: ItemCounts
    }
    struct BatchBody: Decodable { var status: String; var counts: ItemCounts }
    struct ItemsPage: Decodable {
        struct Item: Decodable { var state: String; var issues: [BatchIssue]; var changes: [FieldChange] }
        var items: [Item]
        var total: Int
    }

    static func createBatch(_ t: TestApp, token: String, kind: String = "emails") async throws -> String {
        var id = ""
        try await t.app.testing().test(.POST, "/api/v1/batches", beforeRequest: { req in
            req.headers.bearerAuthorization = .init(token: token)
            try req.content.encode(["kind": kind], as: .json)
        }, afterResponse: { res in
            #expect(res.status == .created)
            id = try res.content.decode(Created.self).id
        })
        return id
    }

    @Test("a CSV sent with PUT is stored with its checksum, previewed, submitted, applied and undone", arguments: TestDatabase.all)
    func putPreviewSubmitUndo(database: TestDatabase) async throws {
        try await TestApp.with(database) { t in
            let token = try await t.token("admin")
            let id = try await Self.createBatch(t, token: token)
            let csv = "loginId,userEmail\r\n19CHANW1,wing.chan@north.example\r\n19lees1,sam.lee@south.example\r\nghost1,g@x.example\r\n"
            try await t.app.testing().test(.PUT, "/api/v1/batches/\(id)/files/emails.csv", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
                req.body = ByteBuffer(string: csv)
            }, afterResponse: { res in
                #expect(res.status == .created)
                let received = try res.content.decode(Received.self)
                #expect(received.file.sha256 == SHA256.hash(data: Data(csv.utf8)).map { String(format: "%02x", $0) }.joined())
                #expect(received.file.byteSize == Int64(csv.utf8.count))
                #expect(received.counts.ready == 2)
                #expect(received.counts.error == 1)
            })
            try await t.app.testing().test(.GET, "/api/v1/batches/\(id)/items?state=error", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
            }, afterResponse: { res in
                let page = try res.content.decode(ItemsPage.self)
                #expect(page.total == 1)
                #expect(page.items.first?.issues.first?.code == "unknown_student")
            })
            try await t.app.testing().test(.GET, "/api/v1/batches/\(id)/error-report", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
            }, afterResponse: { res in
                #expect(res.headers.contentType?.subType == "csv")
                let lines = res.body.string.split(separator: "\r\n")
                #expect(lines.first == "\u{FEFF}loginId,userEmail,rowNumber,severity,issues,howToFix")
                #expect(lines.count == 2)
                #expect(lines.last?.hasPrefix("ghost1,g@x.example,4,error,") == true)
            })
            // Without confirm: 409 with the reason.
            try await t.app.testing().test(.POST, "/api/v1/batches/\(id)/submit", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
                try req.content.encode(["confirm": false], as: .json)
            }, afterResponse: { res in
                #expect(res.status == .conflict)
                let body = try res.content.decode(ErrorJSON.self)
                #expect(body.error.message.contains("Confirm"))
            })
            for _ in 0..<2 {
                try await t.app.testing().test(.POST, "/api/v1/batches/\(id)/submit", beforeRequest: { req in
                    req.headers.bearerAuthorization = .init(token: token)
                    try req.content.encode(["confirm": true, "allowMassChanges": true], as: .json)
                }, afterResponse: { res in
                    #expect(res.status == .accepted)
                    let body = try res.content.decode(BatchBody.self)
                    #expect(body.status == "queued")
                })
            }
            let worker = JobWorker(engine: t.services.engine, name: "test")
            #expect(try await worker.runNext())
            #expect(try await worker.runNext() == false)
            #expect(try await t.services.store.batch(BatchID(rawValue: id)).status == .completedWithErrors)
            #expect(try await EngineFixture.addresses(t.services.store)["0001"] == "wing.chan@north.example")
            try await t.app.testing().test(.POST, "/api/v1/batches/\(id)/undo", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
            }, afterResponse: { res in
                #expect(res.status == .accepted)
            })
            #expect(try await worker.runNext())
            #expect(try await EngineFixture.addresses(t.services.store)["0001"] == "")
            // An undone batch cannot be undone or submitted again.
            try await t.app.testing().test(.POST, "/api/v1/batches/\(id)/cancel", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
            }, afterResponse: { res in
                #expect(res.status == .conflict)
            })
        }
    }

    @Test("a file with bad headers is refused with 422, names each header and the right one, and is not kept", arguments: TestDatabase.all)
    func badHeaders(database: TestDatabase) async throws {
        try await TestApp.with(database) { t in
            let token = try await t.token("admin")
            let id = try await Self.createBatch(t, token: token)
            try await t.app.testing().test(.PUT, "/api/v1/batches/\(id)/files/emails.csv", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
                req.body = ByteBuffer(string: "LoginId,UserEmail,colour\n19chanw1,a@b.example,red\n")
            }, afterResponse: { res in
                #expect(res.status == .unprocessableEntity)
                let body = try res.content.decode(ErrorJSON.self)
                #expect(body.error.code == "header_wrong_case")
                #expect(body.error.details.contains { $0.contains("\"UserEmail\" — did you mean \"userEmail\"?") })
                #expect(body.error.details.contains { $0.contains("\"colour\" is not a column") })
            })
            try await t.app.testing().test(.GET, "/api/v1/batches/\(id)/files", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
            }, afterResponse: { res in
                #expect(res.body.string == "[]")
            })
        }
    }

    @Test("limits: a body over the kind's limit is 413, a second file 409, a file that is not CSV 422", arguments: TestDatabase.all)
    func limits(database: TestDatabase) async throws {
        try await TestApp.with(database) { t in
            let token = try await t.token("admin")
            let id = try await Self.createBatch(t, token: token)
            try await t.app.testing().test(.PUT, "/api/v1/batches/\(id)/files/big.csv", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
                req.body = ByteBuffer(repeating: UInt8(ascii: "a"), count: 20 * 1024 * 1024 + 1)
            }, afterResponse: { res in
                #expect(res.status == .payloadTooLarge)
                let body = try res.content.decode(ErrorJSON.self)
                #expect(body.error.code == "too_large")
                #expect(body.error.message.contains("larger than 20 MB"))
            })
            let incoming = t.services.config.uploadDirectory.path
            #expect((try? FileManager.default.contentsOfDirectory(atPath: incoming)) ?? [] == [], "nothing of it is kept")
            try await t.app.testing().test(.PUT, "/api/v1/batches/\(id)/files/photo.jpg", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
                req.body = ByteBuffer(bytes: [0xFF, 0xD8, 0xFF, 0xE0])
            }, afterResponse: { res in
                #expect(res.status == .unprocessableEntity)
                let body = try res.content.decode(ErrorJSON.self)
                #expect(body.error.code == "wrong_file_type")
            })
            for (expected, name) in [(HTTPStatus.created, "one.csv"), (.conflict, "two.csv")] {
                try await t.app.testing().test(.PUT, "/api/v1/batches/\(id)/files/\(name)", beforeRequest: { req in
                    req.headers.bearerAuthorization = .init(token: token)
                    req.body = ByteBuffer(string: "loginId,userEmail\n19chanw1,w@x.example\n")
                }, afterResponse: { res in
                    #expect(res.status == expected)
                })
            }
        }
    }

    @Test("the browser form streams a multipart upload and opens the preview; a scoped clerk's other-school row is an error", arguments: TestDatabase.all)
    func multipartForm(database: TestDatabase) async throws {
        try await TestApp.with(database) { t in
            let session = try await t.signIn("northclerk")
            let boundary = "----sbtest\(UUID().uuidString.prefix(8))"
            let csv = "loginId,userEmail\n19chanw1,wing@north.example\n19lees1,sam@south.example\n"
            let body = "--\(boundary)\r\nContent-Disposition: form-data; name=\"file\"; filename=\"../../etc/emails.csv\"\r\n"
                + "Content-Type: text/csv\r\n\r\n\(csv)\r\n--\(boundary)--\r\n"
            var location = ""
            try await t.app.testing().test(.POST, "/emails?_csrf=\(session.csrf)", beforeRequest: { req in
                req.headers.replaceOrAdd(name: .cookie, value: session.cookie)
                req.headers.replaceOrAdd(name: .contentType, value: "multipart/form-data; boundary=\(boundary)")
                req.body = ByteBuffer(string: body)
            }, afterResponse: { res in
                #expect(res.status == .seeOther)
                location = res.headers.first(name: .location) ?? ""
            })
            #expect(location.hasPrefix("/uploads/"))
            try await t.app.testing().test(.GET, location, beforeRequest: { req in
                req.headers.replaceOrAdd(name: .cookie, value: session.cookie)
            }, afterResponse: { res in
                let html = res.body.string
                #expect(res.status == .ok)
                #expect(html.contains("1 to change · 1 with errors"))
                #expect(html.contains("(empty) → wing@north.example"))
                #expect(html.contains("no student in your schools has loginId &quot;19lees1&quot;"))
                #expect(html.contains(">emails.csv <"), "the client's path is dropped from the file name")
            })
            // Without the token the same form is refused.
            try await t.app.testing().test(.POST, "/emails", beforeRequest: { req in
                req.headers.replaceOrAdd(name: .cookie, value: session.cookie)
                req.headers.replaceOrAdd(name: .contentType, value: "multipart/form-data; boundary=\(boundary)")
                req.body = ByteBuffer(string: body)
            }, afterResponse: { res in
                #expect(res.status == .forbidden)
            })
        }
    }
}
