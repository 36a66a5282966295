import Foundation

/// The student assessment documents batch (SPEC §7): PDF files named after students' login IDs, all filed under
/// one document type, school year and (optional) term.
///
/// This file holds the pure part: the batch's settings, judging a file by its content, and the login IDs a file
/// name may stand for. Matching students happens when the batch is planned.
public enum DocumentBatch {
    public static let maxFileBytes: Int64 = 20 * 1024 * 1024
    public static let maxFiles = 200

    /// The settings a document batch is created with.
    public struct Options: Sendable, Hashable, Codable {
        public var documentType: String
        public var schoolYear: String
        public var term: String?
        public var title: String?

        public init(documentType: String, schoolYear: String, term: String? = nil, title: String? = nil) {
            self.documentType = documentType
            self.schoolYear = schoolYear
            self.term = term
            self.title = title
        }

        /// The term as stored: empty when there is none, so “no term” is one slot.
        public var termKey: String { term ?? "" }

        /// “Assessment Report 2025-2026 T1”.
        public var summary: String { [documentType, schoolYear, term].compactMap { $0 }.joined(separator: " ") }

        /// Checks raw settings (from a form, the API or the command line) against the district's document types.
        /// Returns the cleaned options, or one message per problem.
        public static func validate(_ raw: [String: String], documentTypes: [String]) -> Result<Options, OptionsError> {
            var problems: [String] = []
            func clean(_ key: String) -> String? {
                let value = raw[key]?.trimmingCharacters(in: .whitespacesAndNewlines).nfc ?? ""
                return value.isEmpty ? nil : value
            }
            let type = clean("documentType")
            var matchedType: String?
            if let type {
                matchedType = documentTypes.first { $0 == type } ?? documentTypes.first { $0.lowercased() == type.lowercased() }
                if matchedType == nil {
                    problems.append(
                        "“\(type)” is not one of the district's document types (\(documentTypes.map { "“\($0)”" }.joined(separator: ", "))). "
                            + "A system administrator can add types under Settings › Document types.")
                }
            } else {
                problems.append("Choose a document type (documentType).")
            }
            let year = clean("schoolYear")
            if let year {
                if !SchoolYear.isValid(year) {
                    problems.append("School year “\(year)” should look like 2025-2026 (two years, the second one after the first).")
                }
            } else {
                problems.append("Give the school year (schoolYear), for example \(SchoolYear.current()).")
            }
            let term = clean("term")
            if let term, term.count > 40 { problems.append("The term is at most 40 characters (got \(term.count)).") }
            let title = clean("title")
            if let title, title.count > 200 { problems.append("The title is at most 200 characters (got \(title.count)).") }
            guard problems.isEmpty, let matchedType, let year else { return .failure(OptionsError(problems: problems)) }
            return .success(Options(documentType: matchedType, schoolYear: year, term: term, title: title))
        }
    }

    public struct OptionsError: Error, Sendable, Hashable {
        public var problems: [String]
    }

    /// Judges one uploaded file by its bytes: it must be a PDF (header near the start and an end-of-file marker
    /// near the end). Encrypted PDFs are accepted with a warning.
    public static func check(fileName: String, bytes: Data) -> [BatchIssue] {
        let type = FileType.sniff(bytes)
        guard type == .pdf else {
            if type == .empty {
                return [.error("empty_file", "\(fileName) is empty (0 bytes).", fix: "Choose the right file; it may not have been saved or copied completely.")]
            }
            return [
                .error(
                    "not_pdf", "\(fileName) is not a PDF: its content is \(type.words).",
                    fix: "Open it and save or export it as PDF (File › Save As or Export › PDF), then upload the PDF.",
                    value: type.rawValue)
            ]
        }
        var issues: [BatchIssue] = []
        if !Bytes.contains(Array("%%EOF".utf8), in: bytes.suffix(2048)) {
            issues.append(
                .error(
                    "pdf_truncated",
                    "\(fileName) is damaged or incomplete: it has no PDF end marker (%%EOF), so it was probably cut off while it was copied or downloaded.",
                    fix: "Open it on your computer to check it, then export or download it again."))
        }
        if Bytes.contains(Array("/Encrypt".utf8), in: bytes) {
            issues.append(
                .warning(
                    "pdf_encrypted",
                    "\(fileName) is password-protected (encrypted). It will be stored as it is; whoever opens it may need the password.",
                    fix: "If you can, upload a copy without a password."))
        }
        return issues
    }

