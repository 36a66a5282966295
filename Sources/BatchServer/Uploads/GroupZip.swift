import BatchCore
import BatchStore
import Foundation
import Vapor
import ZIPFoundation

/// A group download (photos, documents): one ZIP with a file per student named by a pattern (collisions made unique
/// with `_2`, `_3`), optionally a folder per class, `index.csv` (every file, its student, and the collisions) and
/// `missing.csv` (chosen students without a file). Written to a temporary file one entry at a time (ZIP64 when
/// needed, by ZIPFoundation), then streamed from disk and removed: never held in memory.
enum GroupZip {
    struct Entry {
        var person: PersonListRow
        /// Values of the kind's own name tokens (documentType, …).
        var values: [String: String]
        var ext: String
        /// The kind's own index.csv columns, after the student's.
        var index: [String]
        var bytes: () throws -> Data?
    }

    /// The person tokens of SPEC §5.2 for one student.
    static func values(_ row: PersonListRow) -> [String: String] {
        let p = row.person
        return [
            "loginId": p.loginID?.rawValue ?? "", "userId": p.userID.rawValue, "firstName": p.firstName, "lastName": p.lastName,
            "preferredFirstName": p.preferredFirstName ?? "", "className": row.classNames.first ?? "", "grade": p.grade ?? "",
        ]
    }

    static func response(
        _ entries: [Entry], students: [PersonListRow], pattern: FileNamePattern, folderPerClass: Bool, indexColumns: [String],
        req: Request, downloadName: String
    ) async throws -> Response {
        let directory = req.application.schoolBatch.config.uploadDirectory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let url = directory.appendingPathComponent("export-\(UUID().uuidString).zip")
        do {
            try write(entries, students: students, pattern: pattern, folderPerClass: folderPerClass, indexColumns: indexColumns, to: url)
        } catch {
            try? FileManager.default.removeItem(at: url)
            throw error
        }
        let response = try await req.fileio.asyncStreamFile(
            at: url.path, mediaType: HTTPMediaType(type: "application", subType: "zip"),
            onCompleted: { _ in try? FileManager.default.removeItem(at: url) })
        response.headers.replaceOrAdd(name: .contentDisposition, value: DocumentDownloads.disposition(downloadName))
        response.headers.replaceOrAdd(name: .cacheControl, value: "private, no-store")
        return response
    }

    static func write(
        _ entries: [Entry], students: [PersonListRow], pattern: FileNamePattern, folderPerClass: Bool, indexColumns: [String],
        to url: URL
    ) throws {
        let archive = try Archive(url: url, accessMode: .create)
        var namer = FileNamePattern.Namer()
        var index = CSVWriter.line(["file", "userId", "loginId", "firstName", "lastName", "class", "grade"] + indexColumns)
        var present: Set<String> = []
        for entry in entries {
            let p = entry.person.person
            let className = entry.person.classNames.first ?? ""
            let stem = pattern.name(values(entry.person).merging(entry.values) { _, own in own }, fallback: p.userID.rawValue)
            let folder = folderPerClass ? FileNamePattern.safe(className.isEmpty ? "No class" : className) : nil
            guard let bytes = try entry.bytes() else { continue }
            let path = namer.unique(stem, ext: entry.ext, folder: folder)
            try archive.addEntry(
                with: path, type: .file, uncompressedSize: Int64(bytes.count), compressionMethod: .none,
                provider: { position, size in bytes.subdata(in: Int(position)..<Int(position) + size) })
            present.insert(p.userID.rawValue)
            index += CSVWriter.line(
                [path, p.userID.rawValue, p.loginID?.rawValue ?? "", p.firstName, p.lastName, className, p.grade ?? ""] + entry.index)
        }
        var missing = CSVWriter.line(["userId", "loginId", "firstName", "lastName", "class", "grade"])
        for row in students where !present.contains(row.person.userID.rawValue) {
            let p = row.person
            missing += CSVWriter.line([p.userID.rawValue, p.loginID?.rawValue ?? "", p.firstName, p.lastName, row.classNames.first ?? "", p.grade ?? ""])
        }
        var files = [("index.csv", index), ("missing.csv", missing)]
        if !namer.collisions.isEmpty {
            files.append(("renamed.csv", CSVWriter.line(["wanted", "given"]) + namer.collisions.map { CSVWriter.line([$0.wanted, $0.given]) }.joined()))
        }
        for (name, text) in files {
            let data = Data(text.utf8)
            try archive.addEntry(
                with: name, type: .file, uncompressedSize: Int64(data.count), compressionMethod: .deflate,
                provider: { position, size in data.subdata(in: Int(position)..<Int(position) + size) })
        }
    }
}
