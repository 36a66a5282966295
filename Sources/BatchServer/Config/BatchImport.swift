import BatchCore
import BatchStore
import Foundation

/// `schoolbatch emails import` and `schoolbatch documents import`: the same engine as the pages — create a
/// batch, receive the files, print the preview's counts and problems, and (unless it is a dry run) submit it and
/// run its job to the end in this process.
public enum BatchImport {
    public struct Request: Sendable {
        public var kind: BatchKind
        public var files: [URL]
        public var options: [String: String]
        public var username: String?
        public var dryRun: Bool
        public var errorsOut: URL?
        public var allowMassChanges: Bool

        public init(
            kind: BatchKind, files: [URL], options: [String: String] = [:], username: String?, dryRun: Bool, errorsOut: URL?,
            allowMassChanges: Bool
        ) {
            self.kind = kind
            self.files = files
            self.options = options
            self.username = username
            self.dryRun = dryRun
            self.errorsOut = errorsOut
            self.allowMassChanges = allowMassChanges
        }
    }

    /// Exit statuses: 0 applied (or a clean dry run), 1 nothing applied (errors, failed job), 2 refused input.
    public enum Exit: Int32, Sendable { case ok = 0, notApplied = 1, refused = 2 }

    public static func run(_ request: Request, services: AppServices, print say: (String) -> Void) async throws -> Exit {
        let store = services.store, engine = services.engine
        guard let account = try await actingAccount(request.username, store: store, kind: request.kind) else {
            let roles = AccountRole.allCases.filter { $0.can(request.kind.capability) }.map(\.rawValue).joined(separator: " or ")
            say("No account \(request.username.map { "“\($0)” " } ?? "")may run \(request.kind.label.lowercased()) batches. Use --username with a \(roles) account.")
            return .refused
        }
        var optionsJSON = "{}"
        if request.kind == .roster { optionsJSON = JSONText.encode(["mode": request.options["mode"] ?? RosterMode.addUpdate.rawValue]) }
        if request.kind == .documents {
            let settings = try await store.settings()
            switch DocumentBatch.Options.validate(request.options, documentTypes: settings.documentTypes) {
            case .failure(let error):
                for problem in error.problems { say("error: \(problem)") }
                return .refused
            case .success(let options): optionsJSON = JSONText.encode(options)
            }
        }
        let files = try expand(request.files)
        guard !files.isEmpty else {
            say("error: no files given (or the folders hold none).")
            return .refused
        }
        let limits = try engine.handler(for: request.kind).limits
        let batch = try await store.createBatch(kind: request.kind, options: optionsJSON, by: account)
        let actor = Actor(account)
        say("Batch \(batch.id.rawValue) (\(request.kind.label)) as \(account.username).")
        var skippedFiles = 0
        /// Hands files to the engine; a refused file or batch is said and cancels the batch (false).
        func receive(_ files: [(fileName: String, url: URL)]) async throws -> Bool {
            do {
                _ = try await engine.receive(files: files, into: try await store.batch(batch.id), by: actor, holdingPlan: !request.dryRun)
                return true
            } catch let rejection as FileRejection {
                say("\(rejection.fileName) cannot be used, so nothing was imported:")
                for issue in rejection.issues { say("  error: \(issue.message) \(issue.fix)") }
                _ = try? await engine.cancel(batch.id, by: actor, reason: rejection.refusal)
                return false
            } catch let error as StoreError {
                say("\(files.map(\.fileName).joined(separator: ", ")): \(error.userMessage)")
            }
            _ = try? await engine.cancel(batch.id, by: actor)
            return false
        }
        // A roster's users.csv and demographics.csv are received together (planned once); other files one by one.
        var together: [(fileName: String, url: URL)] = []
        for url in files {
            let name = url.lastPathComponent
            let size = (try? FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int64) ?? 0
            if size > limits.maxFileBytes {
                say("skipped \(name): \(ByteCountFormatter.string(fromByteCount: size, countStyle: .binary)) is more than the \(limits.maxFileDescription) a file may be.")
                skippedFiles += 1
                if request.kind == .emails || request.kind == .roster {
                    _ = try? await engine.cancel(batch.id, by: actor)
                    return .refused
                }
                continue
            }
            if request.kind == .roster {
                together.append((name, url))
            } else if try await !receive([(name, url)]) {
                return .refused
            }
        }
        if !together.isEmpty, try await !receive(together) { return .refused }
        var current = try await store.batch(batch.id)
        say(summary(current.counts, kind: request.kind))
        for line in entityLines(current.entityCounts) { say(line) }
        let kinds = current.counts.hasIssues ? try await store.issueKinds(of: batch.id) : []
        if !kinds.isEmpty { say("Problems by kind:") }
        // (A roster's two files each have their kinds: each line then names its file.)
        let received = try await store.files(of: batch.id)
        let naming = request.kind == .roster && Set(received.map(\.fileName)).count > 1
        for line in kindLines(kinds, unit: request.kind == .documents ? "files" : "rows", namingFiles: naming) { say(line) }
        let problems = try await store.itemsWithIssues(of: batch.id, limit: 50)
        for item in problems.items {
            for issue in item.issues {
                say("  \(issue.severity == .error ? "error" : "warning"): \(issue.message)")
            }
        }
        if problems.total > 50 { say("  … and \(problems.total - 50) more rows with problems (see --errors).") }
        if let out = request.errorsOut {
            let reports = ErrorReport.reports(
                kind: request.kind, baseName: files[0].deletingPathExtension().lastPathComponent,
                columnSets: try await store.columnsOfItemsWithIssues(of: batch.id))
            var isFolder: ObjCBool = false
            let intoFolder = request.kind == .roster && (out.pathExtension.lowercased() != "csv"
                || (FileManager.default.fileExists(atPath: out.path, isDirectory: &isFolder) && isFolder.boolValue))
            if intoFolder { try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true) }
            let targets = reports.indices.map { index in
                intoFolder ? out.appendingPathComponent(reports[index].fileName)
                    : index == 0 ? out : out.deletingLastPathComponent().appendingPathComponent(reports[index].fileName)
            }
            let written = try ErrorReportFiles(reports, at: targets)
            try await store.forEachItemWithIssues(of: batch.id) { page in try written.add(page) }
            // demographics.csv's report only when it has rows (a roster without demographics.csv has none).
            for (index, rows) in try written.close().enumerated() where index == 0 || rows > 0 {
                say("Error report: \(targets[index].path) (\(rows) rows).")
            }
        }
        if request.dryRun {
            _ = try await engine.cancel(batch.id, by: actor)
            say("Dry run: nothing was changed (batch \(batch.id.rawValue) cancelled).")
            return skippedFiles == 0 && current.counts.error == 0 ? .ok : .notApplied
        }
        // Files nobody can match from the command line are skipped, and said so.
        for item in try await store.items(of: batch.id, state: .unmatched, limit: 1000).items {
            _ = try await engine.resolve(itemID: item.id, of: current, target: nil, skip: true, by: actor)
            say("skipped \(item.fileName): no student matched (match it on the batch page to include it).")
        }
        current = try await store.batch(batch.id)
        guard current.counts.ready > 0 else {
            _ = try await engine.cancel(batch.id, by: actor)
            // A file that matches the data exactly is a success; one whose every row failed is not.
            let clean = current.counts.error == 0 && skippedFiles == 0 && current.counts.skipped == 0
            say(clean
                ? "Nothing to change: every row already matches the data (the batch was cancelled)."
                : "Nothing to change: no row can be applied (the batch was cancelled).")
            return clean ? .ok : .notApplied
        }
        do {
            _ = try await engine.submit(batch.id, confirm: true, allowMassChanges: request.allowMassChanges, by: actor)
        } catch let error as StoreError {
            say("Not submitted: \(error.userMessage)")
            _ = try? await engine.cancel(batch.id, by: actor)
            return .notApplied
        }
        current = try await runToEnd(batch.id, engine: engine)
        say("Batch \(batch.id.rawValue): \(current.status.words). \(summary(current.counts, kind: request.kind))")
        for line in entityLines(current.entityCounts) { say(line) }
        if let failure = current.failure { say("  \(failure)") }
        return current.status == .failed ? .notApplied : .ok
    }

    static func summary(_ counts: ItemCounts, kind: BatchKind) -> String {
        let unit = kind == .documents ? "files" : "rows"
        return "\(counts.total) \(unit): \(counts.ready) to change, \(counts.applied) changed, \(counts.unchanged) unchanged, "
            + "\(counts.error) with errors, \(counts.unmatched) unmatched, \(counts.skipped) skipped, \(counts.warnings) with warnings."
    }

    /// "  12 rows  error  birthDate (invalid_date), first: Row 5, birthDate: …", one line per kind of problem.
    static func kindLines(_ kinds: [IssueKind], unit: String, namingFiles: Bool = false) -> [String] {
        kinds.map { kind in
            let what = kind.code == RosterFile.dependsOnBadRow ? "skipped" : kind.severity.rawValue
            let file = namingFiles ? kind.file.map { "\($0): " } ?? "" : ""
            let values = UploadsController.valuesText(kind).map { "; values given: \($0)" } ?? ""
            return "  \(file)\(kind.rows) \(kind.rows == 1 ? String(unit.dropLast()) : unit), \(what), \(kind.column.map { "\($0) " } ?? "")(\(kind.code)); first: \(kind.first.message)\(values)"
        }
    }

    /// "Students: 12 created, 3 updated, 180 unchanged, 2 removed, 1 with errors", one line per entity.
    static func entityLines(_ counts: [EntityCounts]) -> [String] {
        counts.map { "  \($0.label): \($0.created) created, \($0.updated) updated, \($0.unchanged) unchanged, \($0.removed) removed, \($0.errors) with errors" }
    }

    /// Files as given; folders give their files (not hidden ones), sorted by name.
    static func expand(_ urls: [URL]) throws -> [URL] {
        var result: [URL] = []
        for url in urls {
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
                throw StoreError.notFound("\(url.path) does not exist.")
            }
            if isDirectory.boolValue {
                result += try FileManager.default.contentsOfDirectory(at: url, includingPropertiesForKeys: nil)
                    .filter { !$0.lastPathComponent.hasPrefix(".") }
                    .sorted { $0.lastPathComponent < $1.lastPathComponent }
            } else {
                result.append(url)
            }
        }
        return result
    }

    static func actingAccount(_ username: String?, store: Store, kind: BatchKind) async throws -> Account? {
        if let username {
            guard let account = try await store.credentials(username: username)?.account, account.can(kind.capability) else { return nil }
            return account
        }
        return try await store.accounts().first { $0.role == .systemAdmin && $0.can(kind.capability) }
    }

    /// Runs the batch's job in this process (a running `serve` worker may take it instead) until the batch has finished.
    static func runToEnd(_ batchID: BatchID, engine: BatchEngine) async throws -> Batch {
        let worker = JobWorker(engine: engine, name: "cli-\(ProcessInfo.processInfo.processIdentifier)")
        while true {
            let current = try await engine.store.batch(batchID)
            if [.completed, .completedWithErrors, .failed, .cancelled].contains(current.status) { return current }
            if try await !worker.runNext() { try await Task.sleep(nanoseconds: 200_000_000) }
        }
    }
}
