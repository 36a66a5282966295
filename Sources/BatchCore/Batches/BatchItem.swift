import Foundation

/// Where an item stands. Inspection and planning give `ready`, `unchanged`, `error`, `unmatched`; a person can
/// `skip` an item by hand; applying turns `ready` into `applied`.
public enum ItemState: String, Sendable, Codable, CaseIterable, Hashable {
    case ready, unchanged, error, unmatched, skipped, applied

    public var label: String {
        switch self {
        case .ready: "Will change"
        case .unchanged: "No change"
        case .error: "Error"
        case .unmatched: "Unmatched"
        case .skipped: "Skipped"
        case .applied: "Changed"
        }
    }
}

/// One field of one record, before and after a batch changes it. Undo puts `before` back where the field still
/// holds `after`.
public struct FieldChange: Sendable, Hashable, Codable {
    /// What kind of record (`person`).
    public var entity: String
    /// The record's key (a userId).
    public var key: String
    /// The field's API name (`userEmail`).
    public var field: String
    public var before: String?
    public var after: String?

    public init(entity: String, key: String, field: String, before: String?, after: String?) {
        self.entity = entity
        self.key = key
        self.field = field
        self.before = before
        self.after = after
    }
}

/// One row of an uploaded CSV, or one uploaded file, with what the batch will do with it.
public struct BatchItem: Sendable, Hashable, Codable {
    /// 1, 2, 3… within the batch, in upload order.
    public var id: Int64
    /// The uploaded file it came from.
    public var fileName: String
    /// The row in that file (the header is row 1), or nil for a whole-file item (a photo).
    public var row: Int?
    /// The input as read: column name → value.
    public var input: RowValues
    /// Who or what it was matched to (a userId), if anyone.
    public var target: String?
    /// A short description for lists ("19chanw1 · Chan Wing").
    public var label: String
    public var state: ItemState
    public var changes: [FieldChange]
    public var issues: [BatchIssue]
    /// Set by a person: the userId to use instead of the automatic match, or a wish to skip the item.
    public var manualTarget: String?
    /// Students the item may be about, closest first, for a person to choose from (unmatched files).
    public var suggestions: [Suggestion]
    /// Where its row is in the file it came from, when its input is exactly that row's cells trimmed (a UTF-8
    /// roster file kept as uploaded): stored, the input is read there again instead of being kept a second time.
    public var source: FileSpan?

    /// (Inlinable: called from another module, the call built the item in a temporary and then copied it out,
    /// retaining and releasing each of its references once more, for each of 1.6 million rows of a state-size roster.)
    @inlinable
    public init(
        id: Int64, fileName: String, row: Int?, input: RowValues, target: String? = nil, label: String = "",
        state: ItemState, changes: [FieldChange] = [], issues: [BatchIssue] = [], manualTarget: String? = nil,
        suggestions: [Suggestion] = []
    ) {
        self.suggestions = suggestions
        self.id = id
        self.fileName = fileName
        self.row = row
        self.input = input
        self.target = target
        self.label = label
        self.state = state
        self.changes = changes
        self.issues = issues
        self.manualTarget = manualTarget
    }

    public var hasErrors: Bool { issues.contains { $0.severity == .error } }

    /// Whether planning left the item as it was: the parts a plan sets (and `Store.updateItem` writes), not the
    /// cells, which planning never changes — comparing a row's cells too was a dictionary comparison a row.
    public func samePlan(as other: BatchItem) -> Bool {
        state == other.state && target == other.target && label == other.label && manualTarget == other.manualTarget
            && changes == other.changes && issues == other.issues && suggestions == other.suggestions
    }
}

/// Bytes of a file: where a row is in the file it was read from.
public struct FileSpan: Sendable, Hashable, Codable {
    public var offset: Int
    public var length: Int

    public init(offset: Int, length: Int) {
        self.offset = offset
        self.length = length
    }

    /// As stored in place of an item's input: `@offset+length`.
    public var text: String {
        var out: [UInt8] = []
        appendText(to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `text`, written at the end of `out` (a bulk insert's bytes: no text made for each item).
    public func appendText(to out: inout [UInt8]) {
        out.append(UInt8(ascii: "@"))
        FlatJSON.appendDecimal(Int64(offset), to: &out)
        out.append(UInt8(ascii: "+"))
        FlatJSON.appendDecimal(Int64(length), to: &out)
    }

    /// A span written by `text`; nil for anything else.
    public init?(text: String) {
        guard text.utf8.first == UInt8(ascii: "@") else { return nil }
        let parts = text.dropFirst().split(separator: "+", omittingEmptySubsequences: false)
        guard parts.count == 2, let offset = Int(parts[0]), let length = Int(parts[1]), offset >= 0, length > 0 else { return nil }
        self.init(offset: offset, length: length)
    }
}

/// A student an unmatched item may be about.
public struct Suggestion: Sendable, Hashable, Codable {
    public var userId: String
    /// “19chanw1 · Chan Wing · 4A”.
    public var label: String

    public init(userId: String, label: String) {
        self.userId = userId
        self.label = label
    }
}

/// How many items are in each state.
public struct ItemCounts: Sendable, Hashable, Codable {
    public var total = 0
    public var ready = 0
    public var unchanged = 0
    public var error = 0
    public var unmatched = 0
    public var skipped = 0
    public var applied = 0
    public var warnings = 0

    public init() {}

    /// Whether some item has an error, a warning or no match: what the problems by kind and the error report list.
    public var hasIssues: Bool { error + warnings + unmatched > 0 }

    /// The counts of a whole batch's items, as `Store.refreshCounts` finds them in the database.
    public init(_ items: some Sequence<BatchItem>) {
        for item in items { count(item.state, item.issues) }
    }

    /// The same for an array, read through it (not a copy of each item: a whole state-size batch is 1.6 million).
    public init(_ items: [BatchItem]) {
        for index in items.indices { count(items[index].state, items[index].issues) }
    }

    private mutating func count(_ state: ItemState, _ issues: [BatchIssue]) {
        self[state] += 1
        total += 1
        if issues.contains(where: { $0.severity == .warning }) { warnings += 1 }
    }

    public subscript(state: ItemState) -> Int {
        get {
            switch state {
            case .ready: ready
            case .unchanged: unchanged
            case .error: error
            case .unmatched: unmatched
            case .skipped: skipped
            case .applied: applied
            }
        }
        set {
            switch state {
            case .ready: ready = newValue
            case .unchanged: unchanged = newValue
            case .error: error = newValue
            case .unmatched: unmatched = newValue
            case .skipped: skipped = newValue
            case .applied: applied = newValue
            }
        }
    }
}

/// What reading one file gave: its items, and warnings about the file as a whole.
public struct FileInspection: Sendable {
    public var items: [BatchItem]
    public var warnings: [BatchIssue]
    /// What is kept of the upload instead of its bytes (a photo without its metadata; nothing of an invalid file);
    /// nil keeps the upload as it came.
    public var kept: Data?
    /// Further files made from the upload (a thumbnail), stored by their content hash like the upload.
    public var derived: [Data]
    /// The columns every item's `input` has, when they all have the same (a CSV file's): stored once for the file,
    /// and each row's cells as values only.
    public var columns: [String]?

    public init(items: [BatchItem], warnings: [BatchIssue], kept: Data? = nil, derived: [Data] = [], columns: [String]? = nil) {
        self.items = items
        self.warnings = warnings
        self.kept = kept
        self.derived = derived
        self.columns = columns
    }
}
