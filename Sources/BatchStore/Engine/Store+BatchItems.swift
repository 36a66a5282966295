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
        "batch_no", "item_id", "file_name", "row_number", "input", "target", "label", "state", "changes", "issues",
        "manual_target", "suggestions", "pack_end",
    ]

    /// The items of one batch, found by its ID (bound in its place): `batch_no = (SELECT … WHERE batch_id = ?)`, which
    /// both databases read once a query and then look the items up by (migration `NumberBatchItemsOnSQLite`).
    static let itemsOfBatch = "batch_no = (SELECT batch_no FROM batch_numbers WHERE batch_id = ?)"

    /// The number a batch's items are keyed by.
    static func batchNumber(_ db: any SQLConnection, batchID: BatchID) throws -> Int64 {
        guard let number = try db.first("SELECT batch_no FROM batch_numbers WHERE batch_id = ?", [.id(batchID)])?["batch_no"].int else {
            throw StoreError.notFound("That batch does not exist.")
        }
        return number
    }

    /// `columns`: file name → the columns all of that file's items have (`FileInspection.columns`); those items
    /// are stored as values only, the names once (`saveInputColumns`). `files`: file name → the key of the blob that
    /// is the file as uploaded; of those files' items, an item whose row is a span of it (`BatchItem.source`) is
    /// stored as that span, and read there again (`StoredInput`).
    static func insertItems(
        _ db: any SQLConnection, batchID: BatchID, items: [BatchItem], columns: [String: [String]] = [:], files: [String: String] = [:]
    ) throws {
        try insertItems(db, batchID: batchID, items: items, saved: saveInputColumns(db, batchID: batchID, columns, files: files))
    }

    /// The same, with the files' columns already saved (`saveInputColumns`, whose answer says which files' items
    /// are stored as spans: the plan may then let their cells go, `BatchKindHandler.planForStoring`).
    static func insertItems(
        _ db: any SQLConnection, batchID: BatchID, items: [BatchItem], saved: (columns: [String: [String]], spanned: Set<String>)
    ) throws {
        let (columns, spanned) = saved
        // A span item's label is not stored either when its kind makes it from the cells (`StoredInput.label`): a
        // roster's planner leaves it to be made so (`RosterPlanner.plan(_:releasingCellsOf:)`).
        let labelsFromCells = try batchKind(db, batchID: batchID) == .roster
        let number = try batchNumber(db, batchID: batchID)
        // The row's cells and its changes are written by hand, straight into the slice's bytes: one JSONEncoder call
        // an item and column costs more than the rest of a 1.4-million-row roster import, and a text made for each
        // was a copy more. Suggestions are empty on most rows; the others go through JSONEncoder, as `updateItem`.
        // Issues are written by hand, as JSONEncoder writes them (`FlatJSON.issues`).
        @Sendable func json<T: Encodable & Collection>(_ value: T) -> SQLValue { .text(value.isEmpty ? "[]" : JSONText.encode(value)) }
        // Runs of plain items go into one row each (`ItemPack`): those stored as spans whose labels are made from
        // their cells.
        let units = items.withUnsafeBufferPointer { ItemPack.units($0) { labelsFromCells && spanned.contains($0) } }
        // A slice of about `insertSlice` items, however many rows they make.
        var slices: [Range<Int>] = []
        var start = 0, held = 0
        for (index, unit) in units.enumerated() {
            held += unit.count
            if held >= insertSlice(db.dialect) || index == units.count - 1 {
                slices.append(start..<(index + 1))
                (start, held) = (index + 1, 0)
            }
        }
        try insertPipelined(
            db, table: "batch_items", columns: itemColumns, count: units.count, slices: slices, bytesPerRow: 256 * items.count / max(units.count, 1),
            minimumPiece: max(1, 2_000 * units.count / max(items.count, 1))
        ) { range, out in
            // (Each item read in place: a copy of it retained and released everything it holds.)
            items.withUnsafeBufferPointer { items in
                for unit in units[range] {
                    if unit.count > 1 {
                        out.add(.int(number))
                        out.add(.int(items[unit.lowerBound].id))
                        out.add(.text(items[unit.lowerBound].fileName))
                        out.add(.optional(items[unit.lowerBound].row.map(Int64.init)))
                        out.addText { ItemPack.appendEntries(items, unit, to: &$0) }
                        out.add(.null)
                        out.add(.text(""))
                        out.add(.text(items[unit.lowerBound].state.rawValue))
                        out.addText { ItemPack.appendChanges(items, unit, to: &$0) }
                        out.add(.text("[]"))
                        out.add(.null)
                        out.add(.text("[]"))
                        out.add(.int(items[unit.upperBound - 1].id))
                        out.endRow()
                        continue
                    }
                    let index = unit.lowerBound
                    let fileName = items[index].fileName
                    let span = items[index].source.flatMap { spanned.contains(fileName) ? $0 : nil }
                    out.add(.int(number))
                    out.add(.int(items[index].id))
                    out.add(.text(fileName))
                    out.add(.optional(items[index].row.map(Int64.init)))
                    if let span {
                        out.addText { span.appendText(to: &$0) }
                    } else {
                        let values = columns[fileName].flatMap { FlatJSON.values(items[index].input, columns: $0) }
                        out.add(.text(values ?? FlatJSON.object(items[index].input, sorted: false)))
                    }
                    out.add(.optional(items[index].target))
                    out.add(.text(span != nil && labelsFromCells ? "" : items[index].label))
                    out.add(.text(items[index].state.rawValue))
                    out.addText { FlatJSON.appendChanges(items[index].changes, to: &$0) }
                    out.addText { FlatJSON.appendIssues(items[index].issues, to: &$0) }
                    out.add(.optional(items[index].manualTarget))
                    out.add(json(items[index].suggestions))
                    out.add(.null)
                    out.endRow()
                }
            }
        }
    }

    /// Inserts `count` rows a slice at a time, the next slice's rows made while the current one is inserted: the
    /// database takes one writer thread, the making the others. A slice's rows are laid out for the database
    /// (`BulkRows`) by `rows`, a piece of the slice on every core: it writes the rows of its range of `0..<count`, in
    /// order, into the builder it is given, each row ended (`endRow`) with exactly one value a column: a row left
    /// unended or of another width fails the whole insert (`BulkRows.check`), so a row to leave out is left out
    /// before its first value. All the slices go as one bulk
    /// write (`SQLConnection.bulkInsert(table:columns:packed:)`: on PostgreSQL one COPY). `bytesPerRow`: about how
    /// many bytes a row's texts take (room made for them at once). `slices`: the slices, in order, when not
    /// `insertSlice` rows each. `minimumPiece`: the fewest rows a core is given to lay out.
    static func insertPipelined(
        _ db: any SQLConnection, table: String, columns: [String], count: Int, slices: [Range<Int>]? = nil, bytesPerRow: Int = 0,
        minimumPiece: Int = 2_000, rows: @escaping @Sendable (Range<Int>, inout BulkRows.Builder) throws -> Void
    ) throws {
        let size = insertSlice(db.dialect), layout = db.bulkLayout, width = columns.count
        @Sendable func slice(_ range: Range<Int>) throws -> BulkRows {
            let pieces = Parallel.map(range.count, minimumPiece: minimumPiece) { piece in
                [Result { () throws -> BulkRows in
                    var out = BulkRows.Builder(width: width, layout: layout, rows: piece.count, bytesPerRow: bytesPerRow)
                    try rows((range.lowerBound + piece.lowerBound)..<(range.lowerBound + piece.upperBound), &out)
                    return out.rows
                }]
            }
            return BulkRows(joining: try pieces.map { try $0.get() }, width: width, layout: layout)
        }
        var slices = (slices ?? stride(from: 0, to: count, by: size).map { $0..<min($0 + size, count) })[...]
        func build(_ range: Range<Int>) -> InBackground<Result<BulkRows, any Error>> { InBackground { Result { try slice(range) } } }
        var building = slices.popFirst().map(build)
        // On an error, no build is left running once this returns.
        defer { building?.wait() }
        try db.bulkInsert(table: table, columns: columns, packed: {
            guard let built = building?.take() else { return nil }
            building = slices.popFirst().map(build)
            return try built.get()
        })
    }

    /// Keeps each file's column names (and the blob its rows may be read from) for the batch, and returns those its
    /// new items may be written with: a file name the batch already has with other columns keeps its first list,
    /// and the new items are written whole; one it has with another blob (or none) has its new items' cells written.
    static func saveInputColumns(_ db: any SQLConnection, batchID: BatchID, _ columns: [String: [String]], files: [String: String] = [:]) throws
        -> (columns: [String: [String]], spanned: Set<String>)
    {
        guard !columns.isEmpty else { return ([:], []) }
        let stored = try inputFiles(db, batchID: batchID)
        var usable: [String: [String]] = [:], spanned: Set<String> = []
        for (fileName, names) in columns.sorted(by: { $0.key < $1.key }) {
            if let earlier = stored[fileName] {
                if earlier.columns == names {
                    usable[fileName] = names
                    if let key = files[fileName], earlier.blobKey == key { spanned.insert(fileName) }
                }
                continue
            }
            try db.execute(
                "INSERT INTO batch_input_columns (batch_id, file_name, columns, blob_key) VALUES (?, ?, ?, ?)",
                [.id(batchID), .text(fileName), .text(JSONText.encode(names)), .optional(files[fileName])])
            usable[fileName] = names
            if files[fileName] != nil { spanned.insert(fileName) }
        }
        return (usable, spanned)
    }

    static func batchKind(_ db: any SQLConnection, batchID: BatchID) throws -> BatchKind? {
        try db.first("SELECT kind FROM batches WHERE batch_id = ?", [.id(batchID)])?.optionalText("kind").flatMap(BatchKind.init(rawValue:))
    }

    /// File name → the column names of the items stored as values only, and the blob their rows may be read from.
    static func inputFiles(_ db: any SQLConnection, batchID: BatchID) throws -> [String: (columns: [String], blobKey: String?)] {
        var files: [String: (columns: [String], blobKey: String?)] = [:]
        for row in try db.query("SELECT file_name, columns, blob_key FROM batch_input_columns WHERE batch_id = ?", [.id(batchID)]) {
            guard let names = JSONText.decode([String].self, row.optionalText("columns")) else {
                throw StoreError.corrupt("the column names of a batch's file could not be read")
            }
            files[try row.text("file_name")] = (names, row.optionalText("blob_key"))
        }
        return files
    }

    /// Rows a bulk write builds at once. On PostgreSQL each slice is one COPY, and between two the server waits
    /// for the next to begin (its first rows put into COPY's text) and the writer for the server to finish the last:
    /// 40,000 rows a COPY stored a state-size roster's items in 7.4 / 7.7 s where 10,000 took 8.9 / 8.4 s (alternate
    /// runs). SQLite's writer inserts each row as it comes.
    static func insertSlice(_ dialect: SQLDialect) -> Int { dialect == .postgres ? 40_000 : 10_000 }

    /// Stores a batch's items planned again: `planned[i]` is `stored[i]` (a batch's items, all of them, in order, as
    /// stored; `planned` may go on with items not yet stored) as planned now. The items whose plan changed, and
    /// `decided` (an item a person just decided on), are updated one by one when they are few. When they are many
    /// (a preview made before another batch was applied, planned again at Process: every row of a roster can turn
    /// from new to unchanged), the batch's stored rows are written again whole, packed as a receive packs them: one
    /// update an item took a pack apart first and then rewrote the item, 27 s for a 163,000-row roster's draft
    /// planned again at Process, in the request (10× at state size). Returns how many items changed.
    @discardableResult
    static func storePlannedAgain(
        _ db: any SQLConnection, batchID: BatchID, stored: [BatchItem], planned: [BatchItem], decided: Int64? = nil
    ) throws -> Int {
        let count = min(stored.count, planned.count)
        var changed: [Int] = []
        stored.withUnsafeBufferPointer { stored in
            planned.withUnsafeBufferPointer { planned in
                for index in 0..<count where !stored[index].samePlan(as: planned[index]) || planned[index].id == decided {
                    changed.append(index)
                }
            }
        }
        if changed.count < rewriteFrom || changed.count * 16 < count {
            for index in changed { try updateItem(db, batchID: batchID, item: planned[index]) }
            return changed.count
        }
        let files = try inputFiles(db, batchID: batchID)
        _ = try db.execute("DELETE FROM batch_items WHERE \(itemsOfBatch)", [.id(batchID)])
        try insertItems(
            db, batchID: batchID, items: count == planned.count ? planned : Array(planned[..<count]),
            saved: (files.mapValues(\.columns), Set(files.filter { $0.value.blobKey != nil }.keys)))
        return changed.count
    }

    /// How many changed items a plan made again takes before `storePlannedAgain` writes all the items anew (when
    /// they are also a sixteenth of them or more): one update an item is about a tenth of a millisecond, writing
    /// an item anew a hundredth of that.
    static let rewriteFrom = 1_000

    static func updateItem(_ db: any SQLConnection, batchID: BatchID, item: BatchItem) throws {
        try unpack(db, batchID: batchID, holding: item.id)
        try db.execute(
            """
            UPDATE batch_items SET target = ?, label = ?, state = ?, changes = ?, issues = ?, manual_target = ?,
                suggestions = ?
            WHERE \(itemsOfBatch) AND item_id = ?
            """,
            [
                .optional(item.target), .text(item.label), .text(item.state.rawValue), .text(FlatJSON.changes(item.changes)),
                .text(FlatJSON.issues(item.issues)), .optional(item.manualTarget), .text(JSONText.encode(item.suggestions)),
                .id(batchID), .int(item.id),
            ])
    }

    /// Every item of a batch. 200,000 separate JSONDecoder calls cost several seconds in the decoder's per-call setup,
    /// so the common columns are read by hand and the rest decoded in one call for all rows.
    /// `columns`: only these of each item's input (the rest is left out of `input`); nil: all.
    static func loadItems(_ db: any SQLConnection, batchID: BatchID, state: ItemState? = nil, columns: Set<String>? = nil) throws -> [BatchItem] {
        // A page of rows at a time: the database's rows and the decoded items are not both held for the whole batch.
        let inputs = try StoredInput(db, batchID: batchID, keeping: columns)
        var items: [BatchItem] = []
        var after: Int64 = 0
        while true {
            let filter = state.map { _ in " AND state = ?" } ?? ""
            let rows = try db.query(
                "SELECT * FROM batch_items WHERE \(itemsOfBatch) AND item_id > ?\(filter) ORDER BY item_id LIMIT \(loadPage)",
                [.id(batchID), .int(after)] + (state.map { [.text($0.rawValue)] } ?? []))
            guard let last = rows.last else { return items }
            // (The first page taken as it is: appended to an empty array, its items were copied.)
            if items.isEmpty { items = try decodeItems(rows, inputs: inputs) } else { items += try decodeItems(rows, inputs: inputs) }
            after = try lastItem(of: last)
            if rows.count < loadPage { return items }
        }
    }

    static let loadPage = 20_000

    /// The changes of a batch's ready items in item order, without the rest of the items: what an apply writes when
    /// the plan kept with the preview still holds. Read by hand on every core, a page at a time.
    static func loadChanges(_ db: any SQLConnection, batchID: BatchID) throws -> [FieldChange] {
        var changes: [FieldChange] = []
        var after: Int64 = 0
        while true {
            let rows = try db.query(
                """
                SELECT item_id, pack_end, changes FROM batch_items WHERE \(itemsOfBatch) AND state = ? AND item_id > ?
                ORDER BY item_id LIMIT \(loadPage)
                """, [.id(batchID), .text(ItemState.ready.rawValue), .int(after)])
            guard let last = rows.last else { return changes }
            let pieces: [[FieldChange]] = try Parallel.map(rows.count) { range in
                range.map { rows[$0]["changes"].text.flatMap(FlatJSON.readChanges) }
            }.map { decoded in
                guard let decoded else { throw StoreError.corrupt("a batch item's changes could not be read") }
                return decoded
            }
            for piece in pieces { changes += piece }
            after = try lastItem(of: last)
            if rows.count < loadPage { return changes }
        }
    }

    static func decodeItems(_ rows: [SQLRow], inputs: StoredInput) throws -> [BatchItem] {
        guard !rows.isEmpty else { return [] }
        // Cells, changes and issues are read by hand (`FlatJSON`), on every core at once; suggestions, mostly empty,
        // by one JSONDecoder call for all such rows, and a row the hand-written readers do not take by JSONDecoder.
        // A pack's row gives its items (`ItemPack`), none with suggestions.
        var fast: [[BatchItem]?] = Parallel.map(rows.count) { range in
            range.map { index -> [BatchItem]? in
                let row = rows[index]
                if let end = row["pack_end"].int { return try? inputs.unpacked(row, end: end) }
                guard let id = row["item_id"].int, let fileName = row["file_name"].text, let label = row["label"].text,
                    let state = row["state"].text.flatMap(ItemState.init(rawValue:)),
                    let text = row["input"].text, let input = inputs.read(text, fileName: fileName),
                    let changes = row["changes"].text.flatMap(FlatJSON.readChanges), let issues = row["issues"].text.flatMap(FlatJSON.readIssues)
                else { return nil }
                var item = BatchItem(
                    id: id, fileName: fileName, row: row["row_number"].int.map(Int.init), input: input, target: row.optionalText("target"),
                    label: inputs.label(label, input: input, text: text, fileName: fileName), state: state, changes: changes,
                    issues: issues, manualTarget: row.optionalText("manual_target"))
                item.source = StoredInput.span(text)
                return [item]
            }
        }
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
        var perRow: [[BatchItem]] = []
        perRow.reserveCapacity(rows.count)
        let withSuggestions = rows.indices.filter { fast[$0] != nil && (rows[$0].optionalText("suggestions") ?? "[]") != "[]" }
        for index in fast.indices {
            // (Taken out of `fast`: the only reference to each row's items, so that they are moved below.)
            perRow.append(try fast[index].take() ?? BatchItem.decoded(row: rows[index], decoder: decoder, inputs: inputs))
        }
        for (index, value) in zip(withSuggestions, try decoder.decode([[Suggestion]].self, from: try array("suggestions", withSuggestions))) {
            perRow[index][0].suggestions = value
        }
        // Moved out of the rows' lists, not copied (a state-size batch read back: 1.6 million items, each of their
        // references counted up and down once more).
        return .joined(moving: &perRow, filler: BatchItem.newFiller)
    }

    /// Stores a planned batch's per-entity counts (kinds that have them).
    static func saveEntityCounts(_ db: any SQLConnection, batchID: BatchID, _ counts: [EntityCounts]?) throws {
        guard let counts else { return }
        try db.execute("UPDATE batches SET entity_counts = ? WHERE batch_id = ?", [.text(JSONText.encode(counts)), .id(batchID)])
    }

    /// Keeps what Process needs of a whole planned batch, or forgets it (nil: the items were planned in part, so
    /// submit reads them).
    static func savePlanDigest(_ db: any SQLConnection, batchID: BatchID, _ digest: PlanDigest?) throws {
        try db.execute("DELETE FROM batch_plan_digests WHERE batch_id = ?", [.id(batchID)])
        guard let digest else { return }
        try db.execute(
            "INSERT INTO batch_plan_digests (batch_id, digest) VALUES (?, ?)", [.id(batchID), .text(JSONText.encode(digest))])
    }

    static func planDigest(_ db: any SQLConnection, batchID: BatchID) throws -> PlanDigest? {
        try planDigest(PlanDigest.self, db, batchID: batchID)
    }

    /// The kept digest's `PlanDigest.Stamp` only.
    static func planStamp(_ db: any SQLConnection, batchID: BatchID) throws -> PlanDigest.Stamp? {
        try planDigest(PlanDigest.Stamp.self, db, batchID: batchID)
    }

    private static func planDigest<T: Decodable>(_ type: T.Type, _ db: any SQLConnection, batchID: BatchID) throws -> T? {
        let row = try db.first("SELECT digest FROM batch_plan_digests WHERE batch_id = ?", [.id(batchID)])
        return JSONText.decode(type, row?.optionalText("digest"))
    }

    static func nextItemID(_ db: any SQLConnection, batchID: BatchID) throws -> Int64 {
        try db.scalarInt(
            "SELECT COALESCE(pack_end, item_id) FROM batch_items WHERE \(itemsOfBatch) ORDER BY item_id DESC LIMIT 1", [.id(batchID)]) + 1
    }

    /// Counts items by state and stores the counts on the batch.
    @discardableResult
    static func refreshCounts(_ db: any SQLConnection, batchID: BatchID) throws -> ItemCounts {
        var counts = ItemCounts()
        let applied = try wasApplied(db, batchID: batchID)
        for row in try db.query(
            "SELECT state, CAST(SUM(\(itemsInRow)) AS BIGINT) AS n FROM batch_items WHERE \(itemsOfBatch) GROUP BY state", [.id(batchID)])
        {
            if let stored = ItemState(rawValue: try row.text("state")) {
                let state = applied && stored == .ready ? ItemState.applied : stored
                counts[state] += Int(try row.int("n"))
                counts.total += Int(try row.int("n"))
            }
        }
        counts.warnings = Int(
            try db.scalarInt(
                "SELECT COUNT(*) FROM batch_items WHERE \(itemsOfBatch) AND \(hasIssues) AND issues LIKE ?",
                [.id(batchID), .text("%\"warning\"%")]))
        return try saveCounts(db, batchID: batchID, counts)
    }

    /// Stores a batch's counts (found in memory from the whole batch's items, or by `refreshCounts`).
    @discardableResult
    static func saveCounts(_ db: any SQLConnection, batchID: BatchID, _ counts: ItemCounts) throws -> ItemCounts {
        try db.execute(
            "UPDATE batches SET counts = ?, updated_at = ? WHERE batch_id = ?",
            [.text(JSONText.encode(counts)), .int(Clock.nowMillis()), .id(batchID)])
        return counts
    }

    /// Whether a batch's apply has committed. Applying writes every ready item or none (one transaction), so the
    /// items of such a batch that are stored as ready were applied: they are read as `applied` and not rewritten
    /// (rewriting every row of a 1.4-million-row roster's items only to change its state took 50 s inside the apply
    /// transaction). Batches applied by earlier versions have their rows rewritten; both read the same.
    static func wasApplied(_ db: any SQLConnection, batchID: BatchID) throws -> Bool {
        let status = try db.first("SELECT status FROM batches WHERE batch_id = ?", [.id(batchID)])?.optionalText("status")
        return status.flatMap(BatchStatus.init(rawValue:)).map(appliedStatuses.contains) ?? false
    }

    static let appliedStatuses: Set<BatchStatus> = [.completed, .completedWithErrors, .undoing, .undone]

    /// An item with at least one issue: the condition of the partial index `batch_items_issues`, written the same
    /// way in every query that should use it (both databases match an index's condition by its text).
    static let hasIssues = "issues <> '[]'"

    /// The states of items a person has to look at: the condition of the partial index `batch_items_attention`,
    /// added, written the same way, to a query of one of them. (Comparisons, not `state IN (…)`: SQLite evaluates the
    /// condition on every item stored, and a list is the slower form, `Migrations.attentionIndexWithoutList`.)
    static let attentionStates: [ItemState] = [.error, .unmatched, .skipped]
    public static let needsAttention = "(" + attentionStates.map { "state = '\($0.rawValue)'" }.joined(separator: " OR ") + ")"

    /// One page of a batch's items, optionally of one state.
    /// `warningsOnly`: items with a warning; `changing`: items whose changes touch that record kind (`class`);
    /// `fileName`: the items of that file only (a roster's demographics.csv beside its users.csv); `issue`: the items
    /// with one kind of issue (`issueKinds`).
    public func items(
        of batchID: BatchID, state: ItemState? = nil, warningsOnly: Bool = false, changing entity: String? = nil,
        fileName: String? = nil, issue: IssueFilter? = nil, problemsFirst: Bool = false, offset: Int = 0, limit: Int = 100
    ) async throws -> Page<BatchItem> {
        let limit = min(max(limit, 1), 1000), offset = max(offset, 0)
        return try await backend.read { db in
            let applied = try Self.wasApplied(db, batchID: batchID)
            var filter = SQLFilter()
            filter.add(Self.itemsOfBatch, .id(batchID))
            switch state {
            case .applied? where applied: filter.add("state IN (?, ?)", .text(ItemState.ready.rawValue), .text(ItemState.applied.rawValue))
            case .ready? where applied: filter.add("1 = 0")
            case let state?:
                filter.add("state = ?", .text(state.rawValue))
                if Self.attentionStates.contains(state) { filter.add(Self.needsAttention) }
            case nil: break
            }
            if warningsOnly { filter.add("\(Self.hasIssues) AND issues LIKE ?", .text("%\"warning\"%")) }
            if let fileName { filter.add("file_name = ?", .text(fileName)) }
            if let issue { filter.add(IssueFilter.clause, .text(issue.likePattern)) }
            // A change names its record's kind first (`["class",…`), or, written by an earlier version, as a member.
            if let entity {
                filter.add("(changes LIKE ? OR changes LIKE ?)", .text("%[\"\(entity)\",%"), .text("%\"entity\":\"\(entity)\"%"))
            }
            // Packs hold items without issues, ready or unchanged (`ItemPack`): a page of issues or of another state
            // reads rows as they are.
            let packsMatch = !warningsOnly && issue == nil && [nil, .ready, .unchanged, .applied].contains(state)
            let packed = try packsMatch
                && db.first("SELECT item_id FROM batch_items WHERE \(Self.itemsOfBatch) AND pack_end IS NOT NULL LIMIT 1", [.id(batchID)]) != nil
            let decoder = JSONDecoder(), inputs = try StoredInput(db, batchID: batchID)
            if packed {
                let walk = ItemWalk(db: db, filter: filter, entity: entity, inputs: inputs)
                let (total, items) = try walk.page(offset: offset, limit: limit, problemsFirst: problemsFirst)
                return Page(items: items.map { $0.applied(applied) }, total: total, offset: offset, limit: limit)
            }
            // The total of one state alone is the batch's count of it, stored with every change of its items:
            // counting the rows of a common state (ready or unchanged: nearly all of a 1.6-million-row roster's, not
            // indexed by state) would read every item. A batch stored without counts is counted.
            var stored: ItemCounts?
            if state != nil, !warningsOnly, entity == nil, fileName == nil, issue == nil {
                stored = try db.first("SELECT counts FROM batches WHERE batch_id = ?", [.id(batchID)])
                    .flatMap { JSONText.decode(ItemCounts.self, $0.optionalText("counts")) }
            }
            let total: Int64
            if let state, let stored, stored.total > 0 {
                total = Int64(stored[state])
            } else {
                total = try db.scalarInt("SELECT COUNT(*) FROM batch_items \(filter.whereClause)", filter.binds)
            }
            guard total > offset else { return Page(items: [], total: Int(total), offset: offset, limit: limit) }
            let items = try db.query(
                "SELECT * FROM batch_items \(filter.whereClause) ORDER BY \(problemsFirst ? Self.problemsFirstOrder : "") item_id LIMIT ? OFFSET ?",
                filter.binds + [.int(Int64(limit)), .int(Int64(offset))]
            ).map { try BatchItem(row: $0, decoder: decoder, inputs: inputs).applied(applied) }
            return Page(items: items, total: Int(total), offset: offset, limit: limit)
        }
    }

    /// A page of a batch that has packs (`ItemPack`), found in one read of its rows' numbers in order (and, for a
    /// page of one kind of record, of its packs' texts, read where SQLite holds them): a row of one item counts one,
    /// a pack as many of its items as the filter takes. Only the rows that give the page are then read whole.
    struct ItemWalk {
        let db: any SQLConnection
        let filter: SQLFilter
        /// Only items whose changes touch this kind of record (a row's `changes LIKE` cannot tell which of a pack's).
        let entity: String?
        let inputs: StoredInput

        /// The filter's items at `offset…` (up to `limit`), ordered by their numbers or problems first
        /// (`problemsFirstOrder`), and how many there are.
        func page(offset: Int, limit: Int, problemsFirst: Bool) throws -> (total: Int, items: [BatchItem]) {
            var rows: [(group: Int, first: Int64, count: Int)] = []
            let group = problemsFirst ? Store.problemsFirstGroup : "0"
            // With an entity, a pack's entries and changes tell which of its items touch it.
            let texts = entity == nil ? "" : ", CASE WHEN pack_end IS NULL THEN NULL ELSE input END, CASE WHEN pack_end IS NULL THEN NULL ELSE changes END"
            try db.forEachRow(
                "SELECT item_id, pack_end, \(group) AS grp\(texts) FROM batch_items \(filter.whereClause) ORDER BY item_id", filter.binds
            ) { (cells: SQLCells) in
                guard let first = cells.int(at: 0) else { return }
                var count = 1
                if let end = cells.int(at: 1) {
                    count = try entity.map { try touching($0, cells, first: first, end: end) } ?? Int(end - first + 1)
                }
                if count > 0 { rows.append((Int(cells.int(at: 2) ?? 0), first, count)) }
            }
            let total = rows.reduce(0) { $0 + $1.count }
            if problemsFirst { rows.sort { ($0.group, $0.first) < ($1.group, $1.first) } }
            var skip = offset
            var page: [BatchItem] = []
            let decoder = JSONDecoder()
            for row in rows where page.count < limit {
                if skip >= row.count {
                    skip -= row.count
                    continue
                }
                guard
                    let whole = try db.first(
                        "SELECT * FROM batch_items \(filter.whereClause) AND item_id = ?", filter.binds + [.int(row.first)])
                else { continue }
                let items = try BatchItem.decoded(row: whole, decoder: decoder, inputs: inputs).filter(wanted).dropFirst(skip)
                skip = 0
                page += items.prefix(limit - page.count)
            }
            return (total, page)
        }

        func wanted(_ item: BatchItem) -> Bool {
            guard let entity else { return true }
            return item.changes.contains { $0.entity == entity }
        }

        /// How many of a pack's items (its entries and changes at 3 and 4) change a record of `entity`.
        func touching(_ entity: String, _ cells: SQLCells, first: Int64, end: Int64) throws -> Int {
            let entries = cells.withText(at: 3) { $0.flatMap { ItemPack.readEntries(String(decoding: $0, as: UTF8.self)) } }
            if let entries, Int64(entries.count) == end - first + 1,
                let touching = cells.withText(at: 4, { $0.flatMap { ItemPack.touching(entity, changes: $0, entries: entries) } })
            {
                return touching.filter { $0 }.count
            }
            // (Not as this version writes them: read whole.)
            let (_, changes) = try Store.packParts(input: cells.text(at: 3) ?? "", changes: cells.text(at: 4) ?? "", first: first, end: end)
            return changes.filter { $0.contains { $0.entity == entity } }.count
        }
    }

    /// `problemsFirstOrder`'s group of a row: 0 for an error … 4 for the rest.
    static let problemsFirstGroup = """
        CASE WHEN state = 'error' THEN 0 WHEN state = 'unmatched' THEN 1 WHEN issues LIKE '%"warning"%' THEN 2
        WHEN state IN ('ready', 'applied') THEN 3 ELSE 4 END
        """

    /// Rows with errors, then warnings, then changes, then the rest: a long file's preview opens on what needs a look.
    static let problemsFirstOrder = problemsFirstGroup + ","

    /// One item of a batch.
    public func item(_ itemID: Int64, of batchID: BatchID) async throws -> BatchItem? {
        try await backend.read { db in
            let applied = try Self.wasApplied(db, batchID: batchID)
            return try Self.item(db, batchID: batchID, itemID: itemID, inputs: StoredInput(db, batchID: batchID))?.applied(applied)
        }
    }

    /// The first `limit` items with an issue, in file order, and how many there are.
    public func itemsWithIssues(of batchID: BatchID, limit: Int) async throws -> (items: [BatchItem], total: Int) {
        try await backend.read { db in
            let items = try IssuePages(db, batchID: batchID).page(after: 0, limit: limit)
            let total = try db.scalarInt("SELECT COUNT(*) FROM batch_items WHERE \(Self.itemsOfBatch) AND \(Self.hasIssues)", [.id(batchID)])
            return (items, Int(total))
        }
    }

    /// Every item with an issue, in file order, handed to `body` a page at a time, in one read: the error report of a
    /// state-size users.csv whose every row has an error (1.6 million items) is written without holding them all
    /// (held, 59 s and 5.3 GB).
    public func forEachItemWithIssues(
        of batchID: BatchID, pageSize: Int = 5_000, _ body: @escaping @Sendable ([BatchItem]) throws -> Void
    ) async throws {
        try await backend.read { db in
            let pages = try IssuePages(db, batchID: batchID)
            var after: Int64 = 0
            while true {
                let page = try pages.page(after: after, limit: pageSize)
                guard let last = page.last else { return }
                try body(page)
                guard page.count == pageSize else { return }
                after = last.id
            }
        }
    }

    /// The items with an issue of one batch, read in file order a page at a time within one read.
    struct IssuePages {
        let db: any SQLConnection
        let batchID: BatchID
        let inputs: StoredInput
        let applied: Bool

        init(_ db: any SQLConnection, batchID: BatchID) throws {
            self.db = db
            self.batchID = batchID
            inputs = try StoredInput(db, batchID: batchID)
            applied = try Store.wasApplied(db, batchID: batchID)
        }

        /// Up to `limit` items with an issue whose number is above `after`, decoded on every core (a page of the
        /// error report of a file whose every row has an error is thousands of rows read again from the kept file).
        func page(after: Int64, limit: Int) throws -> [BatchItem] {
            let rows = try db.query(
                "SELECT * FROM batch_items WHERE \(Store.itemsOfBatch) AND \(Store.hasIssues) AND item_id > ? ORDER BY item_id LIMIT ?",
                [.id(batchID), .int(after), .int(Int64(max(limit, 0)))])
            let (inputs, applied) = (inputs, applied)
            return try Parallel.map(rows.count, minimumPiece: 500) { range in
                let decoder = JSONDecoder()
                return range.map { index in Result { try BatchItem(row: rows[index], decoder: decoder, inputs: inputs).applied(applied) } }
            }.map { try $0.get() }
        }
    }

    /// The columns of the items with an issue, one list for each way they were read (each file's header, and each
    /// item stored with its own names), without reading the items: the error reports' columns, known before their
    /// rows are written.
    public func columnsOfItemsWithIssues(of batchID: BatchID) async throws -> [[String]] {
        try await backend.read { db in
            let stored = try Self.inputFiles(db, batchID: batchID)
            var found: [[String]] = []
            // An item stored as its file's values or as a span of the kept file has that file's columns.
            for row in try db.query(
                "SELECT DISTINCT file_name FROM batch_items WHERE \(Self.itemsOfBatch) AND \(Self.hasIssues) AND input NOT LIKE '{%'",
                [.id(batchID)])
            {
                if let columns = stored[try row.text("file_name")]?.columns, !found.contains(columns) { found.append(columns) }
            }
            // An item stored whole names its own (a file whose name an earlier file with other columns had).
            for row in try db.query(
                "SELECT input FROM batch_items WHERE \(Self.itemsOfBatch) AND \(Self.hasIssues) AND input LIKE '{%'", [.id(batchID)])
            {
                if let names = FlatJSON.readObject(try row.text("input"), keeping: nil).map({ $0.keys.sorted() }), !found.contains(names) {
                    found.append(names)
                }
            }
            return found
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

    /// The before → after of every field a batch wrote, in the order it wrote them (nothing before it is applied).
    public func changes(of batchID: BatchID, offset: Int = 0, limit: Int = 100) async throws -> Page<FieldChange> {
        try await backend.read { db in
            let logged = try db.scalarInt("SELECT COUNT(*) FROM batch_changes WHERE batch_id = ?", [.id(batchID)])
            if logged > 0 {
                let rows = try db.query(
                    "SELECT * FROM batch_changes WHERE batch_id = ? ORDER BY seq LIMIT ? OFFSET ?",
                    [.id(batchID), .int(Int64(limit)), .int(Int64(offset))])
                return Page(items: try rows.map(FieldChange.init(row:)), total: Int(logged), offset: offset, limit: limit)
            }
            guard try Self.wasApplied(db, batchID: batchID) else { return Page(items: [], total: 0, offset: offset, limit: limit) }
            // The report counts the written fields; the page is read from the items, in item order, as far as it goes.
            let report = JSONText.decode(BatchReport.self, try db.first("SELECT report FROM batches WHERE batch_id = ?", [.id(batchID)])?.optionalText("report"))
            let total = report?.changedFields.values.reduce(0, +) ?? 0
            var found: [FieldChange] = []
            var after: Int64 = 0
            pages: while found.count < offset + limit {
                let rows = try db.query(
                    """
                    SELECT item_id, pack_end, changes FROM batch_items WHERE \(Self.itemsOfBatch) AND state = ? AND item_id > ?
                    ORDER BY item_id LIMIT 500
                    """, [.id(batchID), .text(ItemState.ready.rawValue), .int(after)])
                guard let last = rows.last else { break pages }
                for row in rows {
                    guard let changes = row["changes"].text.flatMap(FlatJSON.readChanges) else {
                        throw StoreError.corrupt("a batch item's changes could not be read")
                    }
                    found += changes
                }
                after = try Self.lastItem(of: last)
            }
            return Page(items: Array(found.dropFirst(offset).prefix(limit)), total: total, offset: offset, limit: limit)
        }
    }

    /// What an applied batch wrote, in the order it wrote it: its ready items' changes (which an apply writes, and
    /// which cannot change once a batch has left draft), or, for a batch applied before that was so, the log of
    /// `batch_changes` it kept then.
    static func appliedChanges(_ db: any SQLConnection, batchID: BatchID) throws -> [FieldChange] {
        let logged = try db.query("SELECT * FROM batch_changes WHERE batch_id = ? ORDER BY seq", [.id(batchID)])
        return logged.isEmpty ? try loadChanges(db, batchID: batchID) : try logged.map(FieldChange.init(row:))
    }
}

/// Reads the cells of a batch's stored items: values only, named by their file's columns (`FlatJSON.values`), or an
/// object. The columns of a file are one `RowValues.Columns` shared by all its rows.
/// Or a span of the kept file the item was read from (`FileSpan.text`), read there again.
struct StoredInput: Sendable {
    let columns: [String: RowValues.Columns]
    /// Only these columns of each item (nil: all), and where they are in each file's values.
    let keeping: Set<String>?
    let kept: [String: FlatJSON.Kept]
    /// File name → the kept file its items' spans are of, mapped (not read); absent when it is not in the blob store.
    let files: [String: Data]
    /// File name → how its span items' labels are made from their cells (a roster's), when they are not stored.
    let labels: [String: RosterPlanner.Label]

    init(_ db: any SQLConnection, batchID: BatchID, keeping: Set<String>? = nil) throws {
        let stored = try Store.inputFiles(db, batchID: batchID)
        let columns = stored.mapValues { RowValues.Columns($0.columns) }
        self.columns = columns
        self.keeping = keeping
        kept = keeping.map { wanted in columns.mapValues { FlatJSON.Kept(wanted, of: $0) } } ?? [:]
        let files = stored.compactMapValues { $0.blobKey.flatMap(KeptFiles.mapped) }
        self.files = files
        // (Made from all of a row's cells: an item read with only some of them keeps its stored label.)
        let roster = keeping == nil && !files.isEmpty ? try Store.batchKind(db, batchID: batchID) == .roster : false
        labels = roster ? columns.filter { files[$0.key] != nil }.mapValues(RosterPlanner.Label.init) : [:]
    }

    /// The item's label: as stored, or, for a span item stored without it, made from its cells.
    func label(_ stored: String, input: RowValues, text: String, fileName: String) -> String {
        guard stored.isEmpty, text.utf8.first == UInt8(ascii: "@"), let label = labels[fileName] else { return stored }
        return label(input) ?? ""
    }

    /// Where a stored input read from the file as uploaded is in that file (`BatchItem.source`), so that items read
    /// back are stored as spans again, and packed, when a plan made again writes them all anew (`Store.storePlannedAgain`).
    static func span(_ text: String) -> FileSpan? { text.utf8.first == UInt8(ascii: "@") ? FileSpan(text: text) : nil }

    /// The rows at `spans` of the file as uploaded, when they follow one another there and each reads as a row of
    /// the file's columns (`CSVReader.cells(of:in:)`); nil otherwise.
    func read(_ spans: [FileSpan], fileName: String) -> [RowValues]? {
        guard let columns = columns[fileName],
            let cells = files[fileName]?.withUnsafeBytes({ CSVReader.cells(of: spans, in: $0) }),
            cells.allSatisfy({ $0.count == columns.names.count })
        else { return nil }
        return cells.map { values(CSVTable.values(cells: $0, columns: columns), fileName: fileName) }
    }

    /// A row read from the file as uploaded, with only the columns kept (`keeping`) when some are.
    private func values(_ values: RowValues, fileName: String) -> RowValues {
        guard let keeping = kept[fileName] else { return values }
        return RowValues(columns: keeping.columns, values: values.values.picking(keeping.positions))
    }

    /// nil when the text is neither (the caller may try JSONDecoder), or a span that cannot be read.
    func read(_ text: String, fileName: String) -> RowValues? {
        switch text.utf8.first {
        case UInt8(ascii: "["):
            return columns[fileName].flatMap { FlatJSON.readValues(text, columns: $0, keeping: kept[fileName]) }
        case UInt8(ascii: "@"):
            guard let span = FileSpan(text: text), let columns = columns[fileName],
                let cells = files[fileName]?.withUnsafeBytes({ CSVReader.cells(at: span, in: $0) }), cells.count == columns.names.count
            else { return nil }
            return values(CSVTable.values(cells: cells, columns: columns), fileName: fileName)
        default:
            return FlatJSON.readObject(text, keeping: keeping).map(RowValues.init)
        }
    }
}

extension BatchItem {
    /// An item holding no memory but its own empty column list, for places whose items were moved out
    /// (`Array.joined(moving:filler:)`, `BatchEngine.readyChanges`): one for each core that fills places, so that no
    /// list is counted from two cores at once.
    static func newFiller() -> BatchItem {
        BatchItem(id: 0, fileName: "", row: nil, input: RowValues(columns: RowValues.Columns([]), values: Cells([])), state: .ready)
    }

    /// As read from a batch whose apply has committed (`Store.wasApplied`): ready means applied.
    func applied(_ applied: Bool) -> BatchItem {
        guard applied, state == .ready else { return self }
        var item = self
        item.state = .applied
        return item
    }

    init(row: SQLRow, decoder: JSONDecoder, inputs: StoredInput) throws {
        func decode<T: Decodable & RangeReplaceableCollection>(_ type: T.Type, _ column: String) throws -> T {
            let text = try row.text(column)
            return text == "[]" ? T() : try decoder.decode(type, from: Data(text.utf8))
        }
        let text = try row.text("input"), fileName = try row.text("file_name")
        let input: RowValues
        if text == "{}" {
            input = [:]
        } else if let read = inputs.read(text, fileName: fileName) {
            input = read
        } else if FileSpan(text: text) != nil {
            throw StoredInput.missing(row: row["row_number"].int.map(Int.init), fileName: fileName)
        } else {
            input = RowValues(try decoder.decode([String: String].self, from: Data(text.utf8)))
        }
        self.init(
            id: try row.int("item_id"), fileName: fileName, row: row["row_number"].int.map(Int.init),
            input: input, target: row.optionalText("target"),
            label: inputs.label(try row.text("label"), input: input, text: text, fileName: fileName),
            state: ItemState(rawValue: try row.text("state")) ?? .error,
            changes: try FlatJSON.readChanges(try row.text("changes")) ?? decode([FieldChange].self, "changes"),
            issues: try FlatJSON.readIssues(try row.text("issues")) ?? decode([BatchIssue].self, "issues"),
            manualTarget: row.optionalText("manual_target"),
            suggestions: (try? decode([Suggestion].self, "suggestions")) ?? [])
        source = StoredInput.span(text)
    }
}

extension FieldChange {
    init(row: SQLRow) throws {
        self.init(
            entity: try row.text("entity"), key: try row.text("entity_key"), field: try row.text("field"),
            before: row.optionalText("before_value"), after: row.optionalText("after_value"))
    }
}
