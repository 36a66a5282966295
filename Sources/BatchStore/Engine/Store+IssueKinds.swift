import BatchCore
import Foundation

/// The rows of a batch that have one kind of problem — the same severity, code and column — for the summary above a
/// preview's rows: how many rows have it, and the first of them as an example.
public struct IssueKind: Sendable, Hashable, Codable {
    public var severity: BatchIssue.Severity
    public var code: String
    public var column: String?
    /// The file its rows are in: a roster's users.csv and demographics.csv each have their own kinds (a
    /// demographics.csv row skipped because of its student's users.csv row is not one of users.csv's skipped rows).
    /// nil for kinds of whole files (photos, documents: each item is a file of its own name, and thirty photos with
    /// one problem are one kind), and in kinds kept by an earlier version.
    public var file: String?
    public var rows: Int
    /// The issue of the first row of this kind.
    public var first: BatchIssue
    /// The item of that row (items are numbered in file order, users.csv's before demographics.csv's).
    public var firstItem: Int64
    /// Up to five of the values its rows give in its column, each once, first met first: a secretary sees that
    /// “1st”, “K” and “Grade 3” are one kind of mistake. nil when the kinds were counted by the database.
    public var values: [String]?

    /// The filter that shows these rows (nil for a code or column that is not letters, digits and `_`).
    public var filter: IssueFilter? { IssueFilter(code: code, column: column) }
}

/// Items with one kind of issue: its code, and its column when it names one.
public struct IssueFilter: Sendable, Hashable {
    public var code: String
    public var column: String?

    /// nil when a text cannot be a code or a column's name (letters, digits and `_` only).
    public init?(code: String, column: String?) {
        func plain(_ text: String) -> Bool {
            !text.isEmpty && text.utf8.count <= 100
                && text.unicodeScalars.allSatisfy { $0 == "_" || ($0.isASCII && CharacterSet.alphanumerics.contains($0)) }
        }
        guard plain(code), column.map(plain) ?? true else { return nil }
        self.code = code
        self.column = column
    }

    /// The kind as an item's stored issues spell it, for `LIKE … ESCAPE '\'`. The issues are stored with their keys
    /// sorted, so an issue's code is followed by its column, or, when it names none, by `file` or `fix`.
    var likePattern: String {
        func escaped(_ text: String) -> String { text.replacingOccurrences(of: "_", with: "\\_") }
        let next = column.map { "\"column\":\"\(escaped($0))\"," } ?? "\"fi"
        return "%\"code\":\"\(escaped(code))\",\(next)%"
    }

    static let clause = "\(Store.hasIssues) AND issues LIKE ? ESCAPE '\\'"
}

extension IssueKind {
    /// The kinds of the items' issues, counted in memory: each kind with the number of items that have it and its
    /// first item's issue.
    public static func tally(_ items: [BatchItem]) -> [IssueKind] {
        struct Key: Hashable {
            var severity: BatchIssue.Severity
            var code: String
            var column: String?
            var file: String
            init(_ issue: BatchIssue, file: String) { (severity, code, column, self.file) = (issue.severity, issue.code, issue.column, file) }
        }
        var kinds: [Key: IssueKind] = [:]
        // (Read through the buffer: an item read from the array is copied whole.)
        items.withUnsafeBufferPointer { items in
            for index in items.indices where !items[index].issues.isEmpty {
                let issues = items[index].issues, file = items[index].row == nil ? "" : items[index].fileName
                for (position, issue) in issues.enumerated() {
                    let key = Key(issue, file: file)
                    // An item counts once for a kind, however many of its issues are of it.
                    guard !issues.prefix(position).contains(where: { Key($0, file: file) == key }) else { continue }
                    if kinds[key] != nil {
                        kinds[key]!.rows += 1
                        if let value = issue.value, !value.isEmpty, let values = kinds[key]!.values, values.count < Self.valuesKept,
                            !values.contains(value)
                        {
                            kinds[key]!.values!.append(value)
                        }
                    } else {
                        kinds[key] = IssueKind(
                            severity: issue.severity, code: issue.code, column: issue.column, file: file.isEmpty ? nil : file, rows: 1, first: issue,
                            firstItem: items[index].id, values: issue.value.map { $0.isEmpty ? [] : [$0] } ?? [])
                    }
                }
            }
        }
        return ordered(Array(kinds.values))
    }

    /// How many different values a kind keeps.
    public static let valuesKept = 5

