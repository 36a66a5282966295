import Foundation

/// Items stored as one database row: a run of a batch's items with consecutive numbers, of one file and one state
/// (ready or unchanged), none with an issue, a suggestion or a choice made by hand, each read from a span of the file
/// as uploaded (its cells and label read there again). Such items are nearly all of a roster's, and what storing a
/// row costs the database does not depend on its bytes: a state-size first import's 1.6 million items stored one row
/// each kept SQLite's writer about twice as long as the same bytes in rows of 256 (docs/decisions.md, rounds 29 and
/// 39). The pack's row keeps the first item's number and the last's (`pack_end`), the file's name and the state; its
/// `input` the items' own parts (`Entry`), and its `changes` all their changes as one array, in order.
public enum ItemPack {
    /// Items a pack holds at most.
    public static let capacity = 256

    /// What a packed item keeps of its own.
    public struct Entry: Sendable, Hashable {
        public var row: Int
        public var span: FileSpan
        public var target: String?
        /// How many of the pack's changes, in order, are this item's.
        public var changeCount: Int

        public init(row: Int, span: FileSpan, target: String?, changeCount: Int) {
            self.row = row
            self.span = span
            self.target = target
            self.changeCount = changeCount
        }
    }

    /// Whether the item at `index` may go into a pack, its file's rows being stored as spans with labels made from
    /// their cells. (Read where the buffer holds it: an item passed by value was copied, every reference it holds
    /// counted up and down, a quarter of a second of a state-size import's store step.)
    public static func packable(_ items: UnsafeBufferPointer<BatchItem>, _ index: Int) -> Bool {
        items[index].source != nil && items[index].row != nil && items[index].issues.isEmpty && items[index].suggestions.isEmpty
            && items[index].manualTarget == nil && (items[index].state == .ready || items[index].state == .unchanged)
    }

    /// The rows `items` are stored as, in order, each a range of `items`: a pack (several items) or one item.
    /// `packing`: whether a file's items may be packed.
    public static func units(_ items: UnsafeBufferPointer<BatchItem>, packing: (String) -> Bool) -> [Range<Int>] {
        var units: [Range<Int>] = []
        units.reserveCapacity(items.count / capacity + 16)
        var start = 0
        // (Whether the last run's file may be packed, asked again only when the file changes.)
        var lastFile: String?, fileOK = false
        while start < items.count {
            var end = start + 1
            if packable(items, start) {
                if items[start].fileName != lastFile {
                    lastFile = items[start].fileName
                    fileOK = packing(items[start].fileName)
                }
                if fileOK {
                    while end < items.count, end - start < capacity, packable(items, end), items[end].id == items[end - 1].id + 1,
                        items[end].state == items[start].state, items[end].fileName == items[start].fileName
                    {
                        end += 1
                    }
                }
            }
            units.append(start..<end)
            start = end
        }
        return units
    }

    /// The pack's entries, as its row's `input`: `[[row,offset,length,"target"|null,changes],…]`.
    public static func appendEntries(_ items: UnsafeBufferPointer<BatchItem>, _ range: Range<Int>, to out: inout [UInt8]) {
        out.append(0x5B)
        for index in range {
            if index > range.lowerBound { out.append(0x2C) }
            out.append(0x5B)
            FlatJSON.appendDecimal(Int64(items[index].row ?? 0), to: &out)
            out.append(0x2C)
            FlatJSON.appendDecimal(Int64(items[index].source?.offset ?? 0), to: &out)
            out.append(0x2C)
            FlatJSON.appendDecimal(Int64(items[index].source?.length ?? 0), to: &out)
            out.append(0x2C)
            if let target = items[index].target {
                FlatJSON.appendString(target, to: &out)
            } else {
                out += [0x6E, 0x75, 0x6C, 0x6C]
            }
            out.append(0x2C)
            FlatJSON.appendDecimal(Int64(items[index].changes.count), to: &out)
            out.append(0x5D)
        }
        out.append(0x5D)
    }

    /// The pack's changes, as its row's `changes`: every item's, in order, as one array (`FlatJSON.changes`), read
    /// whole by what wants only the changes (an apply, an undo).
    public static func appendChanges(_ items: UnsafeBufferPointer<BatchItem>, _ range: Range<Int>, to out: inout [UInt8]) {
        out.append(0x5B)
        var first = true
        for index in range { FlatJSON.appendChangeElements(items[index].changes, to: &out, first: &first) }
        out.append(0x5D)
    }

    /// The entries `appendEntries` wrote; nil for anything else.
    public static func readEntries(_ text: String) -> [Entry]? {
        var reader = FlatJSON.Reader(bytes: Array(text.utf8))
        guard reader.expect(0x5B) else { return nil }
        var entries: [Entry] = []
        if reader.peek() == 0x5D { return [] }
        while true {
            guard reader.expect(0x5B), let row = reader.integer(), reader.expect(0x2C), let offset = reader.integer(), reader.expect(0x2C),
                let length = reader.integer(), length > 0, offset >= 0, reader.expect(0x2C)
            else { return nil }
            var target: String?
            if !reader.null() {
                guard let text = reader.string() else { return nil }
                target = text
            }
            guard reader.expect(0x2C), let count = reader.integer(), count >= 0, reader.expect(0x5D) else { return nil }
            entries.append(Entry(row: row, span: FileSpan(offset: offset, length: length), target: target, changeCount: count))
            if reader.expect(0x2C) { continue }
            guard reader.expect(0x5D), reader.peek() == nil else { return nil }
            return entries
        }
    }

    /// Which of the pack's items have a change of a record of kind `entity`, told from the pack's changes as
    /// `appendChanges` wrote them (each change's first member) without reading the changes: a page of the preview
    /// filtered by kind of record counts them through every pack of a state-size roster. nil when the text is not
    /// in that form or does not hold the entries' changes.
    public static func touching(_ entity: String, changes bytes: UnsafeBufferPointer<UInt8>, entries: [Entry]) -> [Bool]? {
        let wanted = Array(entity.utf8)
        guard bytes.first == 0x5B else { return nil }
        var result = [Bool](repeating: false, count: entries.count)
        var at = 1
        for (index, entry) in entries.enumerated() {
            for _ in 0..<entry.changeCount {
                if at < bytes.count, bytes[at] == 0x2C { at += 1 }
                // `["entity",` — the kind written plain (no escapes in a kind's name).
                guard at + wanted.count + 3 < bytes.count, bytes[at] == 0x5B, bytes[at + 1] == 0x22, let end = FlatJSON.compositeEnd(bytes, from: at)
                else { return nil }
                if bytes[at + 2 + wanted.count] == 0x22, wanted.indices.allSatisfy({ bytes[at + 2 + $0] == wanted[$0] }) {
                    result[index] = true
                }
                at = end
            }
        }
        guard at + 1 == bytes.count, bytes[at] == 0x5D else { return nil }
        return result
    }

    /// Each entry's changes, cut from the pack's changes in order; nil when their counts do not add up.
    public static func split(_ changes: [FieldChange], among entries: [Entry]) -> [[FieldChange]]? {
        guard entries.reduce(0, { $0 + $1.changeCount }) == changes.count else { return nil }
        var result: [[FieldChange]] = []
        result.reserveCapacity(entries.count)
        var at = 0
        for entry in entries {
            result.append(Array(changes[at..<(at + entry.changeCount)]))
            at += entry.changeCount
        }
        return result
    }
}
