import BatchCore
import BatchStore
import BatchTestSupport
import Foundation
import Testing

/// `schoolbatch emails import` and `schoolbatch documents import`, run as a user runs them: the real command against
/// a data directory, its printed lines, its error report and its exit status (0 applied — also with some error
/// rows —, 1 nothing applied, 2 refused).
@Suite("Command line: e-mail and document imports", .serialized)
struct ImportCommandTests {
    /// Runs `schoolbatch <arguments>` to the end; returns its exit status and output.
    func run(_ arguments: [String], environment: [String: String]) async throws -> (status: Int32, output: String) {
        let process = try WorkerProcess(environment: environment, arguments: arguments)
        process.process.waitUntilExit()
        return (process.process.terminationStatus, process.output)
    }

    func write(_ text: String, name: String, in directory: URL) throws -> String {
        let url = directory.appendingPathComponent(name)
        try Data(text.utf8).write(to: url)
        return url.path
    }

    @Test("emails import: applies the good rows with some bad ones (exit 0, report written), then nothing to apply (exit 1)", arguments: TestDatabase.all)
    func emails(database: TestDatabase) async throws {
        let (store, environment, directory) = try await database.makeLocatedStore()
        defer { Task { try? await store.close() } }
        try await EngineFixture.load(into: store, students: 40)
        let file = try write(
            "loginId,userEmail\ns000001,ann@new.example\ns000002,not an address\ns999999,who@new.example\ns000003,cy@new.example\n",
            name: "emails.csv", in: directory)
        let errors = directory.appendingPathComponent("emails-errors.csv")

        let dry = try await run(
            ["emails", "import", file, "--username", "clerk", "--dry-run"], environment: environment)
        #expect(dry.status == 1, "a dry run with error rows says so: \(dry.output)")
        #expect(dry.output.contains("Dry run: nothing was changed"))
        #expect(try await EngineFixture.addresses(store)["000001"] == "s000001@old.example")

        let applied = try await run(
            ["emails", "import", file, "--username", "clerk", "--errors", errors.path], environment: environment)
        #expect(applied.status == 0, "rows applied, some with errors: \(applied.output)")
        #expect(applied.output.contains("Row 3"), "each bad row is printed: \(applied.output)")
        #expect(applied.output.contains("s999999"))
        #expect(applied.output.contains("completed with errors"), "\(applied.output)")
        let report = try String(contentsOf: errors, encoding: .utf8)
        let lines = report.split(whereSeparator: \.isNewline)
        #expect(lines.count == 3, "header and the two bad rows: \(report)")
        #expect(lines.first?.hasPrefix("loginId,userEmail") == true, "the report is the upload format, ready to fix: \(report)")
        let addresses = try await EngineFixture.addresses(store)
        #expect(addresses["000001"] == "ann@new.example")
        #expect(addresses["000002"] == "s000002@old.example")
        #expect(addresses["000003"] == "cy@new.example")

        let again = try await run(["emails", "import", file, "--username", "clerk"], environment: environment)
        #expect(again.status == 1, "only unchanged and bad rows: nothing applied: \(again.output)")
        #expect(again.output.contains("no row can be applied"))

        let same = try write("loginId,userEmail\ns000001,ann@new.example\ns000003,cy@new.example\n", name: "same.csv", in: directory)
        let unchanged = try await run(["emails", "import", same, "--username", "clerk"], environment: environment)
        #expect(unchanged.status == 0, "a file that matches the data is no failure: \(unchanged.output)")
        #expect(unchanged.output.contains("every row already matches"))

        let many = try write(
            "loginId,userEmail\n" + (10...19).map { "s0000\($0),m\($0)@new.example\n" }.joined(), name: "many.csv", in: directory)
        let guarded = try await run(["emails", "import", many, "--username", "clerk"], environment: environment)
        #expect(guarded.status == 1, "10 of 40 people is over the 10% guard: \(guarded.output)")
        #expect(guarded.output.contains("--allow-mass-changes"), "the message names the flag: \(guarded.output)")
        let allowed = try await run(["emails", "import", many, "--username", "clerk", "--allow-mass-changes"], environment: environment)
        #expect(allowed.status == 0, "\(allowed.output)")
        #expect(try await EngineFixture.addresses(store)["000019"] == "m19@new.example")

        let misspelled = try write("loginID,userEmail\ns000001,x@new.example\n", name: "bad-header.csv", in: directory)
        let refused = try await run(["emails", "import", misspelled, "--username", "clerk"], environment: environment)
        #expect(refused.status == 2, "a refused file: \(refused.output)")
        #expect(refused.output.contains("loginId"), "the message names the right header: \(refused.output)")
    }

