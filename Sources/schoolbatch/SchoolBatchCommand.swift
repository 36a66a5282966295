import ArgumentParser
import BatchCore
import BatchImaging
import BatchServer
import BatchStore
import Foundation

@main
struct SchoolBatchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "schoolbatch",
        abstract: "SchoolBatch: bulk updates of school rosters, photos, e-mails and documents.",
        discussion: "Settings come from the environment: SCHOOLBATCH_DATA_DIR, DATABASE_URL, … (see docs/configuration.md).",
        subcommands: [
            Serve.self, Worker.self, Migrate.self, AdminCommand.self, TokenCommand.self, Demo.self, EmailsCommand.self,
            DocumentsCommand.self, PhotosCommand.self, RosterCommand.self,
        ])
}

/// Options every command shares.
struct CommonOptions: ParsableArguments {
    @Option(help: "Data directory (default: $SCHOOLBATCH_DATA_DIR or ./data).")
    var dataDir: String?

    func config() -> AppConfig {
        var config = AppConfig.fromEnvironment()
        if let dataDir { config.dataDirectory = URL(fileURLWithPath: dataDir) }
        return config
    }

    /// Opens the store for `body` and closes it afterwards, whether `body` succeeds or throws.
    func withServices<T>(_ body: (AppServices) async throws -> T) async throws -> T {
        let services = try await Bootstrap.services(config())
        let result: T
        do {
            result = try await body(services)
        } catch {
            try? await services.store.close()
            throw error
        }
        try await services.store.close()
        return result
    }
}

struct Serve: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Run the web server (creates the schema and the first admin).")

    @OptionGroup var common: CommonOptions
    @Option(help: "Address to listen on.") var hostname: String = "127.0.0.1"
    @Option(help: "Port to listen on.") var port: Int = 8080

    func run() async throws {
        var config = common.config()
        config.hostname = hostname
        config.port = port
        try await ServerRunner.serve(config: config)
    }
}

struct Worker: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Run background workers only (apply and undo batches), sharing the database with `serve`.",
        discussion: "Stops on SIGINT or SIGTERM after the jobs in hand have finished.")

    @OptionGroup var common: CommonOptions
    @Option(help: "How many jobs this process runs at once.") var count: Int = 1

    func run() async throws {
        try await ServerRunner.work(config: common.config(), count: max(1, count))
    }
}

struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Create or update the database schema, then exit.")
    @OptionGroup var common: CommonOptions

    func run() async throws {
        let services = try await Bootstrap.services(common.config())
        if let password = try await Bootstrap.createFirstAdmin(services) {
            print(Bootstrap.passwordBanner(password, url: "the address `schoolbatch serve` prints"))
        }
        print("The database schema is up to date.")
        try await services.store.close()
    }
}

struct AdminCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "admin", abstract: "Manage sign-in accounts.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create an account; the password is read from standard input.")
        @OptionGroup var common: CommonOptions
        @Option(help: "Username (letters, digits, . _ - @).") var username: String
        @Option(help: "system-admin, enrollment-admin, student-records or viewer.") var role: String
        @Option(name: .customLong("school"), help: "Limit the account to this school ID (repeat for several).")
        var schools: [String] = []
        @Flag(help: "Read the password from standard input (required).") var passwordStdin = false

        func run() async throws {
            guard passwordStdin else {
                throw ValidationError("Pass --password-stdin and give the password on standard input, e.g. echo 'secret' | schoolbatch admin create …")
            }
            guard let line = readLine(strippingNewline: true), !line.isEmpty else {
                throw ValidationError("No password on standard input.")
            }
            let services = try await Bootstrap.services(common.config())
            defer { Task { try? await services.store.close() } }
            do {
                let account = try await AccountAdmin.createAccount(
                    username: username, role: role, schoolIDs: schools, password: line, services: services)
                print("Created account \(account.username) (\(account.role.rawValue)).")
            } catch let error as AccountAdmin.Failure {
                throw ValidationError(error.description)
            }
        }
    }
}

