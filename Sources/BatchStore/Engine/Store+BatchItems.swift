import BatchCore
import Foundation

/// A file received into a batch, as stored.
public struct BatchFile: Sendable, Hashable, Codable {
    public var id: String
    public var fileName: String
    public var blobKey: String
    public var byteSize: Int64
    public var itemCount: Int
    /// Warnings about the file as a whole.
    public var issues: [BatchIssue]
    public var createdAt: Int64
}

extension Store {
    static let itemColumns = [
        "batch_id", "item_id", "file_name", "row_number", "input", "target", "label", "state", "changes", "issues",
        "manual_target", "suggestions",
    ]

    static func insertItems(_ db: any SQLConnection, batchID: BatchID, items: [BatchItem]) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        func json<T: Encodable & Collection>(_ value: T) throws -> SQLValue {
            value.isEmpty ? .text(T.self == [String: String].self ? "{}" : "[]") : .text(String(decoding: try encoder.encode(value), as: UTF8.self))
        }
        // The row's cells and its changes are written by hand: one JSONEncoder call an item and column costs more
        // than the rest of a 1.4-million-row roster import. A slice at a time: the encoded rows of a whole state-size
        // file would be gigabytes.
        for slice in items.chunked(insertSlice) {
            var rows: [[SQLValue]] = []
            rows.reserveCapacity(slice.count)
            for item in slice {
                rows.append([
                    .id(batchID), .int(item.id), .text(item.fileName), .optional(item.row.map(Int64.init)), .text(FlatJSON.object(item.input)),
                    .optional(item.target), .text(item.label), .text(item.state.rawValue), .text(FlatJSON.changes(item.changes)),
                    try json(item.issues), .optional(item.manualTarget), try json(item.suggestions),
                ])
            }
            try db.bulkInsert(table: "batch_items", columns: itemColumns, rows: rows)
        }
    }

    /// Rows a bulk write builds at once.
    static let insertSlice = 10_000

    static func updateItem(_ db: any SQLConnection, batchID: BatchID, item: BatchItem) throws {
        try db.execute(
            """
            UPDATE batch_items SET target = ?, label = ?, state = ?, changes = ?, issues = ?, manual_target = ?,
                suggestions = ?
            WHERE batch_id = ? AND item_id = ?
            """,
            [
                .optional(item.target), .text(item.label), .text(item.state.rawValue), .text(FlatJSON.changes(item.changes)),
                .text(JSONText.encode(item.issues)), .optional(item.manualTarget), .text(JSONText.encode(item.suggestions)),
                .id(batchID), .int(item.id),
            ])
    }

    /// Every item of a batch. 200,000 separate JSONDecoder calls cost several seconds in the decoder's per-call setup,
    /// so the common columns are read by hand and the rest decoded in one call for all rows.
    static func loadItems(_ db: any SQLConnection, batchID: BatchID, state: ItemState? = nil) throws -> [BatchItem] {
        // A page of rows at a time: the database's rows and the decoded items are not both held for the whole batch.
        var items: [BatchItem] = []
        var after: Int64 = 0
        while true {
            let filter = state.map { _ in " AND state = ?" } ?? ""
            let rows = try db.query(
                "SELECT * FROM batch_items WHERE batch_id = ? AND item_id > ?\(filter) ORDER BY item_id LIMIT \(loadPage)",
                [.id(batchID), .int(after)] + (state.map { [.text($0.rawValue)] } ?? []))
            guard let last = rows.last else { return items }
            items += try decodeItems(rows)
            after = try last.int("item_id")
            if rows.count < loadPage { return items }
        }
    }

    static let loadPage = 20_000

    static func decodeItems(_ rows: [SQLRow]) throws -> [BatchItem] {
        guard !rows.isEmpty else { return [] }
        // Cells and changes are read by hand (`FlatJSON`); issues and suggestions, mostly empty, by one JSONDecoder
        // call for all the rows that have any.
        func array(_ name: String, _ indices: [Int]) throws -> Data {
            var text = "["
            for (position, index) in indices.enumerated() {
                if position > 0 { text += "," }
                text += try rows[index].text(name)
            }
            text += "]"
            return Data(text.utf8)
        }
        let decoder = JSONDecoder()
        var inputs: [[String: String]] = [], changes: [[FieldChange]] = []
        inputs.reserveCapacity(rows.count)
        changes.reserveCapacity(rows.count)
        var slow: (inputs: [Int], changes: [Int]) = ([], [])
        for (index, row) in rows.enumerated() {
            let input = try row.text("input")
            if let read = FlatJSON.readObject(input) { inputs.append(read) } else { inputs.append([:]); slow.inputs.append(index) }
            let change = try row.text("changes")
            if let read = FlatJSON.readChanges(change) { changes.append(read) } else { changes.append([]); slow.changes.append(index) }
        }
        for (index, value) in zip(slow.inputs, try decoder.decode([[String: String]].self, from: try array("input", slow.inputs))) {
            inputs[index] = value
        }
        for (index, value) in zip(slow.changes, try decoder.decode([[FieldChange]].self, from: try array("changes", slow.changes))) {
            changes[index] = value
        }
        var issues = [[BatchIssue]](repeating: [], count: rows.count), suggestions = [[Suggestion]](repeating: [], count: rows.count)
        let withIssues = rows.indices.filter { (rows[$0].optionalText("issues") ?? "[]") != "[]" }
        for (index, value) in zip(withIssues, try decoder.decode([[BatchIssue]].self, from: try array("issues", withIssues))) {
            issues[index] = value
        }
        let withSuggestions = rows.indices.filter { (rows[$0].optionalText("suggestions") ?? "[]") != "[]" }
        for (index, value) in zip(withSuggestions, try decoder.decode([[Suggestion]].self, from: try array("suggestions", withSuggestions))) {
            suggestions[index] = value
        }
        return try rows.indices.map { index in
            let row = rows[index]
            return BatchItem(
                id: try row.int("item_id"), fileName: try row.text("file_name"), row: row["row_number"].int.map(Int.init),
                input: inputs[index], target: row.optionalText("target"), label: try row.text("label"),
                state: ItemState(rawValue: try row.text("state")) ?? .error, changes: changes[index], issues: issues[index],
                manualTarget: row.optionalText("manual_target"), suggestions: suggestions[index])
        }
    }

    /// Stores a planned batch's per-entity counts (kinds that have them).
    static func saveEntityCounts(_ db: any SQLConnection, batchID: BatchID, _ counts: [EntityCounts]?) throws {
        guard let counts else { return }
        try db.execute("UPDATE batches SET entity_counts = ? WHERE batch_id = ?", [.text(JSONText.encode(counts)), .id(batchID)])
    }

    static func nextItemID(_ db: any SQLConnection, batchID: BatchID) throws -> Int64 {
        try db.scalarInt("SELECT COALESCE(MAX(item_id), 0) FROM batch_items WHERE batch_id = ?", [.id(batchID)]) + 1
    }

    /// Counts items by state and stores the counts on the batch.
    @discardableResult
    static func refreshCounts(_ db: any SQLConnection, batchID: BatchID) throws -> ItemCounts {
        var counts = ItemCounts()
        for row in try db.query(
            "SELECT state, COUNT(*) AS n FROM batch_items WHERE batch_id = ? GROUP BY state", [.id(batchID)])
        {
            if let state = ItemState(rawValue: try row.text("state")) {
                counts[state] = Int(try row.int("n"))
                counts.total += counts[state]
            }
        }
        counts.warnings = Int(
            try db.scalarInt(
                "SELECT COUNT(*) FROM batch_items WHERE batch_id = ? AND issues LIKE ?", [.id(batchID), .text("%\"warning\"%")]))
        try db.execute(
            "UPDATE batches SET counts = ?, updated_at = ? WHERE batch_id = ?",
            [.text(JSONText.encode(counts)), .int(Clock.nowMillis()), .id(batchID)])
        return counts
    }

    /// One page of a batch's items, optionally of one state.
    /// `warningsOnly`: items with a warning; `changing`: items whose changes touch that record kind (`class`).
    public func items(
        of batchID: BatchID, state: ItemState? = nil, warningsOnly: Bool = false, changing entity: String? = nil,
        problemsFirst: Bool = false, offset: Int = 0, limit: Int = 100
    ) async throws -> Page<BatchItem> {
        let limit = min(max(limit, 1), 1000), offset = max(offset, 0)
        return try await backend.read { db in
            var filter = SQLFilter()
            filter.add("batch_id = ?", .id(batchID))
            if let state { filter.add("state = ?", .text(state.rawValue)) }
            if warningsOnly { filter.add("issues LIKE ?", .text("%\"warning\"%")) }
            if let entity { filter.add("changes LIKE ?", .text("%\"entity\":\"\(entity)\"%")) }
            let total = try db.scalarInt("SELECT COUNT(*) FROM batch_items \(filter.whereClause)", filter.binds)
            let decoder = JSONDecoder()
            let items = try db.query(
                "SELECT * FROM batch_items \(filter.whereClause) ORDER BY \(problemsFirst ? Self.problemsFirstOrder : "") item_id LIMIT ? OFFSET ?",
                filter.binds + [.int(Int64(limit)), .int(Int64(offset))]
            ).map { try BatchItem(row: $0, decoder: decoder) }
            return Page(items: items, total: Int(total), offset: offset, limit: limit)
        }
    }

    /// Rows with errors, then warnings, then changes, then the rest: a long file's preview opens on what needs a look.
    static let problemsFirstOrder = """
        CASE WHEN state = 'error' THEN 0 WHEN state = 'unmatched' THEN 1 WHEN issues LIKE '%"warning"%' THEN 2
        WHEN state IN ('ready', 'applied') THEN 3 ELSE 4 END,
        """

    /// One item of a batch.
    public func item(_ itemID: Int64, of batchID: BatchID) async throws -> BatchItem? {
        try await backend.read { db in
            try db.first("SELECT * FROM batch_items WHERE batch_id = ? AND item_id = ?", [.id(batchID), .int(itemID)])
                .map { try BatchItem(row: $0, decoder: JSONDecoder()) }
        }
    }

    /// Every item with an issue, in file order, for the error report.
    public func itemsWithIssues(of batchID: BatchID) async throws -> [BatchItem] {
        try await backend.read { db in
            let decoder = JSONDecoder()
            return try db.query(
                "SELECT * FROM batch_items WHERE batch_id = ? AND issues <> '[]' ORDER BY item_id", [.id(batchID)]
            ).map { try BatchItem(row: $0, decoder: decoder) }
        }
    }

    /// The files received into a batch, oldest first.
    public func files(of batchID: BatchID) async throws -> [BatchFile] {
        try await backend.read { db in
            try db.query("SELECT * FROM batch_files WHERE batch_id = ? ORDER BY created_at, file_id", [.id(batchID)]).map {
                BatchFile(
                    id: try $0.text("file_id"), fileName: try $0.text("file_name"), blobKey: try $0.text("blob_key"),
                    byteSize: try $0.int("byte_size"), itemCount: Int(try $0.int("item_count")),
                    issues: JSONText.decode([BatchIssue].self, $0.optionalText("issues")) ?? [],
                    createdAt: try $0.int("created_at"))
            }
        }
    }

    /// The before → after of every field a batch wrote, in the order it wrote them.
    public func changes(of batchID: BatchID, offset: Int = 0, limit: Int = 100) async throws -> Page<FieldChange> {
        try await backend.read { db in
            let total = try db.scalarInt("SELECT COUNT(*) FROM batch_changes WHERE batch_id = ?", [.id(batchID)])
            let rows = try db.query(
                "SELECT * FROM batch_changes WHERE batch_id = ? ORDER BY seq LIMIT ? OFFSET ?",
                [.id(batchID), .int(Int64(limit)), .int(Int64(offset))])
            return Page(items: try rows.map(FieldChange.init(row:)), total: Int(total), offset: offset, limit: limit)
        }
    }
}

