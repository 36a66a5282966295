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
enum ErrorReport {
    /// The dictionary's columns that the uploaded files had, in dictionary order.
    static func columns(for kind: BatchKind, items: [BatchItem]) -> [String] {
        let present = Set(items.flatMap(\.input.keys))
        let known: [String]
        switch kind {
        case .emails: known = EmailBatch.dictionary.columns.map(\.name)
        case .documents, .photos: known = ["fileName"]
        case .roster:
            known = (items.contains(where: RosterPlanner.isUsersRow) ? RosterDictionaries.users : RosterDictionaries.demographics).columns.map(\.name)
        default: known = []
        }
        return known.filter(present.contains)
    }

    static func csv(items: [BatchItem], columns: [String]) -> String {
        let inputColumns = columns.isEmpty ? Array(Set(items.flatMap(\.input.keys))).sorted() : columns
        var text = CSVWriter.line(inputColumns + DataDictionary.errorReportColumns)
        for item in items {
            let severity = item.issues.contains { $0.severity == .error } ? "error" : "warning"
            let issues = item.issues.map { "\($0.column ?? "row"): \($0.message)" }.joined(separator: " | ")
            let fixes = Array(NSOrderedSet(array: item.issues.map(\.fix))) as? [String] ?? []
            text += CSVWriter.line(
                inputColumns.map { item.input[$0] ?? "" } + [item.row.map(String.init) ?? "", severity, issues, fixes.joined(separator: " ")])
        }
        return text
    }

    /// The error reports of a batch's problem rows: for a roster batch `users-errors.csv` and, when its
    /// demographics.csv has problems, `demographics-errors.csv`; for the other kinds one `{file}-errors.csv`.
    static func files(kind: BatchKind, items: [BatchItem], baseName: String) -> [(fileName: String, csv: String, rows: Int)] {
        guard kind == .roster else {
            return [("\(safeName(baseName))-errors.csv", csv(items: items, columns: columns(for: kind, items: items)), items.count)]
        }
        let users = items.filter(RosterPlanner.isUsersRow)
        let demographics = items.filter { !RosterPlanner.isUsersRow($0) && !RosterPlanner.isSyncItem($0) }
        var result = [("users-errors.csv", csv(items: users, columns: RosterDictionaries.users.columns.map(\.name).filter { column in
            users.isEmpty || users.contains { $0.input[column] != nil }
        }), users.count)]
        if !demographics.isEmpty {
            result.append(("demographics-errors.csv", csv(items: demographics, columns: columns(for: .roster, items: demographics)), demographics.count))
        }
        return result
    }

    static func safeName(_ base: String) -> String {
        let cleaned = String(base.unicodeScalars.map { CharacterSet.alphanumerics.contains($0) || $0 == "-" || $0 == "_" ? Character($0) : "_" })
        return cleaned.isEmpty ? "batch" : String(cleaned.prefix(80))
    }
}