struct TokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "token", abstract: "Manage API tokens.", subcommands: [Create.self])

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Print a new API token for an account.")
        @OptionGroup var common: CommonOptions
        @Option(help: "The account's username.") var username: String

        func run() async throws {
            let services = try await Bootstrap.services(common.config())
            do {
                print(try await AccountAdmin.createToken(username: username, services: services))
            } catch let error as AccountAdmin.Failure {
                throw ValidationError(error.description)
            }
            try await services.store.close()
        }
    }
}

struct Demo: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Fill the database with a demo district (3 schools, ~30 classes, ~800 students with photos).",
        discussion: "With --roster-only, write a generated users.csv and demographics.csv of any size instead (and the "
            + "\"changed\" variant: about 5% of the students updated, 1% new, 1% gone) into --out; the database is not touched.")
    @OptionGroup var common: CommonOptions
    @Flag(help: "Write roster CSV files instead of filling the database.") var rosterOnly = false
    @Option(help: "With --roster-only: how many students (seven users.csv rows each).") var students = 1_000
    @Option(help: "With --roster-only: how many schools.") var schools = 3
    @Option(help: "With --roster-only: the folder to write users.csv, demographics.csv, users-changed.csv, demographics-changed.csv into.")
    var out: String?

    func run() async throws {
        if rosterOnly {
            guard let out else { throw ValidationError("--roster-only needs --out DIR.") }
            let folder = URL(fileURLWithPath: out)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let generator = RosterGenerator(schools: schools, students: students)
            for (variant, suffix) in [(RosterGenerator.Variant.original, ""), (.changed, "-changed")] {
                let users = try CSVFileSink(folder.appendingPathComponent("users\(suffix).csv"))
                let demographics = try CSVFileSink(folder.appendingPathComponent("demographics\(suffix).csv"))
                try generator.write(variant, users: users.write, demographics: demographics.write)
                try users.close()
                try demographics.close()
            }
            print("Wrote users.csv, demographics.csv and their -changed variants for \(students) students in \(schools) schools to \(folder.path).")
            return
        }
        let services = try await Bootstrap.services(common.config())
        if let password = try await Bootstrap.createFirstAdmin(services) {
            print(Bootstrap.passwordBanner(password, url: "the address `schoolbatch serve` prints"))
        }
        let summary = try await DemoLoader.load(into: services)
        print("Demo district ready: \(summary.schools) schools, \(summary.classes) classes, \(summary.students) students, \(summary.staff) staff, \(summary.photosAdded) new photos.")
        try await services.store.close()
    }
}

/// Options of the import commands.
struct ImportOptions: ParsableArguments {
    @Option(help: "Run as this account (default: the first system administrator).") var username: String?
    @Flag(help: "Check and preview only; change nothing.") var dryRun = false
    @Option(help: "Write the error report (CSV) to this file.") var errors: String?
    @Flag(help: "Allow a batch that changes more than the district's limit of records.") var allowMassChanges = false
}

