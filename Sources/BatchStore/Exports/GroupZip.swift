import BatchCore
import Foundation

/// A group download (photos, documents): one ZIP with a file per student named by a pattern (collisions made unique
/// with `_2`, `_3`), optionally a folder per class, `index.csv` (every file and its student), `missing.csv` (chosen
/// students without a file) and, when names collided, `renamed.csv`. Written to a file one entry at a time
/// (`StreamingZip`, ZIP64 when needed): only the entry in hand is in memory.
public enum GroupZip {
    public struct Entry: Sendable {
        public var person: PersonListRow
        /// Values of the kind's own name tokens (documentType, …).
        public var values: [String: String]
        public var ext: String
        /// The kind's own index.csv columns, after the student's.
        public var index: [String]
        public var bytes: @Sendable () throws -> Data?

        public init(
            person: PersonListRow, values: [String: String], ext: String, index: [String],
            bytes: @escaping @Sendable () throws -> Data?
        ) {
            self.person = person
            self.values = values
            self.ext = ext
            self.index = index
            self.bytes = bytes
        }
    }

    /// What was written.
    public struct Written: Sendable, Hashable {
        public var files: Int
        public var missing: Int
        public var renamed: Int
        public var bytes: Int64
    }

    /// The person tokens of SPEC §5.2 for one student.
    public static func values(_ row: PersonListRow) -> [String: String] {
        let p = row.person
        return [
            "loginId": p.loginID?.rawValue ?? "", "userId": p.userID.rawValue, "firstName": p.firstName,
            "lastName": p.lastName,
            "preferredFirstName": p.preferredFirstName ?? "", "schoolId": row.schoolIDs.first ?? "",
            "classId": row.classIDs.first ?? "", "className": row.classNames.first ?? "", "grade": p.grade ?? "",
        ]
    }

    /// Writes the ZIP to `url` (replacing what is there); `progress` hears after each entry (done, total).
    @discardableResult
    public static func write(
        _ entries: [Entry], students: [PersonListRow], pattern: FileNamePattern, folderPerClass: Bool,
        indexColumns: [String],
        to url: URL, progress: (Int, Int) -> Void = { _, _ in }
    ) throws -> Written {
        let archive = try StreamingZip(url: url)
        var namer = FileNamePattern.Namer()
        var index = CSVWriter.line(
            ["file", "userId", "loginId", "firstName", "lastName", "class", "grade"] + indexColumns)
        var present: Set<String> = []
        var files = 0
        for (number, entry) in entries.enumerated() {
            let p = entry.person.person
            let className = entry.person.classNames.first ?? ""
            let stem = pattern.name(
                values(entry.person).merging(entry.values) { _, own in own }, fallback: p.userID.rawValue)
            let folder = folderPerClass ? FileNamePattern.safe(className.isEmpty ? "No class" : className) : nil
            guard let bytes = try entry.bytes() else { continue }
            let path = namer.unique(stem, ext: entry.ext, folder: folder)
            try archive.add(path, bytes)
            files += 1
            present.insert(p.userID.rawValue)
            index += CSVWriter.line(
                [path, p.userID.rawValue, p.loginID?.rawValue ?? "", p.firstName, p.lastName, className, p.grade ?? ""]
                    + entry.index)
            progress(number + 1, entries.count)
        }
        var missing = CSVWriter.line(["userId", "loginId", "firstName", "lastName", "class", "grade"])
        var missingCount = 0
        for row in students where !present.contains(row.person.userID.rawValue) {
            let p = row.person
            missing += CSVWriter.line([
                p.userID.rawValue, p.loginID?.rawValue ?? "", p.firstName, p.lastName, row.classNames.first ?? "",
                p.grade ?? "",
            ])
            missingCount += 1
        }
        var texts = [("index.csv", index), ("missing.csv", missing)]
        if !namer.collisions.isEmpty {
            texts.append(
                (
                    "renamed.csv",
                    CSVWriter.line(["wanted", "given"])
                        + namer.collisions.map { CSVWriter.line([$0.wanted, $0.given]) }.joined()
                ))
        }
        for (name, text) in texts { try archive.add(name, Data(text.utf8)) }
        let size = try archive.finish()
        return Written(files: files, missing: missingCount, renamed: namer.collisions.count, bytes: Int64(size))
    }
}
