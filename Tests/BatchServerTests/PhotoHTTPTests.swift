import BatchCore
import BatchImaging
import BatchServer
import BatchStore
import BatchTestSupport
import Foundation
import Testing
import Vapor
import VaporTesting

@Suite("HTTP: photo batches — upload, preview with current and new photo, apply, the student's photo")
struct PhotoHTTPTests {
    struct Created: Decodable { var id: String }

    @Test("a 10 MB + 1 byte photo is 413; the preview page shows old and new side by side with the replace/add counts; the applied photo is served without its GPS data", arguments: TestDatabase.all)
    func photos(database: TestDatabase) async throws {
        try await TestApp.with(database) { t in
            let token = try await t.token("admin")
            var id = ""
            struct Body: Encodable { var kind: String }
            try await t.app.testing().test(.POST, "/api/v1/batches", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
                try req.content.encode(Body(kind: "photos"), as: .json)
            }, afterResponse: { res in
                #expect(res.status == .created)
                id = try res.content.decode(Created.self).id
            })
            var big = try PhotoFixtures.portrait(seed: 1, width: 600, height: 750)
            big.append(Data(count: PhotoRules.maxBytes + 1 - big.count))
            #expect(try await DocumentHTTPTests.put(t, token: token, batch: id, name: "19chanw1.jpg", bytes: big) == .payloadTooLarge)
            let tagged = PhotoFixtures.withExif(
                try PhotoFixtures.portrait(seed: 2, width: 600, height: 750), orientation: 1, gps: true, comment: "Studio Secret")
            #expect(try await DocumentHTTPTests.put(t, token: token, batch: id, name: "19ChanW1.JPG", bytes: tagged) == .created)
            #expect(try await DocumentHTTPTests.put(t, token: token, batch: id, name: "19lees1.jpg", bytes: PhotoFixtures.heic()) == .created)

            let browser = try await t.signIn("admin")
            var page = ""
            try await t.app.testing().test(.GET, "/uploads/\(id)", beforeRequest: { req in
                req.headers.replaceOrAdd(name: .cookie, value: browser.cookie)
            }, afterResponse: { res in
                #expect(res.status == .ok)
                page = res.body.string
            })
            #expect(page.contains("/uploads/\(id)/items/1/photo"), "the new photo is shown")
            #expect(page.contains("No photo yet"), "a student without a photo says so")
            #expect(page.contains("0 photos will replace a student"), "\(page)")
            #expect(page.contains("1 will be added"))
            #expect(page.contains("HEIC"), "the invalid file says what it really is")
            try await t.app.testing().test(.GET, "/uploads/\(id)/items/1/photo", beforeRequest: { req in
                req.headers.replaceOrAdd(name: .cookie, value: browser.cookie)
            }, afterResponse: { res in
                #expect(res.status == .ok)
                #expect(res.headers.contentType == .jpeg)
                #expect(res.body.readableBytes > 1000)
            })

            try await t.app.testing().test(.POST, "/api/v1/batches/\(id)/submit", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
                try req.content.encode(["confirm": true, "allowMassChanges": true], as: .json)
            }, afterResponse: { res in #expect(res.status == .accepted) })
            #expect(try await JobWorker(engine: t.services.engine, name: "w").runNext())
            #expect(try await t.services.store.batch(BatchID(rawValue: id)).status == .completedWithErrors)

            try await t.app.testing().test(.GET, "/api/v1/students/0001/photo", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
            }, afterResponse: { res in
                #expect(res.status == .ok)
                let bytes = Data(buffer: res.body)
                #expect(bytes.range(of: Data("Studio Secret".utf8)) == nil, "the comment is gone")
                if case .success(let info) = JPEGInspector.inspect(bytes) {
                    #expect(!info.metadata.contains(.gps))
                    #expect(info.displayWidth == 600 && info.displayHeight == 750)
                } else {
                    Issue.record("the served photo is a JPEG")
                }
            })

            // The group download from the page: queued, written by a worker, offered on its page, the ZIP valid with the
            // names and size asked for, index.csv and missing.csv inside.
            try await t.services.store.upsert(classes: [SchoolClass(classID: "C1A", schoolKey: "north", name: "1A")])
            try await t.services.store.upsert(enrollments: [Enrollment(classID: "C1A", userID: "0001", role: .student)])
            var exportPage = ""
            try await t.app.testing().test(.POST, "/photos/download", beforeRequest: { req in
                req.headers.replaceOrAdd(name: .cookie, value: browser.cookie)
                try req.content.encode(
                    ["_csrf": browser.csrf, "namePattern": "{className}_{lastName}_{firstName}", "size": "custom", "maxWidth": "240",
                     "maxHeight": "300"], as: .urlEncodedForm)
            }, afterResponse: { res in
                #expect(res.status == .seeOther)
                exportPage = res.headers.first(name: .location) ?? ""
            })
            #expect(exportPage.hasPrefix("/uploads/") && exportPage.hasSuffix("?done=export-queued"), "\(exportPage)")
            let exportID = String(exportPage.dropFirst("/uploads/".count).prefix { $0 != "?" })
            #expect(try await t.services.store.batch(BatchID(rawValue: exportID)).status == .queued)
            #expect(try await JobWorker(engine: t.services.engine, name: "w").runNext())
            try await t.app.testing().test(.GET, "/uploads/\(exportID)", beforeRequest: { req in
                req.headers.replaceOrAdd(name: .cookie, value: browser.cookie)
            }, afterResponse: { res in
                #expect(res.status == .ok)
                let html = res.body.string
                #expect(html.contains("Download the ZIP"), "\(html)")
                #expect(html.contains("1 photo · 1 student without a photo"))
                #expect(html.contains("At most 240 × 300 px"))
            })
            let browserZip = try await Self.zip(t, path: "/api/v1/photo-exports/\(exportID)/download", cookie: browser.cookie)
            #expect(Set(browserZip.keys) == ["1A_Chan_Wing Yan.jpg", "index.csv", "missing.csv"], "\(browserZip.keys.sorted())")
            let small = try #require(browserZip["1A_Chan_Wing Yan.jpg"])
            let size = try TurboJPEG.dimensions(of: small)
            #expect(size.width <= 240 && size.height <= 300 && size.width == 240, "\(size)")
            #expect(String(decoding: try #require(browserZip["missing.csv"]), as: UTF8.self).contains("19lees1"))
            #expect(String(decoding: try #require(browserZip["index.csv"]), as: UTF8.self).contains("1A_Chan_Wing Yan.jpg,0001,19chanw1"))
            try await t.app.testing().test(.POST, "/uploads/\(exportID)/undo", beforeRequest: { req in
                req.headers.replaceOrAdd(name: .cookie, value: browser.cookie)
                try req.content.encode(["_csrf": browser.csrf, "confirm": "yes"], as: .urlEncodedForm)
            }, afterResponse: { res in #expect(res.status == .conflict, "a download has nothing to undo") })

            // The API: 202 with the export, its status, then the ZIP; an empty pattern gives {loginId}.jpg.
            struct ExportJSON: Decodable {
                struct Links: Decodable { var download: String? }
                var id: String
                var status: String
                var links: Links
            }
            var created: ExportJSON?
            try await t.app.testing().test(.POST, "/api/v1/photo-exports", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
                try req.content.encode(["namePattern": "", "size": "original"], as: .json)
            }, afterResponse: { res in
                #expect(res.status == .accepted)
                created = try res.content.decode(ExportJSON.self)
            })
            let export = try #require(created)
            #expect(export.status == "queued" && export.links.download == nil)
            try await t.app.testing().test(.GET, "/api/v1/photo-exports/\(export.id)/download", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
            }, afterResponse: { res in #expect(res.status == .conflict, "not ready before the worker ran") })
            #expect(try await JobWorker(engine: t.services.engine, name: "w").runNext())
            var link = ""
            try await t.app.testing().test(.GET, "/api/v1/photo-exports/\(export.id)", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
            }, afterResponse: { res in
                let done = try res.content.decode(ExportJSON.self)
                #expect(done.status == "completed")
                link = done.links.download ?? ""
            })
            var apiZip = Data()
            try await t.app.testing().test(.GET, link, beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
            }, afterResponse: { res in
                #expect(res.status == .ok)
                #expect(res.headers.first(name: .contentDisposition)?.contains("attachment") == true)
                apiZip = Data(buffer: res.body)
            })
            let entries = try Self.entries(apiZip)
            #expect(entries.keys.contains("19chanw1.jpg"), "an empty pattern gives {loginId}.jpg: \(entries.keys.sorted())")
            #expect(try TurboJPEG.dimensions(of: try #require(entries["19chanw1.jpg"])).width == 600, "original size")
            try await t.app.testing().test(.POST, "/api/v1/photo-exports", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
                try req.content.encode(PhotoExportRequest(schoolIds: ["NOPE"], size: "2000x9000", namePattern: "{nickname}"), as: .json)
            }, afterResponse: { res in
                #expect(res.status == .unprocessableEntity)
                let body = res.body.string
                #expect(body.contains("{nickname}") && body.contains("NOPE") && body.contains("2000x9000"), "\(body)")
            })
        }
    }

    static func zip(_ t: TestApp, path: String, cookie: String) async throws -> [String: Data] {
        var body = Data()
        try await t.app.testing().test(.GET, path, beforeRequest: { req in
            req.headers.replaceOrAdd(name: .cookie, value: cookie)
        }, afterResponse: { res in
            #expect(res.status == .ok)
            #expect(res.headers.contentType?.subType == "zip")
            body = Data(buffer: res.body)
        })
        return try entries(body)
    }

    /// The files of a ZIP, by path (checked by `unzip -t` too).
    static func entries(_ zip: Data) throws -> [String: Data] {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("photos-\(UUID().uuidString).zip")
        try zip.write(to: url)
        defer { try? FileManager.default.removeItem(at: url) }
        let contents = try ZipContents(url)
        #expect(contents.unzipTest == 0, "unzip -t accepts the archive")
        return contents.files
    }
}