    @Test("documents import: a folder of PDFs; the JPEG named .pdf and the unmatched file are skipped and said so", arguments: TestDatabase.all)
    func documents(database: TestDatabase) async throws {
        let (store, environment, directory) = try await database.makeLocatedStore()
        defer { Task { try? await store.close() } }
        try await EngineFixture.load(into: store, students: 4)
        let folder = directory.appendingPathComponent("reports")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        try PDFFixture.make("Report 1").write(to: folder.appendingPathComponent("s000001.pdf"))
        try PDFFixture.make("Report 2").write(to: folder.appendingPathComponent("s000002_T1.pdf"))
        try PDFFixture.make("Nobody").write(to: folder.appendingPathComponent("nobody.pdf"))
        try Data([0xFF, 0xD8, 0xFF, 0xE0, 0, 16, 0x4A, 0x46, 0x49, 0x46, 0, 1, 0xFF, 0xD9]).write(
            to: folder.appendingPathComponent("s000003.pdf"))

        let result = try await run(
            ["documents", "import", "--type", "Assessment Report", "--year", "2025-2026", "--username", "clerk", folder.path],
            environment: environment)
        #expect(result.status == 0, "\(result.output)")
        #expect(result.output.contains("nobody.pdf"), "the unmatched file is named: \(result.output)")
        #expect(result.output.contains("JPEG"), "the real type of the fake PDF is named: \(result.output)")
        let first = try #require(try await store.documents(of: UserID(rawValue: "000001"), scope: .district))
        let second = try #require(try await store.documents(of: UserID(rawValue: "000002"), scope: .district))
        let third = try #require(try await store.documents(of: UserID(rawValue: "000003"), scope: .district))
        #expect(first.map(\.documentType) == ["Assessment Report"])
        #expect(second.map(\.schoolYear) == ["2025-2026"])
        #expect(third.isEmpty)

        let unknownType = try await run(
            ["documents", "import", "--type", "Horoscope", "--year", "2025-2026", "--username", "clerk", folder.path],
            environment: environment)
        #expect(unknownType.status == 2, "an unknown document type refuses the batch: \(unknownType.output)")
    }