struct RosterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "roster", abstract: "Roster batches (SPEC §4): import users.csv (+ demographics.csv), Download your data.",
        subcommands: [Import.self, Export.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check, preview and apply a users.csv and, optionally, its demographics.csv.",
            discussion: """
                Prints the counts per entity (created, updated, unchanged, removed, errors) and every row's problems; \
                --errors writes users-errors.csv (and demographics-errors.csv) into the folder given, or to the file \
                given when it ends in .csv. Exit status: 0 applied (or a clean dry run), 1 nothing applied (rows with \
                errors, a failed job, the mass-change guard), 2 a file was rejected (headers, encoding, size).
                """)
        @OptionGroup var common: CommonOptions
        @OptionGroup var options: ImportOptions
        @Option(help: "users.csv.") var users: String
        @Option(help: "demographics.csv (only together with its users.csv).") var demographics: String?
        @Option(help: "add-update (default: rows create or update, nothing else is touched) or sync (the file is the whole truth for the schools it names).")
        var mode = "add-update"

        func run() async throws {
            guard RosterMode(rawValue: mode) != nil else { throw ValidationError("--mode must be add-update or sync (got “\(mode)”).") }
            try await runImport(
                BatchImport.Request(
                    kind: .roster, files: [URL(fileURLWithPath: users)] + (demographics.map { [URL(fileURLWithPath: $0)] } ?? []),
                    options: ["mode": mode], username: options.username, dryRun: options.dryRun,
                    errorsOut: options.errors.map { URL(fileURLWithPath: $0) }, allowMassChanges: options.allowMassChanges),
                common: common)
        }
    }

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write the current roster as users.csv and demographics.csv in exactly the upload format.",
            discussion: "Cells that a spreadsheet would run as a formula are neutralised. Exit status: 0 written, 2 refused.")
        @OptionGroup var common: CommonOptions
        @Option(help: "Only this school (its school ID).") var school: String?
        @Option(help: "students, staff or all.") var include = "all"
        @Option(help: "The folder to write users.csv and demographics.csv into.") var out: String

        func run() async throws {
            try await common.withServices(export)
        }

        func export(_ services: AppServices) async throws {
            var query = Store.RosterExportQuery(scope: .district)
            switch include {
            case "all": query.include = .all
            case "students": query.include = .students
            case "staff": query.include = .staff
            default: throw ValidationError("--include must be students, staff or all (got “\(include)”).")
            }
            if let school {
                guard let found = try await services.store.school(id: SchoolID(rawValue: school)) else {
                    print("error: no school has the school ID “\(school)”.")
                    throw ExitCode(2)
                }
                query.schoolKey = found.key
            }
            let folder = URL(fileURLWithPath: out)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let users = try CSVFileSink(folder.appendingPathComponent("users.csv"))
            let demographics = try CSVFileSink(folder.appendingPathComponent("demographics.csv"))
            let rows = try await services.store.exportRoster(query, users: users.write, demographics: demographics.write)
            try users.close()
            try demographics.close()
            print("Wrote \(folder.appendingPathComponent("users.csv").path) (\(rows) rows) and demographics.csv.")
        }
    }
}

struct EmailsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "emails", abstract: "Student e-mail batches (SPEC §6).", subcommands: [Import.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check, preview and apply an e-mail CSV (loginId or userId, userEmail).",
            discussion: "Exit status: 0 applied, 1 nothing applied (errors or a failed job), 2 the file or settings were refused.")
        @OptionGroup var common: CommonOptions
        @OptionGroup var options: ImportOptions
        @Argument(help: "The CSV file.") var file: String

        func run() async throws {
            try await runImport(
                BatchImport.Request(
                    kind: .emails, files: [URL(fileURLWithPath: file)], username: options.username, dryRun: options.dryRun,
                    errorsOut: options.errors.map { URL(fileURLWithPath: $0) }, allowMassChanges: options.allowMassChanges),
                common: common)
        }
    }
}

struct DocumentsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "documents", abstract: "Student assessment document batches (SPEC §7).", subcommands: [Import.self])

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check, preview and apply PDF documents named after students' login IDs (19chanw1_T1.pdf).",
            discussion: "Files no student matches are skipped and listed. Exit status: 0 applied, 1 nothing applied, 2 refused.")
        @OptionGroup var common: CommonOptions
        @OptionGroup var options: ImportOptions
        @Option(help: "Document type, one of the district's list.") var type: String
        @Option(help: "School year, e.g. 2025-2026.") var year: String
        @Option(help: "Term, e.g. T1.") var term: String?
        @Option(help: "Title.") var title: String?
        @Argument(help: "PDF files or folders of them.") var files: [String]

        func run() async throws {
            var settings = ["documentType": type, "schoolYear": year]
            settings["term"] = term
            settings["title"] = title
            try await runImport(
                BatchImport.Request(
                    kind: .documents, files: files.map { URL(fileURLWithPath: $0) }, options: settings,
                    username: options.username, dryRun: options.dryRun, errorsOut: options.errors.map { URL(fileURLWithPath: $0) },
                    allowMassChanges: options.allowMassChanges),
                common: common)
        }
    }
}

