import BatchCore
import BatchStore
import Vapor

/// A download's own page (`/uploads/{id}` of a `photo_export`): what was asked for, progress while the ZIP is
/// written, then the Download button with what the ZIP holds.
struct ExportPage: Encodable {
    var layout: LayoutContext
    var batch: BatchJSON
    var statusLabel: String
    var summary: String
    /// What was chosen, in words.
    var choices: [Choice]

    struct Choice: Encodable {
        var label: String
        var value: String
    }
    var download: String?
    var downloadSize: String?
    var expired: Bool
    var notes: [String]
    var notice: String?
    var canCancel: Bool

    static func render(_ batch: Batch, account: Account, req: Request) async throws -> View {
        let request = JSONText.decode(PhotoExportRequest.self, batch.options) ?? PhotoExportRequest()
        let json = BatchJSON(batch, live: req.engine.progress.progress(of: batch.id))
        let file = req.engine.exportFile(of: batch.id)
        let expired = batch.status == .completed && !FileManager.default.fileExists(atPath: file.path)
        var notes: [String] = []
        if let export = batch.report?.export {
            if export.missing > 0 {
                notes.append(
                    "\(export.missing) of the \(export.students) chosen students have no photo yet; they are listed in missing.csv inside the ZIP."
                )
            }
            if export.renamed > 0 {
                notes.append(
                    "\(export.renamed) file names came out the same and were given _2, _3 …; renamed.csv inside the ZIP lists them."
                )
            }
            if export.students == 0 { notes.append("No active student matches what was chosen.") }
        }
        return try await req.view.render(
            "export",
            ExportPage(
                layout: LayoutContext(request: req, title: "Photo download"), batch: json,
                statusLabel: batch.status.label,
                summary: json.summary, choices: try await choices(request, req: req),
                download: expired ? nil : json.links.download,
                downloadSize: batch.report?.export.map {
                    ByteCountFormatter.string(fromByteCount: $0.bytes, countStyle: .file)
                },
                expired: expired, notes: notes, notice: Notice.text(req.query[String.self, at: "done"]),
                canCancel: account.can(.photoExport) && batch.status == .queued))
    }

    /// ("Schools", "North Primary (001)"), ("Grades", "05, 06"), ("Size", "At most 240 × 300 px"), ("File names", …).
    static func choices(_ request: PhotoExportRequest, req: Request) async throws -> [Choice] {
        var lines: [Choice] = []
        if !request.schoolIds.isEmpty {
            let names = Dictionary(
                try await req.store.schools().compactMap { s in s.schoolID.map { ($0.rawValue, s.name) } },
                uniquingKeysWith: { a, _ in a })
            lines.append(
                .init(
                    label: "Schools",
                    value: request.schoolIds.map { "\(names[$0] ?? $0) (\($0))" }.joined(separator: ", ")))
        }
        if !request.grades.isEmpty {
            lines.append(.init(label: "Grades", value: request.grades.joined(separator: ", ")))
        }
        if !request.classIds.isEmpty {
            let names = Dictionary(
                try await req.store.classes(scope: .district).map {
                    ($0.schoolClass.classID.rawValue, "\($0.schoolClass.name) (\($0.schoolName))")
                }, uniquingKeysWith: { a, _ in a })
            lines.append(
                .init(label: "Classes", value: request.classIds.map { names[$0] ?? $0 }.joined(separator: ", ")))
        }
        if !request.userIds.isEmpty {
            lines.append(.init(label: "Students", value: "\(request.userIds.count) chosen one by one"))
        }
        if lines.isEmpty { lines.append(.init(label: "Students", value: "Every active student you can see")) }
        lines.append(.init(label: "Size", value: request.sizeWords))
        let pattern = FileNamePattern(request.namePattern).pattern
        lines.append(.init(label: "File names", value: "\(request.folderPerClass ? "{className}/" : "")\(pattern).jpg"))
        return lines
    }
}