    @Test("photos generate + photos import: valid photos are stored, each invalid file is named with its reason, exit 0", arguments: TestDatabase.all)
    func photos(database: TestDatabase) async throws {
        let (store, environment, directory) = try await database.makeLocatedStore()
        defer { Task { try? await store.close() } }
        try await EngineFixture.load(into: store, students: 40)
        let folder = directory.appendingPathComponent("cd")
        let generated = try await run(
            ["photos", "generate", "--out", folder.path, "--login-ids", "s000001,S000002,s000003,nobody", "--invalid"],
            environment: environment)
        #expect(generated.status == 0, "\(generated.output)")
        #expect(generated.output.contains("Wrote 13 files"), "\(generated.output)")

        let dry = try await run(["photos", "import", folder.path, "--username", "clerk", "--dry-run"], environment: environment)
        #expect(dry.output.contains("Dry run: nothing was changed"), "\(dry.output)")
        #expect(try await store.currentPhoto(UserID(rawValue: "000001")) == nil)

        let result = try await run(["photos", "import", folder.path, "--username", "clerk"], environment: environment)
        #expect(result.status == 0, "applied with some invalid files: \(result.output)")
        for expected in ["really-a-png.jpg", "PNG", "narrow-479px.jpg", "479", "over-10mb.jpg", "nobody.jpg", "cmyk.jpg"] {
            #expect(result.output.contains(expected), "the output names \(expected): \(result.output)")
        }
        for userID in ["000001", "000002", "000003"] {
            #expect(try await store.currentPhoto(UserID(rawValue: userID)) != nil, "\(userID) got the photo")
        }

        // photos export: the same download as the page, written to --out; a bad request is refused with exit 2.
        let zip = directory.appendingPathComponent("north.zip")
        let exported = try await run(
            ["photos", "export", "--school", "N", "--size", "240x300", "--pattern", "{lastName}_{firstName}", "--out", zip.path,
             "--username", "clerk"], environment: environment)
        #expect(exported.status == 0, "\(exported.output)")
        #expect(exported.output.contains("2 photos of 20 chosen students, 18 without a photo"), "\(exported.output)")
        let contents = try ZipContents(zip)
        #expect(contents.unzipTest == 0)
        #expect(Set(contents.files.keys) == ["Last1_First1.jpg", "Last3_First3.jpg", "index.csv", "missing.csv"])
        let refused = try await run(
            ["photos", "export", "--school", "NOPE", "--pattern", "{age}", "--out", zip.path, "--username", "clerk"],
            environment: environment)
        #expect(refused.status == 2, "\(refused.output)")
        #expect(refused.output.contains("“NOPE”") && refused.output.contains("{age}"), "\(refused.output)")
    }

    @Test("roster export writes users.csv and demographics.csv in the upload format; an unknown school exits 2", arguments: TestDatabase.all)
    func rosterExport(database: TestDatabase) async throws {
        let (store, environment, directory) = try await database.makeLocatedStore()
        defer { Task { try? await store.close() } }
        try await EngineFixture.load(into: store, students: 6)
        let folder = directory.appendingPathComponent("export")
        let result = try await run(["roster", "export", "--school", "S", "--out", folder.path], environment: environment)
        #expect(result.status == 0, "\(result.output)")
        let users = try String(contentsOf: folder.appendingPathComponent("users.csv"), encoding: .utf8)
        let table = try CSVTable.read(bytes: Data(users.utf8), fileName: "users.csv", dictionary: RosterDictionaries.users).get()
        #expect(table.records.count == 3)
        #expect(Set(table.records.map { table.value("userId", in: $0) }) == ["000002", "000004", "000006"], "south's students, leading zeros kept")
        #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("demographics.csv").path))
        let refused = try await run(["roster", "export", "--school", "NOPE", "--out", folder.path], environment: environment)
        #expect(refused.status == 2 && refused.output.contains("“NOPE”"), "\(refused.output)")
    }

