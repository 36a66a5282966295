import BatchCore
import BatchStore
import BatchTestSupport
import Foundation
import Testing

@Suite("E-mail batches (SPEC §6): every rule, on SQLite and PostgreSQL")
struct EmailRulesTests {
    @Test("each bad row gets its own code and reason; a valid row, the student's own address and a swap pass", arguments: TestDatabase.all)
    func rules(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await EngineFixture.load(into: store, students: 12)
            try await store.insertNew(people: [
                Person(
                    userID: "t-0001", role: .teacher, loginID: "tlee", firstName: "Mei", lastName: "Lee",
                    email: "mei.lee@staff.example", schoolKeys: ["north"])
            ])
            let engine = try EngineFixture.engine(store)
            let long = String(repeating: "a", count: 65) + "@school.example"
            let csv = """
                loginId,userEmail
                s000001,new.one@school.example
                s999999,nobody@school.example
                s000002,no-at-sign.example
                s000003,"with space@school.example"
                s000004,kim@schüle.example
                s000005,\(long)
                s000006,
                s000007,new.one@school.example
                s000008,MEI.LEE@staff.example
                s000001,again@school.example
                s000009,"line
                break@school.example"
                s000010,s000010@old.example
                s000011,s000012@old.example
                s000012,s000011@old.example

                """
            let batch = try await store.createBatch(kind: .emails, options: "{}", by: EngineFixture.clerk)
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("rules-\(UUID().uuidString).csv")
            try Data(csv.utf8).write(to: url)
            _ = try await engine.receive(fileName: "emails.csv", contentsOf: url, into: batch, by: Actor(EngineFixture.clerk))
            let items = try await store.items(of: batch.id).items
            func codes(_ row: Int) -> [String] { items.first { $0.row == row }?.issues.map(\.code) ?? ["(no row \(row))"] }
            #expect(codes(2) == [])
            #expect(codes(3) == ["unknown_student"])
            #expect(codes(4) == ["email_missing_at"])
            #expect(codes(5) == ["email_space"])
            #expect(codes(6) == ["email_domain_not_ascii"])
            #expect(codes(7) == ["email_too_long"])
            #expect(codes(8) == ["missing_email"])
            #expect(codes(9) == ["duplicate_email"])
            #expect(codes(10) == ["email_in_use"])
            #expect(items.first { $0.row == 10 }?.issues.first?.message.contains("staff member") == true)
            #expect(codes(11) == ["duplicate_student"])
            #expect(codes(12) == ["email_line_break"])
            let own = try #require(items.first { $0.row == 14 })
            #expect(own.state == .unchanged)
            #expect(items.first { $0.row == 15 }?.state == .ready)
            #expect(items.first { $0.row == 16 }?.state == .ready)
            let message = try #require(items.first { $0.row == 4 }?.issues.first)
            #expect(message.message.contains("Row 4") && message.message.contains("has no @"))
            #expect(message.column == "userEmail")
        }
    }

    @Test("a school-scoped clerk cannot set the address of another school's student", arguments: TestDatabase.all)
    func scope(database: TestDatabase) async throws {
        try await database.withStore { store in
            try await EngineFixture.load(into: store, students: 4)
            let north = Account(
                id: "acct-north", username: "north", displayName: "North clerk", role: .studentRecords,
                scope: .schools(["north"]))
            try await store.createAccount(north, passwordHash: "x", by: .system)
            let engine = try EngineFixture.engine(store)
            let batch = try await store.createBatch(kind: .emails, options: "{}", by: north)
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("scope-\(UUID().uuidString).csv")
            try EngineFixture.csv(1...2, domain: "new.example").write(to: url)
            _ = try await engine.receive(fileName: "emails.csv", contentsOf: url, into: batch, by: Actor(north))
            let items = try await store.items(of: batch.id).items
            #expect(items.first { $0.input["loginId"] == "s000001" }?.state == .ready)
            let south = try #require(items.first { $0.input["loginId"] == "s000002" })
            #expect(south.issues.map(\.code) == ["unknown_student"])
            #expect(!south.issues[0].message.contains("South"))
        }
    }
}