struct PhotosCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "photos", abstract: "Student photo batches and downloads (SPEC §5).",
        subcommands: [Import.self, Export.self, Generate.self])

    struct Export: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Download the current photos of a group of students as one ZIP (with index.csv and missing.csv).",
            discussion: "Repeat --school, --grade, --class or --user to add to a group; different groups narrow each other. "
                + "Without any, every active student the account sees. Exit status: 0 written, 1 failed, 2 refused.")
        @OptionGroup var common: CommonOptions
        @Option(name: .customLong("school"), help: "A school ID (repeatable).") var schools: [String] = []
        @Option(name: .customLong("grade"), help: "A grade, e.g. 05 (repeatable).") var grades: [String] = []
        @Option(name: .customLong("class"), help: "A class ID (repeatable).") var classes: [String] = []
        @Option(name: .customLong("user"), help: "A student's userId (repeatable; any status).") var users: [String] = []
        @Option(help: "original, or a maximum box WxH such as 240x300 (never enlarged).") var size = "original"
        @Option(help: "File names, e.g. \"{className}_{lastName}_{firstName}\"; empty = {loginId}.") var pattern = ""
        @Flag(help: "One folder per class.") var folderPerClass = false
        @Option(help: "Run as this account (default: the first system administrator).") var username: String?
        @Option(help: "Where to write the ZIP.") var out: String

        func run() async throws {
            let request = PhotoExportRequest(
                schoolIds: schools, grades: grades, classIds: classes, userIds: users, size: size, namePattern: pattern,
                folderPerClass: folderPerClass)
            let exit = try await common.withServices { services in
                try await BatchExport.run(request, out: URL(fileURLWithPath: out), username: username, services: services) { print($0) }
            }
            if exit != .ok { throw ExitCode(exit.rawValue) }
        }
    }

    struct Generate: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Write deterministic portrait JPEGs (and, with --invalid, one bad file of each kind) for trying the upload.",
            discussion: "Photos are named after the given login IDs (e.g. 19chanw1.jpg), or photo-0001.jpg … with --count.")
        @Option(help: "Folder to write into (created if needed).") var out: String
        @Option(help: "Comma-separated login IDs to name the photos after.") var loginIds: String?
        @Option(help: "How many photos, when no login IDs are given.") var count: Int = 20
        @Flag(help: "Also write one invalid file of each kind (PNG/HEIC/PDF named .jpg, too small, too tall, cut short, CMYK, 65,000 px, over 10 MB).")
        var invalid = false

        func run() throws {
            let folder = URL(fileURLWithPath: out)
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            let names = loginIds.map { $0.split(separator: ",").map { "\($0.trimmingCharacters(in: .whitespaces)).jpg" } }
                ?? (1...max(1, count)).map { String(format: "photo-%04d.jpg", $0) }
            var files = try PhotoFixtures.set(names: names)
            if invalid { files += try PhotoFixtures.invalidSet() }
            for file in files { try file.bytes.write(to: folder.appendingPathComponent(file.name)) }
            print("Wrote \(files.count) files to \(folder.path).")
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check, preview and apply JPEG photos named after students' login IDs (19chanw1.jpg).",
            discussion: "Invalid files and files no student matches are skipped and listed. At most 200 photos a batch. "
                + "Exit status: 0 applied, 1 nothing applied, 2 refused.")
        @OptionGroup var common: CommonOptions
        @OptionGroup var options: ImportOptions
        @Argument(help: "JPEG files or folders of them.") var files: [String]

        func run() async throws {
            try await runImport(
                BatchImport.Request(
                    kind: .photos, files: files.map { URL(fileURLWithPath: $0) }, username: options.username,
                    dryRun: options.dryRun, errorsOut: options.errors.map { URL(fileURLWithPath: $0) },
                    allowMassChanges: options.allowMassChanges),
                common: common)
        }
    }
}

func runImport(_ request: BatchImport.Request, common: CommonOptions) async throws {
    let exit = try await common.withServices { services in try await BatchImport.run(request, services: services) { print($0) } }
    if exit != .ok { throw ExitCode(exit.rawValue) }
}

/// A file the generated CSV text is written into as it comes.
final class CSVFileSink: @unchecked Sendable {
    let handle: FileHandle

    init(_ url: URL) throws {
        _ = FileManager.default.createFile(atPath: url.path, contents: nil)
        handle = try FileHandle(forWritingTo: url)
    }

    func write(_ text: String) throws { try handle.write(contentsOf: Data(text.utf8)) }
    func close() throws { try handle.close() }
}
