import BatchCore
import Foundation

/// Items packed several to a row of `batch_items` (`ItemPack`; migration `PackItems`). Every reader of items reads
/// both forms: a row's `pack_end` is the number of its last item (NULL for a row of one item), its `item_id` the
/// first's. Packs hold only items without issues, so what reads items with issues reads rows as before.
extension Store {
    /// How many items a row of `batch_items` holds.
    static let itemsInRow = "COALESCE(pack_end - item_id + 1, 1)"

    /// The number of the last item a row holds.
    static func lastItem(of row: SQLRow) throws -> Int64 {
        try row["pack_end"].int ?? row.int("item_id")
    }

    /// The item numbered `itemID`, from its own row or from its pack's.
    static func item(_ db: any SQLConnection, batchID: BatchID, itemID: Int64, inputs: StoredInput) throws -> BatchItem? {
        guard
            let row = try db.first(
                "SELECT * FROM batch_items WHERE \(itemsOfBatch) AND item_id <= ? ORDER BY item_id DESC LIMIT 1", [.id(batchID), .int(itemID)]),
            try lastItem(of: row) >= itemID
        else { return nil }
        return try BatchItem.decoded(row: row, decoder: JSONDecoder(), inputs: inputs).first { $0.id == itemID }
    }

    /// Takes apart the pack holding item `itemID`, if one does: its items stored one row each, as they are stored
    /// unpacked (before an item is changed by hand or planned again into another state).
    static func unpack(_ db: any SQLConnection, batchID: BatchID, holding itemID: Int64) throws {
        guard
            let row = try db.first(
                """
                SELECT * FROM batch_items WHERE \(itemsOfBatch) AND pack_end IS NOT NULL AND item_id <= ?
                ORDER BY item_id DESC LIMIT 1
                """, [.id(batchID), .int(itemID)]),
            let end = row["pack_end"].int, end >= itemID
        else { return }
        let first = try row.int("item_id"), number = try row.int("batch_no")
        let (entries, changes) = try packParts(row, first: first, end: end)
        try db.execute("DELETE FROM batch_items WHERE batch_no = ? AND item_id = ?", [.int(number), .int(first)])
        // Each item as `insertItems` writes a span item of its own (the same columns, in `itemColumns`' order).
        try db.bulkInsert(
            table: "batch_items", columns: itemColumns,
            rows: entries.enumerated().map { offset, entry in
                [
                    .int(number), .int(first + Int64(offset)), row["file_name"], .int(Int64(entry.row)), .text(entry.span.text),
                    .optional(entry.target), .text(""), row["state"], .text(FlatJSON.changes(changes[offset])), .text("[]"), .null,
                    .text("[]"), .null,
                ]
            })
    }

    /// A pack's entries and each one's changes.
    static func packParts(_ row: SQLRow, first: Int64, end: Int64) throws -> (entries: [ItemPack.Entry], changes: [[FieldChange]]) {
        try packParts(input: row.text("input"), changes: row.text("changes"), first: first, end: end)
    }

    /// A pack's entries and each one's changes, from its row's `input` and `changes`.
    static func packParts(input: String, changes: String, first: Int64, end: Int64) throws -> (entries: [ItemPack.Entry], changes: [[FieldChange]]) {
        guard let entries = ItemPack.readEntries(input), Int64(entries.count) == end - first + 1,
            let all = FlatJSON.readChanges(changes), let split = ItemPack.split(all, among: entries)
        else { throw StoreError.corrupt("the batch items \(first)–\(end), stored together, could not be read") }
        return (entries, split)
    }
}

extension BatchItem {
    /// The items of a row of `batch_items`: the one it holds, or its pack's.
    static func decoded(row: SQLRow, decoder: JSONDecoder, inputs: StoredInput) throws -> [BatchItem] {
        guard let end = row["pack_end"].int else { return [try BatchItem(row: row, decoder: decoder, inputs: inputs)] }
        return try inputs.unpacked(row, end: end)
    }
}

extension StoredInput {
    /// The items of a pack's row, their cells read from the kept file.
    func unpacked(_ row: SQLRow, end: Int64) throws -> [BatchItem] {
        let first = try row.int("item_id"), fileName = try row.text("file_name")
        guard let state = ItemState(rawValue: try row.text("state")) else {
            throw StoreError.corrupt("the batch items \(first)–\(end) have no state that can be read")
        }
        let (entries, changes) = try Store.packParts(row, first: first, end: end)
        // The pack's rows read from the file at once when they follow one another there (a roster's do): a list of
        // distinct texts for the pack, not one for each row.
        let run = read(entries.map(\.span), fileName: fileName)
        var items: [BatchItem] = []
        items.reserveCapacity(entries.count)
        for (offset, entry) in entries.enumerated() {
            let text = entry.span.text
            guard let input = run?[offset] ?? read(text, fileName: fileName) else { throw Self.missing(row: entry.row, fileName: fileName) }
            var item = BatchItem(
                id: first + Int64(offset), fileName: fileName, row: entry.row, input: input, target: entry.target,
                label: label("", input: input, text: text, fileName: fileName), state: state, changes: changes[offset])
            item.source = entry.span
            items.append(item)
        }
        return items
    }

    /// A span of a kept file that cannot be read there.
    static func missing(row: Int?, fileName: String) -> StoreError {
        StoreError.corrupt(
            "row \(row.map(String.init) ?? "?") of \(fileName) is read from the file as uploaded, which is no longer "
                + "in the data directory's files folder (or no longer matches); restore that folder from a backup")
    }
}
