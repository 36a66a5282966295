import Foundation

/// The columns a CSV file may have, with what each means. The same value checks the header of an upload and is
/// rendered as the downloadable data dictionary, so the two never disagree.
public struct DataDictionary: Sendable {
    public enum Requirement: String, Sendable, Codable { case required, conditional, optional }

    public struct Column: Sendable, Codable, Hashable {
        public var name: String
        public var requirement: Requirement
        public var meaning: String
        public var format: String
        public var example: String
        public init(_ name: String, _ requirement: Requirement, meaning: String, format: String, example: String) {
            self.name = name
            self.requirement = requirement
            self.meaning = meaning
            self.format = format
            self.example = example
        }
    }

    public var fileName: String
    public var columns: [Column]
    /// Groups of columns of which at least one must be present (`loginId` or `userId`).
    public var oneOf: [[String]]

    public init(fileName: String, columns: [Column], oneOf: [[String]] = []) {
        self.fileName = fileName
        self.columns = columns
        self.oneOf = oneOf
    }

    /// The columns of our own error report, ignored on upload so a corrected error report can be sent back as is.
    public static let errorReportColumns = ["rowNumber", "severity", "issues", "howToFix"]

    /// The header line and two example rows, as a downloadable template.
    public func template(exampleRows: [[String: String]]) -> String {
        let names = columns.map(\.name)
        var lines = [names.joined(separator: ",")]
        for row in exampleRows { lines.append(names.map { CSVWriter.cell(row[$0] ?? "") }.joined(separator: ",")) }
        return lines.joined(separator: "\r\n") + "\r\n"
    }
}

/// A CSV file whose header passed the dictionary's checks.
public struct CSVTable: Sendable {
    public var fileName: String
    /// The header as written (trimmed).
    public var header: [String]
    /// Column name → index in `cells`, for the dictionary's columns that are present.
    public var index: [String: Int]
    public var records: [CSVRecord]
    /// Warnings about the file as a whole (converted encoding, trimmed header names).
    public var warnings: [BatchIssue]
    /// The dictionary's columns that are present, in the file's order: the names every row's `values(of:)` shares.
    public let rowColumns: RowValues.Columns
    /// Where each of `rowColumns` is in a record's cells.
    private let positions: [Int]
    /// Whether `positions` are 0, 1, 2…: the file has the dictionary's columns and no others.
    private let positionsAreCells: Bool
    /// Where the records' `bytes` count from in the file as given (after a UTF-8 byte-order mark); nil when the file
    /// was converted to UTF-8, so that its records' bytes are those of the converted text.
    public let recordBase: Int?

    public init(
        fileName: String, header: [String], index: [String: Int], records: [CSVRecord], warnings: [BatchIssue], recordBase: Int? = nil
    ) {
        self.recordBase = recordBase
        self.fileName = fileName
        self.header = header
        self.index = index
        self.records = records
        self.warnings = warnings
        let present = index.sorted { $0.value < $1.value }
        rowColumns = RowValues.Columns(present.map(\.key))
        positions = present.map(\.value)
        positionsAreCells = positions == Array(positions.indices)
    }

    /// The trimmed value of a column in a record, or "" when the column is absent.
    public func value(_ column: String, in record: CSVRecord) -> String { Self.cell(index[column], of: record) }

    /// The trimmed cell at a position (`index`'s) of a record, or "" when there is none (a short row, an absent column).
    public static func cell(_ position: Int?, of record: CSVRecord) -> String {
        guard let position, position < record.cells.count else { return "" }
        return record.cells[position].trimmedCell
    }

    /// The dictionary's columns that are present, in the order `values(of:)` gives them.
    public var columns: [String] { rowColumns.names }

    /// Column name → trimmed value for every column of the dictionary that is present. `columns`: `rowColumns` or
    /// a copy of it (`RowValues.Columns.copy()`).
    public func values(of record: CSVRecord, listedIn columns: RowValues.Columns? = nil) -> RowValues {
        guard positionsAreCells && record.cells.count == positions.count else {
            return RowValues(columns: columns ?? rowColumns, values: positions.map { Self.cell($0, of: record) })
        }
        // The record's own cells, shared rather than copied (at state size a second copy of every row's cells was
        // half a gigabyte): only a cell that trimming changes makes the row an array of its own.
        return Self.values(cells: record.cells, columns: columns ?? rowColumns)
    }

    /// A row of exactly the file's cells, trimmed (`values(of:)` for a file with the dictionary's columns and no
    /// others, and a record of as many cells); the cells are shared, not copied.
    public static func values(cells: Cells, columns: RowValues.Columns) -> RowValues {
        RowValues(columns: columns, values: cells.trimmed())
    }

    /// Where in the file as given a record's row can be read again (`CSVReader.cells(at:in:)`, then
    /// `values(cells:columns:)`) to give exactly `values(of:)`; nil when it cannot (a converted file, a file with other
    /// columns, a short or long record).
    public func span(of record: CSVRecord) -> FileSpan? {
        guard let recordBase, positionsAreCells, record.cells.count == positions.count, !record.bytes.isEmpty else { return nil }
        return FileSpan(offset: recordBase + record.bytes.lowerBound, length: record.bytes.count)
    }

