import BatchCore
import BatchImaging
import BatchStore
import BatchTestSupport
import Foundation
import Testing

@Suite("Photo batches (SPEC §5.1) on the engine, SQLite and PostgreSQL")
struct PhotoEngineTests {
    let clerk = Actor(EngineFixture.clerk)

    func photos(_ engine: BatchEngine, _ files: [(String, Data)]) async throws -> Batch {
        try await EngineFixture.fileBatch(engine, kind: .photos, files: files)
    }

    @Test("19ChanW1.JPG-style names match, invalid files are errors with the reason, EXIF orientation and GPS are handled, two files for one student conflict, an unknown name is matched by hand", arguments: TestDatabase.all)
    func matchAndApply(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await EngineFixture.load(into: store, students: 8)
            let engine = try EngineFixture.engine(store)
            let upright = try PhotoFixtures.portrait(seed: 1, width: 600, height: 750)
            let sideways = PhotoFixtures.withExif(
                try PhotoFixtures.portrait(seed: 4, width: 1200, height: 960), orientation: 6, gps: true, comment: "Camera HQ 42")
            let batch = try await photos(
                engine,
                [
                    ("S000001.JPG", upright), ("s000002.jpg", PhotoFixtures.png()),
                    ("s000003.jpg", try PhotoFixtures.portrait(seed: 3, width: 479, height: 600)),
                    ("s000004.jpeg", sideways), ("s000005.jpg", try PhotoFixtures.portrait(seed: 5, width: 600, height: 750)),
                    ("S000005 .JPEG", try PhotoFixtures.portrait(seed: 55, width: 600, height: 750)),
                    ("s00006.jpg", try PhotoFixtures.portrait(seed: 6, width: 600, height: 750)),
                ])
            let items = try await EngineFixture.itemsByFile(store, batch)
            #expect(items["S000001.JPG"]?.target == "000001")
            #expect(items["S000001.JPG"]?.state == .ready)
            #expect(items["s000002.jpg"]?.issues.map(\.code) == ["not_jpeg"])
            #expect(items["s000002.jpg"]?.issues.first?.message.contains("PNG") == true)
            #expect(items["s000003.jpg"]?.issues.map(\.code) == ["too_narrow"])
            let turned = try #require(items["s000004.jpeg"])
            #expect(turned.state == .ready)
            #expect(turned.input["width"] == "960" && turned.input["height"] == "1200", "the size as displayed: \(turned.input)")
            #expect(items["s000005.jpg"]?.issues.map(\.code) == ["conflict"])
            #expect(items["S000005 .JPEG"]?.issues.map(\.code) == ["conflict"])
            let unmatched = try #require(items["s00006.jpg"])
            #expect(unmatched.state == .unmatched)
            #expect(unmatched.suggestions.count == 3)

            // Nothing of the upload's metadata is kept: not the GPS block, not the comment.
            let photoKey = try #require(turned.input["photoKey"])
            let kept = try #require(try engine.blobs.get(photoKey))
            #expect(TurboJPEGSize.of(kept) == [960, 1200])
            #expect(kept.range(of: Data("Camera HQ 42".utf8)) == nil)
            #expect(kept.range(of: Data("GPS".utf8)) == nil)
            if case .success(let info) = JPEGInspector.inspect(kept) {
                #expect(info.metadata.isDisjoint(with: [.exif, .gps, .xmp, .comment]), "\(info.metadata)")
                #expect(info.orientation == 1)
            } else {
                Issue.record("the stored photo is a valid JPEG")
            }
            let files = try await store.files(of: batch.id)
            #expect(try files.allSatisfy { file in try engine.blobs.get(file.blobKey)?.range(of: Data("Camera HQ 42".utf8)) == nil })

            let second = try #require(items["S000005 .JPEG"])
            _ = try await engine.resolve(itemID: second.id, of: batch, target: nil, skip: true, by: clerk)
            let matched = try await engine.resolve(itemID: unmatched.id, of: batch, target: "000006", skip: false, by: clerk)
            #expect(matched.state == .ready)
            let ready = try await store.batch(batch.id)
            #expect(ready.counts.ready == 4, "\(ready.counts)")
            _ = try await engine.submit(batch.id, confirm: true, allowMassChanges: true, by: clerk)
            #expect(try await JobWorker(engine: engine, name: "w").runNext())
            let done = try await store.batch(batch.id)
            #expect(done.status == .completedWithErrors)
            #expect(done.counts.applied == 4)
            for userID in ["000001", "000004", "000005", "000006"] {
                #expect(try await store.currentPhoto(UserID(rawValue: userID)) != nil, "\(userID) has the new photo")
            }
            #expect(try await store.currentPhoto(UserID(rawValue: "000002")) == nil)
            let photo = try #require(try await store.currentPhoto(UserID(rawValue: "000004")))
            #expect(photo.width == 960 && photo.height == 1200 && photo.version == 1)
        }
    }

    @Test("a replaced photo is kept as a version and comes back on undo; the same photo again is unchanged", arguments: TestDatabase.all)
    func replaceAndUndo(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await EngineFixture.load(into: store, students: 4)
            let engine = try EngineFixture.engine(store)
            let first = try PhotoFixtures.portrait(seed: 10, width: 600, height: 750)
            let second = try PhotoFixtures.portrait(seed: 11, width: 600, height: 750)
            for files in [[("s000001.jpg", first)], [("s000001.jpg", second), ("s000002.jpg", second)]] {
                let batch = try await photos(engine, files)
                _ = try await engine.submit(batch.id, confirm: true, allowMassChanges: true, by: clerk)
                #expect(try await JobWorker(engine: engine, name: "w").runNext())
            }
            let before = try #require(try await store.currentPhoto(UserID(rawValue: "000001")))
            #expect(before.version == 2)
            let versions = try await store.photoVersions(UserID(rawValue: "000001"))
            #expect(versions.map(\.version) == [2, 1])

            let again = try await photos(engine, [("s000001.jpg", second)])
            #expect(again.counts.unchanged == 1)

            let latest = try #require(try await store.batches(visibleTo: EngineFixture.clerk, kind: .photos, limit: 10)
                .first { $0.status == .completed })
            _ = try await engine.requestUndo(latest.id, by: clerk)
            #expect(try await JobWorker(engine: engine, name: "w").runNext())
            #expect(try await store.batch(latest.id).status == .undone)
            #expect(try await store.currentPhoto(UserID(rawValue: "000001"))?.version == 1, "the earlier photo is current again")
            #expect(try await store.currentPhoto(UserID(rawValue: "000002")) == nil, "a photo added by the batch is gone")
            #expect(try await store.photoVersions(UserID(rawValue: "000001")).count == 2, "no version is deleted")

            // The draft made before the undo said its photo was unchanged: stale now; checked again, it would replace.
            #expect(try await store.previewIsStale(try await store.batch(again.id)))
            try await engine.replan(try await store.batch(again.id), by: clerk)
            let rechecked = try await store.batch(again.id)
            #expect(rechecked.counts.ready == 1 && rechecked.counts.unchanged == 0, "\(rechecked.counts)")
            #expect(try await store.previewIsStale(rechecked) == false)
            _ = try await engine.cancel(again.id, by: clerk)
        }
    }

    @Test("a batch takes at most 200 photos; the 201st is refused with a clear message")
    func twoHundred() async throws {
        try await TestDatabase.sqlite.withStore { store in
            try await EngineFixture.load(into: store, students: 2)
            let engine = try EngineFixture.engine(store)
            let png = PhotoFixtures.png()
            let batch = try await photos(engine, (1...200).map { ("p\($0).jpg", png) })
            #expect(batch.counts.error == 200)
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("p201-\(UUID().uuidString).jpg")
            try png.write(to: url)
            defer { try? FileManager.default.removeItem(at: url) }
            do {
                _ = try await engine.receive(fileName: "p201.jpg", contentsOf: url, into: batch, by: clerk)
                Issue.record("the 201st photo must be refused")
            } catch let error as StoreError {
                #expect(error.userMessage.contains("200"), "\(error.userMessage)")
            }
        }
    }
}

/// Width and height of a JPEG, as the codec reads them.
enum TurboJPEGSize {
    static func of(_ jpeg: Data) -> [Int] {
        guard let size = try? TurboJPEG.dimensions(of: jpeg) else { return [] }
        return [size.width, size.height]
    }
}