    /// The login IDs a file name may stand for, longest first: the whole stem, then the stem cut before each `_`,
    /// `-` or space (`19chanw1 - report.pdf` → `19chanw1 - report`, `19chanw1 `, `19chanw1`). Lower-cased,
    /// trimmed, without duplicates.
    public static func candidates(forFileName fileName: String) -> [String] {
        let stem = stem(of: fileName)
        var result: [String] = []
        func add(_ text: Substring) {
            let value = text.trimmingCharacters(in: .whitespaces).lowercased().nfc
            if !value.isEmpty && !result.contains(value) { result.append(value) }
        }
        add(Substring(stem))
        var index = stem.endIndex
        while index > stem.startIndex {
            index = stem.index(before: index)
            if stem[index] == "_" || stem[index] == "-" || stem[index] == " " { add(stem[stem.startIndex..<index]) }
        }
        return result
    }

    /// The file name without its last extension.
    public static func stem(of fileName: String) -> String {
        let ext = (fileName as NSString).pathExtension
        return ext.isEmpty ? fileName : String(fileName.dropLast(ext.count + 1))
    }

    /// The item for one received file: its name, content hash and size, and what reading it found.
    public static func item(fileName: String, sha256: String, bytes: Data, id: Int64) -> BatchItem {
        let issues = check(fileName: fileName, bytes: bytes)
        return BatchItem(
            id: id, fileName: fileName, row: nil,
            input: ["fileName": fileName, "sha256": sha256, "byteSize": String(bytes.count)],
            label: stem(of: fileName), state: issues.contains { $0.severity == .error } ? .error : .ready, issues: issues)
    }
}

/// School years are written `2025-2026`.
public enum SchoolYear {
    public static func isValid(_ text: String) -> Bool {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, parts.allSatisfy({ $0.count == 4 && $0.allSatisfy(\.isASCII) && $0.allSatisfy(\.isNumber) }),
            let first = Int(parts[0]), let second = Int(parts[1])
        else { return false }
        return second == first + 1 && first >= 1900 && first < 2200
    }

    /// The school year a date falls in: from August on, the year that starts then.
    public static func current(_ date: Date = Date()) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let parts = calendar.dateComponents([.year, .month], from: date)
        let year = (parts.year ?? 2025) - ((parts.month ?? 9) >= 8 ? 0 : 1)
        return "\(year)-\(year + 1)"
    }

    /// The current year and the ones around it, newest first, for a drop-down.
    public static func recent(_ date: Date = Date()) -> [String] {
        let start = Int(current(date).prefix(4)) ?? 2025
        return (start - 3...start + 1).reversed().map { "\($0)-\($0 + 1)" }
    }
}

extension DocumentBatch {
    /// Checks the district's list of document types: at least one, each 1–60 characters, no two the same in any
    /// capitalisation. Returns the trimmed list, or one message per problem.
    public static func cleanTypes(_ types: [String]) -> Result<[String], OptionsError> {
        var cleaned: [String] = []
        var problems: [String] = []
        for type in types {
            let name = type.trimmingCharacters(in: .whitespacesAndNewlines).nfc
            if name.isEmpty { continue }
            if name.count > 60 {
                problems.append("“\(name.prefix(30))…” is longer than 60 characters.")
            } else if cleaned.contains(where: { $0.lowercased() == name.lowercased() }) {
                problems.append("“\(name)” is in the list twice.")
            } else {
                cleaned.append(name)
            }
        }
        if cleaned.isEmpty && problems.isEmpty { problems.append("Keep at least one document type.") }
        return problems.isEmpty ? .success(cleaned) : .failure(OptionsError(problems: problems))
    }
}
