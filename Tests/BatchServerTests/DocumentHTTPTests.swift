import BatchCore
import BatchServer
import BatchStore
import BatchTestSupport
import Foundation
import Testing
import Vapor
import VaporTesting

@Suite("HTTP: document batches, document downloads and types, on SQLite and PostgreSQL")
struct DocumentHTTPTests {
    struct Created: Decodable { var id: String }
    struct Doc: Decodable { var documentId: String; var fileName: String; var documentType: String; var download: String; var current: Bool }

    static func create(_ t: TestApp, token: String, options: [String: String]) async throws -> (HTTPStatus, String, ErrorJSON?) {
        var result: (HTTPStatus, String, ErrorJSON?) = (.ok, "", nil)
        struct Body: Encodable { var kind: String; var options: [String: String] }
        try await t.app.testing().test(.POST, "/api/v1/batches", beforeRequest: { req in
            req.headers.bearerAuthorization = .init(token: token)
            try req.content.encode(Body(kind: "documents", options: options), as: .json)
        }, afterResponse: { res in
            result = (res.status, (try? res.content.decode(Created.self).id) ?? "", try? res.content.decode(ErrorJSON.self))
        })
        return result
    }

    static func put(_ t: TestApp, token: String, batch: String, name: String, bytes: Data) async throws -> HTTPStatus {
        var status = HTTPStatus.ok
        try await t.app.testing().test(.PUT, "/api/v1/batches/\(batch)/files/\(name.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed)!)", beforeRequest: { req in
            req.headers.bearerAuthorization = .init(token: token)
            req.body = ByteBuffer(data: bytes)
        }, afterResponse: { res in status = res.status })
        return status
    }

