import BatchCore
import BatchStore
import Foundation

/// A district of students and the e-mail batches the engine tests apply to it.
public enum EngineFixture {
    public static let clerk = Account(
        id: "acct-clerk", username: "clerk", displayName: "Clerk", role: .studentRecords, scope: .district)

    /// Schools N and S, and `count` students (`userId` 000001…, `loginId` s000001…, address `s…@old.example`),
    /// alternating between the schools.
    public static func load(into store: Store, students count: Int) async throws {
        try await store.createSchool(School(key: "north", schoolID: "N", name: "North School"), by: .system)
        try await store.createSchool(School(key: "south", schoolID: "S", name: "South School"), by: .system)
        try await store.createAccount(clerk, passwordHash: "x", by: .system)
        let people = (1...max(count, 1)).map { index in
            Person(
                userID: UserID(rawValue: userID(index)), role: .student, loginID: LoginID(rawValue: loginID(index)),
                firstName: "First\(index)", lastName: "Last\(index)", email: "\(loginID(index))@old.example", grade: "05",
                schoolKeys: [index % 2 == 0 ? "south" : "north"])
        }
        try await store.insertNew(people: people)
    }

    public static func userID(_ index: Int) -> String { String(format: "%06d", index) }
    public static func loginID(_ index: Int) -> String { String(format: "s%06d", index) }

    /// A CSV that gives students `range` the address `s…@<domain>`.
    public static func csv(_ range: ClosedRange<Int>, domain: String) -> Data {
        var text = "loginId,userEmail\n"
        for index in range { text += "\(loginID(index)),\(loginID(index))@\(domain)\n" }
        return Data(text.utf8)
    }

    /// Creates an e-mail batch with one file and submits it; returns it queued.
    @discardableResult
    public static func submitEmailBatch(
        _ engine: BatchEngine, _ range: ClosedRange<Int>, domain: String, allowMassChanges: Bool = true
    ) async throws -> Batch {
        let batch = try await engine.store.createBatch(kind: .emails, options: "{}", by: clerk)
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("emails-\(UUID().uuidString).csv")
        try csv(range, domain: domain).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        _ = try await engine.receive(fileName: "emails.csv", contentsOf: file, into: batch, by: Actor(clerk))
        return try await engine.submit(batch.id, confirm: true, allowMassChanges: allowMassChanges, by: Actor(clerk))
    }

    /// The message of the `StoreError` the body throws, or nil when it does not throw one.
    public static func refusal(_ body: () async throws -> Void) async throws -> String? {
        do {
            try await body()
            return nil
        } catch let error as StoreError {
            return error.userMessage
        }
    }

    /// Every student's address, by userId.
    public static func addresses(_ store: Store) async throws -> [String: String] {
        try await store.backend.read { db in
            var result: [String: String] = [:]
            for row in try db.query("SELECT user_id, user_email FROM people") {
                result[try row.text("user_id")] = row.optionalText("user_email") ?? ""
            }
            return result
        }
    }

    /// The engine every test uses: e-mail batches, blobs in a temporary folder.
    public static func engine(_ store: Store, timing: JobTiming = JobTiming()) throws -> BatchEngine {
        let blobs = try FileBlobStore(
            root: FileManager.default.temporaryDirectory.appendingPathComponent("sb-blobs-\(UUID().uuidString)"))
        return BatchEngine(
            store: store, blobs: blobs, handlers: [EmailsHandler(), DocumentsHandler(), PhotosHandler(), RosterHandler()], exporters: [PhotoExporter()],
            exportDirectory: FileManager.default.temporaryDirectory.appendingPathComponent("sb-exports-\(UUID().uuidString)"),
            timing: timing)
    }
}

extension EngineFixture {
    /// The settings of the document batches in tests.
    public static let documentOptions = #"{"documentType":"Assessment Report","schoolYear":"2025-2026"}"#

    /// Creates a document batch and receives the files (name → bytes) into it, in order.
    public static func documentBatch(
        _ engine: BatchEngine, files: [(String, Data)], by account: Account = clerk, options: String = documentOptions
    ) async throws -> Batch {
        try await fileBatch(engine, kind: .documents, files: files, by: account, options: options)
    }

    /// Creates a batch of files (documents, photos) and receives the files (name → bytes) into it, in order.
    public static func fileBatch(
        _ engine: BatchEngine, kind: BatchKind, files: [(String, Data)], by account: Account = clerk, options: String = "{}"
    ) async throws -> Batch {
        let batch = try await engine.store.createBatch(kind: kind, options: options, by: account)
        for (name, bytes) in files {
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("doc-\(UUID().uuidString)")
            try bytes.write(to: url)
            defer { try? FileManager.default.removeItem(at: url) }
            _ = try await engine.receive(fileName: name, contentsOf: url, into: batch, by: Actor(account))
        }
        return try await engine.store.batch(batch.id)
    }

    /// The items of a batch by file name.
    public static func itemsByFile(_ store: Store, _ batch: Batch) async throws -> [String: BatchItem] {
        Dictionary(try await store.items(of: batch.id, limit: 1000).items.map { ($0.fileName, $0) }, uniquingKeysWith: { a, _ in a })
    }
}
