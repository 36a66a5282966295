import BatchCore
import BatchStore
import Foundation
import Vapor

/// A batch as the API shows it (Upload Status): status, progress, counts, report and links.
struct BatchJSON: Content {
    struct Progress: Content {
        var done: Int64
        var total: Int64
        var percent: Int
    }
    struct Links: Content {
        var page: String
        var items: String
        var errorReport: String
        /// A finished download's file.
        var download: String?
    }

    var id: String
    var kind: String
    var kindLabel: String
    var status: String
    var options: [String: String]
    var createdBy: String
    var createdAt: Date
    var updatedAt: Date
    var submittedAt: Date?
    var finishedAt: Date?
    var progress: Progress
    var counts: ItemCounts
    /// Roster batches: per entity (schools, staff, students, classes, enrollments, demographics) created, updated,
    /// unchanged, removed and with errors — the preview before Process, the report after.
    var entityCounts: [EntityCounts]
    var report: BatchReport?
    var failure: String?
    /// A photo download's request.
    var request: PhotoExportRequest?
    /// The counts (or a download's contents) in words, as Upload Status shows them.
    var summary: String
    /// A draft planned before the data last changed: its preview may no longer hold; `POST …/recheck` plans it again.
    /// Given by the batch's own endpoints, not by the list.
    var previewIsStale: Bool?
    var links: Links

    init(_ batch: Batch, live: (done: Int64, total: Int64)? = nil) {
        id = batch.id.rawValue
        kind = batch.kind.rawValue
        kindLabel = batch.kind.label
        status = batch.status.rawValue
        // The settings a person chose, as text (a roster batch also keeps the district's grade list: not shown).
        struct Scalar: Decodable {
            var text: String?
            init(from decoder: any Decoder) throws {
                let container = try decoder.singleValueContainer()
                if let text = try? container.decode(String.self) { self.text = text }
                else if let flag = try? container.decode(Bool.self) { text = flag ? "true" : "false" }
                else if let number = try? container.decode(Double.self) { text = String(number) }
            }
        }
        options = ((try? JSONDecoder().decode([String: Scalar].self, from: Data(batch.options.utf8))) ?? [:]).compactMapValues(\.text)
        createdBy = batch.createdByName
        createdAt = Date(millis: batch.createdAt)
        updatedAt = Date(millis: batch.updatedAt)
        submittedAt = batch.submittedAt.map(Date.init(millis:))
        finishedAt = batch.finishedAt.map(Date.init(millis:))
        let done = max(live?.done ?? 0, batch.progressDone)
        let total = max(live?.total ?? 0, batch.progressTotal)
        let finished = [.completed, .completedWithErrors, .undone].contains(batch.status)
        progress = Progress(
            done: finished ? total : done, total: total,
            percent: finished ? 100 : total > 0 ? Int(min(100, done * 100 / total)) : 0)
        counts = batch.counts
        entityCounts = batch.entityCounts
        report = batch.report
        failure = batch.failure
        summary = Self.summary(batch)
        request = batch.kind == .photoExport ? JSONText.decode(PhotoExportRequest.self, batch.options) : nil
        links = Links(
            page: "/uploads/\(batch.id.rawValue)", items: "/api/v1/batches/\(batch.id.rawValue)/items",
            errorReport: "/api/v1/batches/\(batch.id.rawValue)/error-report",
            download: batch.kind.isExport && batch.status == .completed
                ? "/api/v1/photo-exports/\(batch.id.rawValue)/download" : nil)
    }

    /// "12 changed · 3 unchanged", or for a download "180 photos · 4 students without a photo".
    static func summary(_ batch: Batch) -> String {
        if batch.kind.isExport {
            guard let export = batch.report?.export else { return batch.status.isRunning ? "Preparing the ZIP" : "No file" }
            var parts = ["\(export.files) photo\(export.files == 1 ? "" : "s")"]
            if export.missing > 0 { parts.append("\(export.missing) student\(export.missing == 1 ? "" : "s") without a photo") }
            if export.renamed > 0 { parts.append("\(export.renamed) renamed") }
            return parts.joined(separator: " · ")
        }
        let counts = batch.counts, status = batch.status
        var parts: [String] = []
        let changed = status == .draft || status == .queued || status == .cancelled ? counts.ready : counts.applied
        if changed > 0 { parts.append("\(changed.formatted()) \(status == .draft || status == .queued ? "to change" : "changed")") }
        if counts.unchanged > 0 { parts.append("\(counts.unchanged.formatted()) unchanged") }
        if counts.error > 0 { parts.append("\(counts.error.formatted()) with errors") }
        if counts.unmatched > 0 { parts.append("\(counts.unmatched.formatted()) unmatched") }
        if counts.skipped > 0 { parts.append("\(counts.skipped.formatted()) skipped") }
        if parts.isEmpty, status == .cancelled, batch.failure != nil { return "Nothing was uploaded: a file was refused (open the batch for why)" }
        return parts.isEmpty ? "No rows yet" : parts.joined(separator: " · ")
    }
}

extension Date {
    init(millis: Int64) { self.init(timeIntervalSince1970: Double(millis) / 1000) }
}

/// One item as the API shows it.
struct ItemJSON: Content {
    var id: Int64
    var fileName: String
    var row: Int?
    var input: [String: String]
    var target: String?
    var label: String
    var state: String
    var changes: [FieldChange]
    var issues: [BatchIssue]
    var manualTarget: String?

    init(_ item: BatchItem) {
        id = item.id
        fileName = item.fileName
        row = item.row
        input = item.input.dictionary
        target = item.target
        label = item.label
        state = item.state.rawValue
        changes = item.changes
        issues = item.issues
        manualTarget = item.manualTarget
    }
}

/// A stored file as the API shows it; `sha256` is the stored content's checksum.
struct FileJSON: Content {
    var id: String
    var fileName: String
    var byteSize: Int64
    var sha256: String
    var items: Int
    var warnings: [BatchIssue]

    init(_ file: BatchFile) {
        id = file.id
        fileName = file.fileName
        byteSize = file.byteSize
        sha256 = file.blobKey
        items = file.itemCount
        warnings = file.issues
    }
}