    @Test("settings are checked; a 20 MB + 1 byte PDF is 413; a batch applies and its documents download as attachments, listed and zipped", arguments: TestDatabase.all)
    func documents(database: TestDatabase) async throws {
        try await TestApp.with(database) { t in
            let token = try await t.token("admin")
            let (badStatus, _, bad) = try await Self.create(t, token: token, options: ["documentType": "Diploma", "schoolYear": "2025"])
            #expect(badStatus == .unprocessableEntity)
            #expect(bad?.error.details.count == 2)
            let (status, id, _) = try await Self.create(
                t, token: token, options: ["documentType": "Report Card", "schoolYear": "2025-2026", "term": "T1"])
            #expect(status == .created)

            var big = PDFFixture.make("big")
            big.append(Data(count: 20 * 1024 * 1024 + 1 - big.count))
            #expect(try await Self.put(t, token: token, batch: id, name: "19chanw1.pdf", bytes: big) == .payloadTooLarge)
            #expect(try await Self.put(t, token: token, batch: id, name: "19chanw1_T1.pdf", bytes: PDFFixture.make("Chan")) == .created)
            #expect(try await Self.put(t, token: token, batch: id, name: "19lees1 - report.pdf", bytes: PDFFixture.jpegBytes) == .created)
            #expect(try await Self.put(t, token: token, batch: id, name: "19chanw1 - scan.pdf", bytes: PDFFixture.jpegBytes) == .created)
            // Two files with one problem are one kind of problem, not one a file (each file is its own item's name),
            // whether the kinds were kept with the plan or are counted from the stored items.
            struct Kind: Decodable { var code: String; var file: String?; var rows: Int }
            var kinds: [Kind] = []
            try await t.app.testing().test(.GET, "/api/v1/batches/\(id)/issue-kinds", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
            }, afterResponse: { res in kinds = try res.content.decode([Kind].self) })
            #expect(kinds.count == 1 && kinds.first?.rows == 2 && kinds.first?.file == nil, "\(kinds)")
            _ = try await t.services.store.backend.write { db in try db.execute("UPDATE batches SET issue_kinds = NULL", []) }
            let counted = try await t.services.store.issueKinds(of: BatchID(rawValue: id))
            #expect(counted.count == 1 && counted.first?.rows == 2 && counted.first?.file == nil, "\(counted)")

            try await t.app.testing().test(.POST, "/api/v1/batches/\(id)/submit", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
                try req.content.encode(["confirm": true, "allowMassChanges": true], as: .json)
            }, afterResponse: { res in #expect(res.status == .accepted) })
            #expect(try await JobWorker(engine: t.services.engine, name: "w").runNext())

            var documents: [Doc] = []
            try await t.app.testing().test(.GET, "/api/v1/students/0001/documents", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
            }, afterResponse: { res in
                #expect(res.status == .ok)
                documents = try res.content.decode([Doc].self)
            })
            #expect(documents.map(\.fileName) == ["19chanw1_T1.pdf"])
            #expect(documents.first?.documentType == "Report Card")
            try await t.app.testing().test(.GET, try #require(documents.first?.download), beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
            }, afterResponse: { res in
                #expect(res.status == .ok)
                #expect(res.headers.first(name: "X-Content-Type-Options") == "nosniff")
                #expect(res.headers.first(name: .contentDisposition)?.hasPrefix("attachment;") == true)
                #expect(res.headers.contentType?.description == "application/pdf")
                #expect(Data(buffer: res.body) == PDFFixture.make("Chan"))
            })
            // The JPEG renamed .pdf was not stored for student 0002.
            try await t.app.testing().test(.GET, "/api/v1/students/0002/documents", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
            }, afterResponse: { res in
                let list = try res.content.decode([Doc].self)
                #expect(list.isEmpty)
            })

            // A clerk of North cannot see South's student, and a viewer cannot read documents at all.
            let clerk = try await t.token("northclerk")
            try await t.app.testing().test(.GET, "/api/v1/students/0002/documents", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: clerk)
            }, afterResponse: { res in #expect(res.status == .notFound) })
            let viewer = try await t.token("viewer")
            try await t.app.testing().test(.GET, try #require(documents.first?.download), beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: viewer)
            }, afterResponse: { res in #expect(res.status == .forbidden) })

            // The group download: the document under its pattern name, index.csv, and missing.csv with 0002.
            try await t.app.testing().test(
                .GET, "/api/v1/documents/export.zip?documentType=Report%20Card&schoolYear=2025-2026&namePattern=%7BloginId%7D_%7Bterm%7D",
                beforeRequest: { req in req.headers.bearerAuthorization = .init(token: token) },
                afterResponse: { res in
                    #expect(res.status == .ok)
                    let files = try PhotoHTTPTests.entries(Data(buffer: res.body))
                    #expect(Set(files.keys) == ["19chanw1_T1.pdf", "index.csv", "missing.csv"])
                    #expect(String(decoding: try #require(files["missing.csv"]), as: UTF8.self).contains("0002,19lees1"))
                })
        }
    }

    @Test("the batch page offers suggestions and a picker for an unmatched file; matching by login ID works; types are managed by admins", arguments: TestDatabase.all)
    func pickerAndTypes(database: TestDatabase) async throws {
        try await TestApp.with(database) { t in
            let token = try await t.token("admin")
            let (_, id, _) = try await Self.create(t, token: token, options: ["documentType": "Report Card", "schoolYear": "2025-2026"])
            #expect(try await Self.put(t, token: token, batch: id, name: "19chanw2.pdf", bytes: PDFFixture.make("x")) == .created)
            let session = try await t.signIn("admin")
            try await t.app.testing().test(.GET, "/uploads/\(id)", beforeRequest: { req in
                req.headers.replaceOrAdd(name: .cookie, value: session.cookie)
            }, afterResponse: { res in
                let html = res.body.string
                #expect(html.contains("no student in your schools has the login ID “19chanw2”"))
                #expect(html.contains("19chanw1 · Chan, Wing Yan"), "a suggestion")
                #expect(html.contains("data-student-search"))
            })
            var item = 0
            try await t.app.testing().test(.GET, "/api/v1/batches/\(id)/items", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
            }, afterResponse: { res in
                struct Page: Decodable { struct Item: Decodable { var id: Int }; var items: [Item] }
                item = try res.content.decode(Page.self).items.first?.id ?? 0
            })
            try await t.app.testing().test(.POST, "/uploads/\(id)/items/\(item)", beforeRequest: { req in
                req.headers.replaceOrAdd(name: .cookie, value: session.cookie)
                try req.content.encode(["_csrf": session.csrf, "student": "19CHANW1"], as: .urlEncodedForm)
            }, afterResponse: { res in #expect(res.status == .seeOther) })
            let matched = try await t.services.store.item(Int64(item), of: BatchID(rawValue: id))
            #expect(matched?.state == .ready)
            #expect(matched?.target == "0001")

            try await t.app.testing().test(.POST, "/settings/document-types", beforeRequest: { req in
                req.headers.replaceOrAdd(name: .cookie, value: session.cookie)
                try req.content.encode(["_csrf": session.csrf, "add": "Learning Plan"], as: .urlEncodedForm)
            }, afterResponse: { res in #expect(res.status == .seeOther) })
            #expect(try await t.services.store.settings().documentTypes == ["Assessment Report", "Report Card", "Learning Plan"])
            try await t.app.testing().test(.POST, "/settings/document-types", beforeRequest: { req in
                req.headers.replaceOrAdd(name: .cookie, value: session.cookie)
                try req.content.encode(["_csrf": session.csrf, "add": "report card"], as: .urlEncodedForm)
            }, afterResponse: { res in
                #expect(res.status == .unprocessableEntity)
                #expect(res.body.string.contains("is in the list twice"))
            })
            let clerk = try await t.signIn("northclerk")
            try await t.app.testing().test(.GET, "/settings/document-types", beforeRequest: { req in
                req.headers.replaceOrAdd(name: .cookie, value: clerk.cookie)
            }, afterResponse: { res in #expect(res.status == .forbidden) })
        }
    }
}
