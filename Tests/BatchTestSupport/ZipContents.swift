import Foundation
import ZIPFoundation

/// What a ZIP holds, read back for a test, and what `unzip -t` (Info-ZIP, the tool a school's IT would use) says of it.
public struct ZipContents: Sendable {
    /// Each file's bytes by its path in the archive.
    public var files: [String: Data]
    /// `unzip -tq`'s exit status: 0 when every entry's CRC and structure check out; -1 when unzip is not installed.
    public var unzipTest: Int32

    public init(_ url: URL) throws {
        var files: [String: Data] = [:]
        let archive = try Archive(url: url, accessMode: .read)
        for entry in archive {
            var data = Data()
            _ = try archive.extract(entry) { data.append($0) }
            files[entry.path] = data
        }
        self.files = files
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/unzip") else {
            unzipTest = -1
            return
        }
        let check = Process()
        check.executableURL = URL(fileURLWithPath: "/usr/bin/unzip")
        check.arguments = ["-tq", url.path]
        check.standardOutput = FileHandle.nullDevice
        try check.run()
        check.waitUntilExit()
        unzipTest = check.terminationStatus
    }

    /// The rows of a CSV file in the archive (simple CSV: the tests' values hold no commas or quotes).
    public func csvRows(_ path: String) -> [[String]] {
        guard let data = files[path] else { return [] }
        return String(decoding: data, as: UTF8.self).split(whereSeparator: \.isNewline).map {
            $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
        }
    }
}