    /// Reads a file and checks its header: a misspelled, wrongly capitalised, duplicated, unknown or missing
    /// header fails the whole file at once with every problem named, and the nearest correct name suggested.
    public static func read(bytes: Data, fileName: String, dictionary: DataDictionary) -> Result<CSVTable, FileRejection>
    {
        var warnings: [BatchIssue] = []
        var parsed: CSVReader.Parse
        var recordBase: Int?
        if let direct = CSVText.parseIfUTF8(bytes) {
            parsed = direct
            recordBase = CSVText.utf8Start(bytes)
        } else {
            let decoded = CSVText(bytes: bytes)
            if let warning = decoded.conversionWarning {
                warnings.append(.warning("converted_encoding", warning, fix: "Save the file as CSV UTF-8 next time."))
            }
            parsed = CSVReader.parse(decoded.text)
        }
        if let line = parsed.unterminatedQuoteLine {
            return .failure(
                FileRejection(
                    fileName: fileName,
                    issues: [
                        .error(
                            "unterminated_quote",
                            "Line \(line) has a value that starts with a quote mark (\") that is never closed, so the rest of "
                                + "the file would be read as one cell. Nothing was read.",
                            fix: "Open the file, go to line \(line), and close the quote or remove it (a quote inside a value is "
                                + "written twice: \"\"), then upload the file again.",
                            column: "line \(line)")
                    ]))
        }
        // Taken out of the parse, so that removing the header moves the records up instead of copying them all.
        var records = parsed.records
        parsed.records = []
        guard !records.isEmpty else {
            return .failure(
                FileRejection(
                    fileName: fileName,
                    issues: [
                        .error(
                            "empty_file", "The file is empty.",
                            fix: "Download the template, fill in one row per student and upload it again.")
                    ]))
        }
        let headerRecord = records.removeFirst()
        let known = dictionary.columns.map(\.name)
        var issues: [BatchIssue] = []
        var index: [String: Int] = [:]
        var header: [String] = []
        // Names already suggested for a misspelled header are not reported missing a second time.
        var suggested: Set<String> = []
        for (position, raw) in headerRecord.cells.enumerated() {
            let name = raw.trimmingCharacters(in: .whitespaces)
            header.append(name)
            if name != raw {
                warnings.append(
                    .warning(
                        "header_trimmed", "The header \"\(raw)\" has spaces around it; it was read as \"\(name)\".",
                        fix: "Remove the spaces from the header cell.", column: name, value: raw))
            }
            if DataDictionary.errorReportColumns.contains(name) { continue }
            if name.isEmpty {
                issues.append(
                    .error(
                        "empty_header", "Column \(position + 1) has no header name.",
                        fix: "Give the column one of the names in the data dictionary, or delete the column.",
                        column: "column \(position + 1)", value: raw))
            } else if known.contains(name) {
                if index[name] != nil {
                    issues.append(
                        .error(
                            "duplicate_header", "The header \"\(name)\" appears more than once.",
                            fix: "Keep one \"\(name)\" column and delete the others.", column: name, value: name))
                } else {
                    index[name] = position
                }
            } else if let suggestion = Similarity.nearest(to: name, in: known) {
                let code = suggestion.lowercased() == name.lowercased() ? "header_wrong_case" : "unknown_header"
                suggested.insert(suggestion)
                issues.append(
                    .error(
                        code, "\"\(name)\" — did you mean \"\(suggestion)\"?",
                        fix: "Rename the header to \"\(suggestion)\" exactly (headers are case-sensitive).",
                        column: name, value: name))
            } else {
                issues.append(
                    .error(
                        "unknown_header", "\"\(name)\" is not a column of \(dictionary.fileName).",
                        fix: "Delete this column or rename it to one of: \(known.joined(separator: ", ")).",
                        column: name, value: name))
            }
        }
        for column in dictionary.columns where column.requirement == .required && index[column.name] == nil {
            if suggested.contains(column.name) { continue }
            issues.append(
                .error(
                    "missing_header", "The required column \"\(column.name)\" is missing.",
                    fix: "Add a column headed \"\(column.name)\" (\(column.meaning.lowercased())).", column: column.name))
        }
        for group in dictionary.oneOf where !group.contains(where: { index[$0] != nil }) {
            if group.contains(where: suggested.contains) { continue }
            let names = group.map { "\"\($0)\"" }.joined(separator: " or ")
            issues.append(
                .error(
                    "missing_header", "The file needs a \(names) column to say who each row is about.",
                    fix: "Add a column headed \(names).", column: group.joined(separator: "/")))
        }
        if issues.isEmpty && records.isEmpty {
            issues.append(
                .error(
                    "no_rows", "The file has a header but no data rows.",
                    fix: "Add one row per student under the header and upload it again."))
        }
        guard issues.isEmpty else { return .failure(FileRejection(fileName: fileName, issues: issues)) }
        return .success(
            CSVTable(fileName: fileName, header: header, index: index, records: records, warnings: warnings, recordBase: recordBase))
    }
}
