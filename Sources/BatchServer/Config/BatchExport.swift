import BatchCore
import BatchStore
import Foundation

/// `schoolbatch photos export`: the same download as the page and the API — checked, queued, written by a worker
/// (this process runs it to the end), then copied to `--out`.
public enum BatchExport {
    public static func run(
        _ request: PhotoExportRequest, out: URL, username: String?, services: AppServices, print say: (String) -> Void
    ) async throws -> BatchImport.Exit {
        let store = services.store, engine = services.engine
        guard let account = try await BatchImport.actingAccount(username, store: store, kind: .photoExport) else {
            say(
                "No account \(username.map { "“\($0)” " } ?? "")may download photos. Use --username with a system-admin or student-records account."
            )
            return .refused
        }
        let batch: Batch
        do {
            batch = try await engine.requestExport(.photoExport, options: JSONText.encode(request), by: account)
        } catch let StoreError.invalid(message, details) {
            say("error: \(message)")
            for detail in details { say("  \(detail)") }
            return .refused
        }
        say("Photo download \(batch.id.rawValue) as \(account.username): writing the ZIP…")
        let current = try await BatchImport.runToEnd(batch.id, engine: engine)
        guard current.status == .completed, let summary = current.report?.export else {
            say("The download failed: \(current.failure ?? current.status.words)")
            return .notApplied
        }
        try? FileManager.default.removeItem(at: out)
        try FileManager.default.copyItem(at: engine.exportFile(of: batch.id), to: out)
        say(
            "Wrote \(out.path): \(summary.files) photo\(summary.files == 1 ? "" : "s") of \(summary.students) chosen student"
                + "\(summary.students == 1 ? "" : "s"), \(summary.missing) without a photo (missing.csv)"
                + (summary.renamed > 0 ? ", \(summary.renamed) renamed (renamed.csv)" : "") + ", "
                + ByteCountFormatter.string(fromByteCount: summary.bytes, countStyle: .file) + ".")
        return .ok
    }
}