    /// Errors before warnings, rows skipped because of another row's error after the errors that caused them, then
    /// the kinds more rows have first, then in file order.
    static func ordered(_ kinds: [IssueKind]) -> [IssueKind] {
        func rank(_ kind: IssueKind) -> Int { kind.severity == .warning ? 2 : kind.code == RosterFile.dependsOnBadRow ? 1 : 0 }
        return kinds.sorted { left, right in
            if rank(left) != rank(right) { return rank(left) < rank(right) }
            if left.rows != right.rows { return left.rows > right.rows }
            return (left.firstItem, left.code, left.column ?? "", left.severity.rawValue, left.file ?? "")
                < (right.firstItem, right.code, right.column ?? "", right.severity.rawValue, right.file ?? "")
        }
    }
}

extension Store {
    /// Keeps a batch's problems by kind, counted from all its planned items; nil forgets them (items planned in part,
    /// or changed one at a time), and they are then counted from the stored items.
    static func saveIssueKinds(_ db: any SQLConnection, batchID: BatchID, _ kinds: [IssueKind]?) throws {
        try db.execute(
            "UPDATE batches SET issue_kinds = ? WHERE batch_id = ?", [kinds.map { .text(JSONText.encode($0)) } ?? .null, .id(batchID)])
    }

    /// A batch's issues by kind (`IssueKind.ordered`): as kept when its items were planned, or else counted by the
    /// database from the items with issues (the partial index `batch_items_issues`), so that not every item with an
    /// issue is loaded.
    public func issueKinds(of batchID: BatchID) async throws -> [IssueKind] {
        try await backend.read { db in
            if let kept = try db.first("SELECT issue_kinds FROM batches WHERE batch_id = ?", [.id(batchID)])?.optionalText("issue_kinds"),
                let kinds = JSONText.decode([IssueKind].self, kept)
            {
                return kinds
            }
            // (A row's file; a whole-file item's name is not a file its kinds are split by.)
            let withIssues = """
                SELECT item_id, CASE WHEN row_number IS NULL THEN '' ELSE file_name END AS file_name, issues
                FROM batch_items WHERE \(Self.itemsOfBatch) AND \(Self.hasIssues)
                """
            let each = switch db.dialect {
            case .sqlite:
                """
                SELECT json_extract(j.value, '$.severity') AS severity, json_extract(j.value, '$.code') AS code,
                    json_extract(j.value, '$.column') AS col, i.file_name AS file_name, i.item_id AS item_id
                FROM (\(withIssues)) i, json_each(i.issues) j
                """
            case .postgres:
                """
                SELECT j ->> 'severity' AS severity, j ->> 'code' AS code, j ->> 'column' AS col, i.file_name AS file_name,
                    i.item_id AS item_id
                FROM (\(withIssues)) i CROSS JOIN LATERAL jsonb_array_elements(i.issues::jsonb) j
                """
            }
            let groups = try db.query(
                """
                SELECT severity, code, col, file_name, COUNT(DISTINCT item_id) AS n, MIN(item_id) AS first_item
                FROM (\(each)) e GROUP BY severity, code, col, file_name
                """, [.id(batchID)]
            ).map { row in
                (
                    severity: BatchIssue.Severity(rawValue: try row.text("severity")) ?? .error, code: try row.text("code"),
                    column: row.optionalText("col"), file: try row.text("file_name"), rows: Int(try row.int("n")),
                    firstItem: try row.int("first_item")
                )
            }
            guard !groups.isEmpty else { return [] }
            var issuesOf: [Int64: [BatchIssue]] = [:]
            for row in try db.query(
                "SELECT item_id, issues FROM batch_items WHERE \(Self.itemsOfBatch) AND item_id IN (\(placeholders(Set(groups.map(\.firstItem)).count)))",
                [.id(batchID)] + Set(groups.map(\.firstItem)).map { .int($0) })
            {
                issuesOf[try row.int("item_id")] = row.optionalText("issues").flatMap { FlatJSON.readIssues($0) ?? JSONText.decode([BatchIssue].self, $0) } ?? []
            }
            let kinds = groups.compactMap { group -> IssueKind? in
                guard let first = issuesOf[group.firstItem]?.first(where: { $0.code == group.code && $0.column == group.column })
                else { return nil }
                return IssueKind(
                    severity: group.severity, code: group.code, column: group.column, file: group.file.isEmpty ? nil : group.file, rows: group.rows,
                    first: first,
                    firstItem: group.firstItem)
            }
            return IssueKind.ordered(kinds)
        }
    }
}
