import BatchCore
import BatchImaging
import BatchStore
import BatchTestSupport
import Foundation
import Testing

@Suite("Photo group downloads (SPEC §5.2) as background jobs, SQLite and PostgreSQL")
struct PhotoExportTests {
    /// Eight students (N: 1, 3, 5, 7; S: 2, 4, 6, 8); classes 5A (1, 3) and 5B (2, 4); photos for students 1–6.
    func district(_ store: Store) async throws -> BatchEngine {
        try await EngineFixture.load(into: store, students: 8)
        try await store.upsert(classes: [
            SchoolClass(classID: "C5A", schoolKey: "north", name: "5A"),
            SchoolClass(classID: "C5B", schoolKey: "south", name: "5B"),
        ])
        try await store.upsert(
            enrollments: [1, 3, 2, 4].map {
                Enrollment(
                    classID: $0 % 2 == 1 ? "C5A" : "C5B", userID: UserID(rawValue: EngineFixture.userID($0)),
                    role: .student)
            })
        let engine = try EngineFixture.engine(store)
        for index in 1...6 {
            let photo = try PhotoFixtures.portrait(seed: UInt64(index), width: 600, height: 750)
            let key = try engine.blobs.put(photo)
            try await store.addPhoto(
                userID: UserID(rawValue: EngineFixture.userID(index)), blobKey: key, thumbnailKey: key,
                contentHash: key, width: 600,
                height: 750, byteSize: photo.count, by: .system)
        }
        return engine
    }

    /// Queues a download as the clerk (or `account`), runs its job, and reads the ZIP.
    func export(_ engine: BatchEngine, _ request: PhotoExportRequest, by account: Account = EngineFixture.clerk)
        async throws
        -> (batch: Batch, zip: ZipContents)
    {
        let queued = try await engine.requestExport(.photoExport, options: JSONText.encode(request), by: account)
        #expect(queued.status == .queued)
        #expect(try await JobWorker(engine: engine, name: "w").runNext())
        let done = try await engine.store.batch(queued.id)
        #expect(done.status == .completed, "\(done.failure ?? "")")
        return (done, try ZipContents(engine.exportFile(of: queued.id)))
    }

    @Test(
        "a class with the pattern {className}_{lastName}_{firstName} at 240×300: the names asked for, no photo larger than the box, index.csv and missing.csv; unzip -t accepts it",
        arguments: TestDatabase.all)
    func patternAndSize(database: TestDatabase) async throws {
        try await database.withStore { store in
            let engine = try await district(store)
            let (batch, zip) = try await export(
                engine,
                PhotoExportRequest(
                    classIds: ["C5A"], size: "240x300", namePattern: "{className}_{lastName}_{firstName}"))
            #expect(zip.unzipTest == 0)
            #expect(Set(zip.files.keys) == ["5A_Last1_First1.jpg", "5A_Last3_First3.jpg", "index.csv", "missing.csv"])
            for name in ["5A_Last1_First1.jpg", "5A_Last3_First3.jpg"] {
                let size = try TurboJPEG.dimensions(of: try #require(zip.files[name]))
                #expect(size.width == 240 && size.height == 300, "\(name): \(size)")
            }
            #expect(
                zip.csvRows("index.csv").first == [
                    "file", "userId", "loginId", "firstName", "lastName", "class", "grade", "originalWidth",
                    "originalHeight", "version",
                ])
            #expect(
                zip.csvRows("index.csv").dropFirst().map { $0[0] } == ["5A_Last1_First1.jpg", "5A_Last3_First3.jpg"])
            #expect(zip.csvRows("missing.csv").count == 1, "everyone in 5A has a photo")
            #expect(batch.report?.export?.files == 2 && batch.report?.export?.missing == 0)
        }
    }

    @Test(
        "an empty pattern gives {loginId}.jpg at the original size; a school with a folder per class; students without a photo in missing.csv",
        arguments: TestDatabase.all)
    func emptyPatternFoldersAndMissing(database: TestDatabase) async throws {
        try await database.withStore { store in
            let engine = try await district(store)
            let (batch, zip) = try await export(engine, PhotoExportRequest(schoolIds: ["S"], folderPerClass: true))
            #expect(
                Set(zip.files.keys) == [
                    "5B/s000002.jpg", "5B/s000004.jpg", "No class/s000006.jpg", "index.csv", "missing.csv",
                ])
            #expect(
                try TurboJPEG.dimensions(of: try #require(zip.files["5B/s000002.jpg"])).width == 600, "original size")
            #expect(
                zip.files["5B/s000002.jpg"]
                    == (try engine.blobs.get(try #require(try await store.currentPhoto("000002")).blobKey)))
            #expect(zip.csvRows("missing.csv").dropFirst().map { $0[1] } == ["s000008"])
            #expect(
                batch.report?.export
                    == ExportSummary(
                        files: 3, missing: 1, renamed: 0, students: 4, bytes: batch.report?.export?.bytes ?? 0,
                        downloadName: batch.report?.export?.downloadName ?? ""))
            // Grades and schools narrow each other; two grades add up.
            let (_, none) = try await export(engine, PhotoExportRequest(schoolIds: ["S"], grades: ["06"]))
            #expect(Set(none.files.keys) == ["index.csv", "missing.csv"])
        }
    }

    @Test(
        "chosen students whose names come out the same get _2, _3, listed in renamed.csv", arguments: TestDatabase.all)
    func collisions(database: TestDatabase) async throws {
        try await database.withStore { store in
            let engine = try await district(store)
            let (batch, zip) = try await export(
                engine, PhotoExportRequest(userIds: ["000001", "000002", "000003"], namePattern: "{grade}"))
            #expect(
                Set(zip.files.keys) == ["05.jpg", "05_2.jpg", "05_3.jpg", "index.csv", "missing.csv", "renamed.csv"])
            #expect(
                zip.csvRows("renamed.csv") == [["wanted", "given"], ["05.jpg", "05_2.jpg"], ["05.jpg", "05_3.jpg"]])
            #expect(batch.report?.export?.renamed == 2)
        }
    }

    @Test(
        "a scoped account sees only its schools: another school is refused by name, and 'everyone' means its students only; a download cannot be undone",
        arguments: TestDatabase.all)
    func scope(database: TestDatabase) async throws {
        try await database.withStore { store in
            let engine = try await district(store)
            let north = Account(
                id: "acct-north", username: "north", displayName: "North", role: .studentRecords,
                scope: .schools(["north"]))
            try await store.createAccount(north, passwordHash: "x", by: .system)
            await #expect {
                _ = try await engine.requestExport(
                    .photoExport,
                    options: JSONText.encode(PhotoExportRequest(schoolIds: ["S"], size: "10x10", namePattern: "{age}")),
                    by: north)
            } throws: { error in
                guard case StoreError.invalid(_, let details) = error else { return false }
                return details.count == 3 && details.contains { $0.contains("“S”") }
                    && details.contains { $0.contains("{age}") }
                    && details.contains { $0.contains("10x10") }
            }
            let (batch, zip) = try await export(engine, PhotoExportRequest(), by: north)
            #expect(Set(zip.files.keys) == ["s000001.jpg", "s000003.jpg", "s000005.jpg", "index.csv", "missing.csv"])
            #expect(zip.csvRows("missing.csv").dropFirst().map { $0[1] } == ["s000007"])
            await #expect(throws: StoreError.self) { _ = try await engine.requestUndo(batch.id, by: Actor(north)) }
        }
    }
}
