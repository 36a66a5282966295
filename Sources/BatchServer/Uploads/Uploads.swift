import BatchCore
import BatchStore
import Foundation
import Vapor

/// The shared receiving step of every upload (API and pages): check the batch can take files, stream them to
/// disk within the kind's limits, hand each to the engine, and always clean up the temporary files.
enum Uploads {
    static func receive(
        _ req: Request, batch: Batch, account: Account,
        spool: (UploadLimits, URL) async throws -> [SpooledFile]
    ) async throws -> [BatchesAPIController.ReceivedJSON] {
        guard batch.status == .draft else {
            throw AppError(
                .conflict, "not_draft",
                "Files can only be added while a batch is a draft; this one is \(batch.status.words). Start a new batch.")
        }
        let limits = try req.engine.handler(for: batch.kind).limits
        let spooled = try await spool(limits, req.application.schoolBatch.config.uploadDirectory)
        defer { for file in spooled { file.remove() } }
        return try await receive(spooled, req: req, batch: batch, account: account)
    }

    /// The upload form of a file batch without JavaScript: settings and files in one multipart body. The files are
    /// streamed to disk first (the settings may come after them); `options` checks the settings (nil = fine) and
    /// `failed` renders the form again with the problems; then the batch is made and each file received.
    static func fileBatchForm(
        _ req: Request, kind: BatchKind, account: Account,
        options: ([String: String]) async throws -> Result<String, DocumentBatch.OptionsError>,
        failed: ([String: String], String, [String]) async throws -> View
    ) async throws -> Response {
        let limits = try req.engine.handler(for: kind).limits
        let spooled = try await MultipartSpooler.spool(req, limits: limits, into: req.application.schoolBatch.config.uploadDirectory)
        defer { for file in spooled.files { file.remove() } }
        let json: String
        switch try await options(spooled.fields) {
        case .failure(let error):
            return try await failed(spooled.fields, "Check the settings, then choose the files again:", error.problems)
                .encodeResponse(status: .unprocessableEntity, for: req)
        case .success(let valid): json = valid
        }
        guard !spooled.files.isEmpty else {
            return try await failed(spooled.fields, "Choose at least one file.", []).encodeResponse(status: .unprocessableEntity, for: req)
        }
        let batch = try await req.store.createBatch(kind: kind, options: json, by: account)
        _ = try await receive(spooled.files, req: req, batch: batch, account: account)
        return req.redirect(to: "/uploads/\(batch.id.rawValue)")
    }

    /// Hands files already on disk to the engine, one after the other.
    static func receive(_ spooled: [SpooledFile], req: Request, batch: Batch, account: Account) async throws
        -> [BatchesAPIController.ReceivedJSON]
    {
        var results: [BatchesAPIController.ReceivedJSON] = []
        var current = batch
        if batch.kind == .roster {
            // users.csv and demographics.csv are planned together once.
            let received = try await req.engine.receive(files: spooled.map { ($0.fileName, $0.url) }, into: current, by: Actor(account))
            current = try await req.store.batch(batch.id)
            return received.map { .init(file: FileJSON($0.file), counts: $0.counts, batch: BatchJSON(current)) }
        }
        for file in spooled {
            let received = try await req.engine.receive(
                fileName: file.fileName, contentsOf: file.url, into: current, by: Actor(account))
            current = try await req.store.batch(batch.id)
            results.append(.init(file: FileJSON(received.file), counts: received.counts, batch: BatchJSON(current)))
        }
        return results
    }
}

/// The error report of a batch (SPEC §4.5): every input row with an issue, its cells unchanged, plus `rowNumber`,
/// `severity`, `issues` and `howToFix`. Its extra columns are ignored on upload, so it can be corrected and sent back.
/// Written a page of items at a time (`Store.forEachItemWithIssues`): its columns come from every file's header and
/// every item stored with its own names (`Store.columnsOfItemsWithIssues`).
enum ErrorReport {
    /// Which rows a report holds: a roster's users.csv rows, its demographics.csv rows, or every row (other kinds).
    enum Part: Sendable {
        case users, demographics, all

        /// Whether rows with these columns are this report's.
        func holds(columns: [String]) -> Bool {
            switch self {
            case .all: true
            case .users: columns.contains(RosterPlanner.usersRowColumn)
            case .demographics: !columns.contains(RosterPlanner.usersRowColumn) && !columns.contains(RosterPlanner.syncColumn)
            }
        }
    }

    /// One report of a batch: its file name, its rows and its columns.
    struct Report: Sendable {
        var fileName: String
        var part: Part
        var columns: [String]

        /// The first line, after the byte order mark a spreadsheet needs to read its names right.
        var header: String { CSVWriter.byteOrderMark + CSVWriter.line(columns + DataDictionary.errorReportColumns) }

        /// The report's lines of the page's items that it holds, and how many: made on every core, a piece of the
        /// page each, and joined in the page's order.
        func lines(_ page: [BatchItem]) -> (text: String, rows: Int) {
            let pieces = Parallel.map(page.count, minimumPiece: 500) { range in [lines(page[range])] }
            return (pieces.map(\.text).joined(), pieces.reduce(0) { $0 + $1.rows })
        }