extension BatchItem {
    init(row: SQLRow, decoder: JSONDecoder) throws {
        func decode<T: Decodable & RangeReplaceableCollection>(_ type: T.Type, _ column: String) throws -> T {
            let text = try row.text(column)
            return text == "[]" ? T() : try decoder.decode(type, from: Data(text.utf8))
        }
        func decodeInput(_ column: String) throws -> [String: String] {
            let text = try row.text(column)
            return text == "{}" ? [:] : try decoder.decode([String: String].self, from: Data(text.utf8))
        }
        self.init(
            id: try row.int("item_id"), fileName: try row.text("file_name"), row: row["row_number"].int.map(Int.init),
            input: try decodeInput("input"), target: row.optionalText("target"),
            label: try row.text("label"), state: ItemState(rawValue: try row.text("state")) ?? .error,
            changes: try decode([FieldChange].self, "changes"), issues: try decode([BatchIssue].self, "issues"),
            manualTarget: row.optionalText("manual_target"),
            suggestions: (try? decode([Suggestion].self, "suggestions")) ?? [])
    }
}

extension FieldChange {
    init(row: SQLRow) throws {
        self.init(
            entity: try row.text("entity"), key: try row.text("entity_key"), field: try row.text("field"),
            before: row.optionalText("before_value"), after: row.optionalText("after_value"))
    }
}
