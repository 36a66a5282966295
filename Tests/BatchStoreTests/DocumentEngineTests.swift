import BatchCore
import BatchStore
import BatchTestSupport
import Foundation
import Testing

@Suite("Document batches (SPEC §7) on the engine, SQLite and PostgreSQL")
struct DocumentEngineTests {
    let clerk = Actor(EngineFixture.clerk)

    @Test("files match by name (19chanw1_T1.pdf → 19chanw1), a JPEG named .pdf is invalid, an unknown name is matched by hand, and the batch completes", arguments: TestDatabase.all)
    func matchAndApply(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await EngineFixture.load(into: store, students: 8)
            let engine = try EngineFixture.engine(store)
            let batch = try await EngineFixture.documentBatch(
                engine,
                files: [
                    ("s000001.pdf", PDFFixture.make("one")), ("s000002_T1.pdf", PDFFixture.make("two")),
                    ("s000003 - report.pdf", PDFFixture.make("three")), ("S000004-2026.PDF", PDFFixture.make("four")),
                    ("s000005.pdf", PDFFixture.jpegBytes), ("s00006.pdf", PDFFixture.make("six")),
                    ("s000007.pdf", PDFFixture.make("seven", encrypted: true)),
                ])
            #expect(batch.counts.ready == 5)
            #expect(batch.counts.error == 1)
            #expect(batch.counts.unmatched == 1)
            let items = try await EngineFixture.itemsByFile(store, batch)
            #expect(items["s000002_T1.pdf"]?.target == "000002")
            #expect(items["s000003 - report.pdf"]?.target == "000003")
            #expect(items["S000004-2026.PDF"]?.target == "000004")
            #expect(items["s000005.pdf"]?.issues.map(\.code) == ["not_pdf"])
            #expect(items["s000005.pdf"]?.issues.first?.message.contains("JPEG") == true)
            #expect(items["s000007.pdf"]?.issues.map(\.code) == ["pdf_encrypted"])
            let unmatched = try #require(items["s00006.pdf"])
            #expect(unmatched.state == .unmatched)
            #expect(unmatched.issues.first?.code == "unmatched")
            #expect(unmatched.suggestions.count == 3)
            #expect(unmatched.suggestions.allSatisfy { $0.label.hasPrefix("s00000") })

            // Submitting with an unmatched file is refused; matching it by hand fixes that.
            await #expect(throws: StoreError.self) { _ = try await engine.submit(batch.id, confirm: true, allowMassChanges: true, by: clerk) }
            let matched = try await engine.resolve(itemID: unmatched.id, of: batch, target: "000006", skip: false, by: clerk)
            #expect(matched.state == .ready)
            #expect(matched.target == "000006")
            _ = try await engine.submit(batch.id, confirm: true, allowMassChanges: true, by: clerk)
            #expect(try await JobWorker(engine: engine, name: "w").runNext())
            let done = try await store.batch(batch.id)
            #expect(done.status == .completedWithErrors)
            #expect(done.counts.applied == 6)
            let documents = try #require(try await store.documents(of: UserID(rawValue: "000002"), scope: .district))
            #expect(documents.count == 1)
            #expect(documents[0].fileName == "s000002_T1.pdf")
            #expect(documents[0].documentType == "Assessment Report")
            #expect(documents[0].schoolYear == "2025-2026")
            #expect(documents[0].uploadedByName == "clerk")
            #expect(try await store.documents(of: UserID(rawValue: "000007"), scope: .district)?.first?.encrypted == true)
            #expect(try await store.documents(of: UserID(rawValue: "000005"), scope: .district)?.isEmpty == true)
            #expect(try await engine.blobs.get(documents[0].blobKey) == PDFFixture.make("two"))
        }
    }

    @Test("a second document of the same type and year replaces the first, which comes back on undo", arguments: TestDatabase.all)
    func replaceAndUndo(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await EngineFixture.load(into: store, students: 4)
            let engine = try EngineFixture.engine(store)
            let worker = JobWorker(engine: engine, name: "w")
            let first = try await EngineFixture.documentBatch(engine, files: [("s000001.pdf", PDFFixture.make("version 1"))])
            _ = try await engine.submit(first.id, confirm: true, allowMassChanges: true, by: clerk)
            try await worker.runNext()
            let original = try #require(try await store.documents(of: "000001", scope: .district)?.first)

            // The same bytes again change nothing.
            let same = try await EngineFixture.documentBatch(engine, files: [("s000001.pdf", PDFFixture.make("version 1"))])
            #expect(same.counts.unchanged == 1)

            let second = try await EngineFixture.documentBatch(engine, files: [("s000001_v2.pdf", PDFFixture.make("version 2"))])
            let item = try #require(try await EngineFixture.itemsByFile(store, second)["s000001_v2.pdf"])
            #expect(item.state == .ready)
            #expect(item.issues.map(\.code) == ["replaces"])
            #expect(item.issues[0].message.contains("s000001.pdf"))
            _ = try await engine.submit(second.id, confirm: true, allowMassChanges: true, by: clerk)
            try await worker.runNext()
            let replaced = try #require(try await store.documents(of: "000001", scope: .district))
            #expect(replaced.map(\.fileName) == ["s000001_v2.pdf"])
            let kept = try await store.document(original.documentID, scope: .district)
            #expect(kept?.isCurrent == false)

            _ = try await engine.requestUndo(second.id, by: clerk)
            try await worker.runNext()
            #expect(try await store.batch(second.id).status == .undone)
            let restored = try #require(try await store.documents(of: "000001", scope: .district))
            #expect(restored.map(\.documentID) == [original.documentID])

            // Undo of the first batch leaves the student with no current document of that type.
            _ = try await engine.requestUndo(first.id, by: clerk)
            try await worker.runNext()
            #expect(try await store.documents(of: "000001", scope: .district)?.isEmpty == true)
        }
    }

    @Test("two files for one student conflict until one is skipped; another school's student is unmatched for a scoped clerk", arguments: TestDatabase.all)
    func conflictAndScope(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await EngineFixture.load(into: store, students: 4)
            let engine = try EngineFixture.engine(store)
            let batch = try await EngineFixture.documentBatch(
                engine, files: [("s000001.pdf", PDFFixture.make("a")), ("s000001_T2.pdf", PDFFixture.make("b"))])
            let items = try await EngineFixture.itemsByFile(store, batch)
            #expect(items.values.allSatisfy { $0.state == .error && $0.issues.map(\.code) == ["conflict"] })
            _ = try await engine.resolve(itemID: items["s000001.pdf"]!.id, of: batch, target: nil, skip: true, by: clerk)
            let after = try await EngineFixture.itemsByFile(store, batch)
            #expect(after["s000001.pdf"]?.state == .skipped)
            #expect(after["s000001_T2.pdf"]?.state == .ready)
            #expect(after["s000001_T2.pdf"]?.issues.isEmpty == true)

            // North only: student 2 is at South.
            let north = Account(
                id: "acct-north", username: "north", displayName: "North clerk", role: .studentRecords,
                scope: .schools(["north"]))
            try await store.createAccount(north, passwordHash: "x", by: .system)
            let scoped = try await EngineFixture.documentBatch(
                engine, files: [("s000002.pdf", PDFFixture.make("south")), ("s000001.pdf", PDFFixture.make("north"))], by: north)
            let seen = try await EngineFixture.itemsByFile(store, scoped)
            #expect(seen["s000002.pdf"]?.state == .unmatched)
            #expect(seen["s000002.pdf"]?.suggestions.contains { $0.userId == "000002" } == false)
            #expect(seen["s000001.pdf"]?.state == .ready)
            let tried = try await engine.resolve(itemID: seen["s000002.pdf"]!.id, of: scoped, target: "000002", skip: false, by: Actor(north))
            #expect(tried.state == .unmatched)
            #expect(try await store.documents(of: "000002", scope: north.scope) == nil)
        }
    }

    @Test("a batch takes at most 200 files", arguments: [TestDatabase.sqlite])
    func twoHundredFiles(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await EngineFixture.load(into: store, students: 2)
            let engine = try EngineFixture.engine(store)
            let pdf = PDFFixture.make("x")
            let batch = try await EngineFixture.documentBatch(engine, files: (1...200).map { ("f\($0).pdf", pdf) })
            #expect(batch.counts.total == 200)
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("doc-\(UUID().uuidString)")
            try pdf.write(to: url)
            do {
                _ = try await engine.receive(fileName: "f201.pdf", contentsOf: url, into: batch, by: clerk)
                Issue.record("a 201st file was accepted")
            } catch let error as StoreError {
                #expect(error.userMessage.contains("200 files"))
            }
        }
    }
}