        private func lines(_ page: ArraySlice<BatchItem>) -> (text: String, rows: Int) {
            var text = "", rows = 0
            // The rows of one file share one list of columns: whether its rows are this report's, and where the
            // report's columns are in it, are found once a page for each list (a row's columns looked up by name
            // were 28 million lookups for a users.csv whose every row has an error).
            var layouts: [Int: [Int?]?] = [:]
            for item in page {
                let input = item.input
                let layout: [Int?]?
                if let known = layouts[input.columns.list] {
                    layout = known
                } else {
                    layout = part.holds(columns: input.keys) ? columns.map(input.columns.position(of:)) : nil
                    layouts[input.columns.list] = .some(layout)
                }
                guard let layout else { continue }
                let severity = item.issues.contains { $0.severity == .error } ? "error" : "warning"
                let issues = item.issues.map { ErrorReport.text(of: $0, row: item.row) }.joined(separator: " | ")
                var fixes: [String] = []
                for issue in item.issues where !fixes.contains(issue.fix) { fixes.append(issue.fix) }
                let values = input.values
                text += CSVWriter.line(
                    layout.map { $0.map { values[$0] } ?? "" } + [item.row.map(String.init) ?? "", severity, issues, fixes.joined(separator: " ")])
                rows += 1
            }
            return (text, rows)
        }
    }

    /// An issue as the `issues` column gives it, "column: message" (SPEC §4.5). A roster's message begins with its
    /// row and column ("Row 5, userId: …"), which the row's `rowNumber` and this column already say: left out, so
    /// that a line reads "userId: leading zeros appear to have been removed…", not "userId: Row 5, userId: leading…".
    static func text(of issue: BatchIssue, row: Int?) -> String {
        "\(issue.column ?? "row"): \(issue.messageAfterRow(row) ?? issue.message[...])"
    }

    /// The message as a list beside its row shows it: a roster's "Row 5, userId: …" as "userId: …"; any other
    /// message (a photo's, a document's) as it is.
    static func withoutRow(_ issue: BatchIssue, row: Int?) -> String {
        issue.messageAfterRow(row).map { "\(issue.column ?? ""): \($0)" } ?? issue.message
    }

    /// The reports of a batch: for a roster batch `users-errors.csv` and `demographics-errors.csv`, for the other
    /// kinds one `{file}-errors.csv`. `columnSets`: the columns of the items with an issue
    /// (`Store.columnsOfItemsWithIssues`). A report's columns are the dictionary's columns its rows had, in
    /// dictionary order (all of them when none of its rows has an issue); a kind without a dictionary lists the
    /// rows' columns by name.
    static func reports(kind: BatchKind, baseName: String, columnSets: [[String]]) -> [Report] {
        func present(_ dictionary: DataDictionary, _ part: Part) -> [String] {
            let held = columnSets.filter { part.holds(columns: $0) }
            let names = Set(held.joined())
            return dictionary.columns.map(\.name).filter { held.isEmpty || names.contains($0) }
        }
        switch kind {
        case .roster:
            return [
                Report(fileName: "users-errors.csv", part: .users, columns: present(RosterDictionaries.users, .users)),
                Report(fileName: "demographics-errors.csv", part: .demographics, columns: present(RosterDictionaries.demographics, .demographics)),
            ]
        default:
            let names = Set(columnSets.joined())
            let known = kind == .emails ? EmailBatch.dictionary.columns.map(\.name) : kind == .documents || kind == .photos ? ["fileName"] : []
            let columns = known.filter(names.contains)
            return [Report(fileName: "\(safeName(baseName))-errors.csv", part: .all, columns: columns.isEmpty ? names.sorted() : columns)]
        }
    }

    static func safeName(_ base: String) -> String {
        let cleaned = String(base.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_" ? Character($0) : "_" })
        return cleaned.isEmpty ? "batch" : String(cleaned.prefix(80))
    }
}

/// A batch's error reports written to files as its items come (the command line's `--errors`). The first report's
/// file is always written; another only once it has a row (a roster's demographics-errors.csv is not made, nor an
/// existing file of that name touched, when demographics.csv had no problem).
final class ErrorReportFiles: @unchecked Sendable {
    private let reports: [ErrorReport.Report]
    private let targets: [URL]
    private var handles: [FileHandle?]
    private var rows: [Int]
    private let lock = NSLock()

    init(_ reports: [ErrorReport.Report], at targets: [URL]) throws {
        self.reports = reports
        self.targets = targets
        handles = reports.map { _ in nil }
        rows = reports.map { _ in 0 }
        if !reports.isEmpty { try open(0) }
    }

    private func open(_ index: Int) throws {
        try Data(reports[index].header.utf8).write(to: targets[index])
        let handle = try FileHandle(forWritingTo: targets[index])
        try handle.seekToEnd()
        handles[index] = handle
    }

    /// Writes each report's lines of a page of items.
    func add(_ page: [BatchItem]) throws {
        lock.lock()
        defer { lock.unlock() }
        for index in reports.indices {
            let (text, count) = reports[index].lines(page)
            guard count > 0 else { continue }
            if handles[index] == nil { try open(index) }
            try handles[index]?.write(contentsOf: Data(text.utf8))
            rows[index] += count
        }
    }

    /// Closes the files and answers each report's rows (a report never opened has none and no file).
    func close() throws -> [Int] {
        lock.lock()
        defer { lock.unlock() }
        for handle in handles { try handle?.close() }
        return rows
    }
}
