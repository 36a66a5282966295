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
        }
    }
}