    @Test("roster import: the preview's counts per entity, the error reports, the apply; a bad header exits 2; demographics need --users", arguments: TestDatabase.all)
    func rosterImport(database: TestDatabase) async throws {
        let (store, environment, directory) = try await database.makeLocatedStore()
        defer { Task { try? await store.close() } }
        try await EngineFixture.load(into: store, students: 2)
        try await store.createAccount(
            Account(id: "acct-enrol", username: "enrol", displayName: "Enrolment", role: .enrollmentAdmin, scope: .district), passwordHash: "x",
            by: .system)
        let header = "schoolId,schoolName,userId,userRole,loginId,firstName,lastName,userEmail,userGrade,classId,className,primaryTeacher\n"
        let users = try write(
            header + "N,,000001,student,s000001,First1,Last1,s000001@old.example,05,N-5A,5A,\n"
                + "N,,000007,student,s000007,陳,詠欣,,05,N-5A,5A,\n"
                + "N,,1.23E+05,student,s000008,Bad,Row,,05,N-5A,5A,\n",
            name: "users.csv", in: directory)
        let demographics = try write(
            "userId,birthDate,sex\n000007,2015-01-31,female\n000009,2015-02-01,male\n", name: "demographics.csv", in: directory)
        let errors = directory.appendingPathComponent("reports")

        let dry = try await run(
            ["roster", "import", "--users", users, "--demographics", demographics, "--username", "enrol", "--dry-run", "--errors", errors.path],
            environment: environment)
        #expect(dry.status == 1, "\(dry.output)")
        #expect(dry.output.contains("Students: 1 created, 0 updated, 1 unchanged, 0 removed, 1 with errors"), "\(dry.output)")
        #expect(dry.output.contains("Classes: 1 created"))
        #expect(dry.output.contains("scientific notation"))
        // Each kind is one file's, and with two files each line names its file.
        #expect(dry.output.contains("Problems by kind:\n  users.csv: 1 row, error, userId (scientific_notation); first: Row 4, userId:"), "\(dry.output)")
        #expect(dry.output.contains("  demographics.csv: 1 row, error, userId (not_in_users); first: Row 3, userId: 000009"), "\(dry.output)")
        let usersErrors = try String(contentsOf: errors.appendingPathComponent("users-errors.csv"), encoding: .utf8)
        #expect(usersErrors.contains("1.23E+05") && usersErrors.contains("rowNumber,severity,issues,howToFix"))
        let demographicsErrors = try String(contentsOf: errors.appendingPathComponent("demographics-errors.csv"), encoding: .utf8)
        #expect(demographicsErrors.contains("000009,2015-02-01,male,3,error,"), "\(demographicsErrors)")
        #expect(try await store.peopleCount() == 2, "a dry run changes nothing")
        // Without a demographics problem, no demographics-errors.csv is written, and a file of that name in the folder
        // (a corrected report about to be uploaded) is left as it is.
        let corrected = directory.appendingPathComponent("again")
        try FileManager.default.createDirectory(at: corrected, withIntermediateDirectories: true)
        try Data("userId,birthDate\n000007,2015-01-31\n".utf8).write(to: corrected.appendingPathComponent("demographics-errors.csv"))
        let usersOnly = try await run(
            ["roster", "import", "--users", users, "--username", "enrol", "--dry-run", "--errors", corrected.path], environment: environment)
        #expect(usersOnly.output.contains("users-errors.csv (1 rows)") && !usersOnly.output.contains("demographics-errors.csv ("), "\(usersOnly.output)")
        #expect(usersOnly.output.contains("Problems by kind:\n  1 row, error, userId (scientific_notation)"), "one file: not named")
        #expect(try String(contentsOf: corrected.appendingPathComponent("demographics-errors.csv"), encoding: .utf8) == "userId,birthDate\n000007,2015-01-31\n")

        let applied = try await run(
            ["roster", "import", "--users", users, "--demographics", demographics, "--username", "enrol", "--allow-mass-changes"],
            environment: environment)
        #expect(applied.status == 0, "\(applied.output)")
        #expect(applied.output.contains("completed with errors"))
        #expect(try await store.peopleCount() == 3)

        let badHeader = try write(header.replacingOccurrences(of: "userEmail", with: "UserEmail") + "N,,000001,student,s000001,A,B,,05,,,\n", name: "bad.csv", in: directory)
        let refused = try await run(["roster", "import", "--users", badHeader, "--username", "enrol"], environment: environment)
        #expect(refused.status == 2, "\(refused.output)")
        #expect(refused.output.contains("did you mean \"userEmail\"?"))
        let missing = try await run(["roster", "import", "--demographics", demographics, "--username", "enrol"], environment: environment)
        #expect(missing.status != 0 && missing.output.contains("--users"), "\(missing.output)")
    }
}
