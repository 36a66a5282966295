import Foundation

/// A row's cells by column name, read like a `[String: String]`, but with the names kept once for all the rows of a
/// file (`Columns`) and each row holding only its values in the columns' order. A state-size users.csv is 1.4 million
/// rows of twenty cells: a dictionary a row (its hash table, twenty keys and the hashing of each) was over a
/// gigabyte of the import's memory and a good part of its time.
///
/// Equal, and hashed alike, when they hold the same names with the same values, whatever the order of the names.
public struct RowValues: Sendable, Hashable, Codable, ExpressibleByDictionaryLiteral, Sequence {
    /// Column names and where each is in a row's values; one list shared by every row of a file, or by every row of
    /// a piece of it read on one core (`copy()`): a reference every row holds is counted up and down as rows are
    /// made and copied, and when both cores count one object at once each count costs tens of times more.
    public final class Columns: Sendable {
        public let names: [String]
        let positions: [String: Int]
        /// Which list this is: the same for a list and its copies, different for any other (`sameList(as:)`).
        public let list: Int

        /// A name given twice keeps its first position.
        public init(_ names: [String]) {
            var positions: [String: Int] = [:]
            var kept: [String] = []
            for name in names where positions[name] == nil {
                positions[name] = kept.count
                kept.append(name)
            }
            self.names = kept
            self.positions = positions
            list = Self.lists.next()
        }

        private init(copying source: Columns) {
            names = source.names
            positions = source.positions
            list = source.list
        }

        /// The same list in an object of its own, for the rows one core makes.
        public func copy() -> Columns { Columns(copying: self) }

        /// Whether `other` is this list or a copy of it.
        @inline(__always)
        public func sameList(as other: Columns?) -> Bool { other.map { $0.list == list } ?? false }

        public func position(of name: String) -> Int? { positions[name] }

        private static let lists = Counter()

        private final class Counter: @unchecked Sendable {
            private let lock = NSLock()
            private var last = 0
            func next() -> Int {
                lock.lock()
                defer { lock.unlock() }
                last += 1
                return last
            }
        }
    }

    /// A column found once in a column list that many rows share: a row with that list reads it by position (an
    /// array index, where a name is hashed and looked up), any other row by name.
    public struct Column: Sendable {
        public let name: String
        let columns: Columns?
        let position: Int?

        /// `columns`: the list most rows to be read have (nil: read every row by name).
        public init(_ name: String, in columns: Columns?) {
            self.name = name
            self.columns = columns
            position = columns?.position(of: name)
        }
    }

    public private(set) var columns: Columns
    /// The cells, in the order of `columns.names`.
    public private(set) var values: Cells

    /// `values` in the order of `columns.names`, as many.
    public init(columns: Columns, values: [String]) {
        self.init(columns: columns, values: Cells(values))
    }

    public init(columns: Columns, values: Cells) {
        precondition(values.count == columns.names.count, "a row needs one value a column")
        self.columns = columns
        self.values = values
    }

    /// The pairs of a dictionary, names in sorted order.
    public init(_ dictionary: [String: String]) {
        let names = dictionary.keys.sorted()
        self.init(columns: Columns(names), values: names.map { dictionary[$0] ?? "" })
    }

    public init(dictionaryLiteral elements: (String, String)...) {
        var dictionary: [String: String] = [:]
        for (name, value) in elements { dictionary[name] = value }
        self.init(dictionary)
    }

    public subscript(name: String) -> String? {
        get { columns.positions[name].map { values[$0] } }
        set {
            if let position = columns.positions[name] {
                if let newValue {
                    values[position] = newValue
                } else {
                    var names = columns.names, texts = values.texts
                    names.remove(at: position)
                    texts.remove(at: position)
                    columns = Columns(names)
                    values = Cells(texts)
                }
            } else if let newValue {
                columns = Columns(columns.names + [name])
                values = Cells(values.texts + [newValue])
            }
        }
    }

    /// The value in `column`, nil when the row has no such column.
    public subscript(column: Column) -> String? {
        if columns.sameList(as: column.columns) { return column.position.map { values[$0] } }
        return self[column.name]
    }

    public var count: Int { values.count }
    public var isEmpty: Bool { values.isEmpty }
    /// The column names, in the row's order.
    public var keys: [String] { columns.names }
    public var dictionary: [String: String] { Dictionary(zip(columns.names, values), uniquingKeysWith: { first, _ in first }) }

    public func makeIterator() -> some IteratorProtocol<(key: String, value: String)> {
        zip(columns.names, values).lazy.map { (key: $0.0, value: $0.1) }.makeIterator()
    }

    public static func == (left: RowValues, right: RowValues) -> Bool {
        if left.columns.sameList(as: right.columns) { return left.values == right.values }
        guard left.count == right.count else { return false }
        for (name, value) in zip(left.columns.names, left.values) where right[name] != value { return false }
        return true
    }

    public func hash(into hasher: inout Hasher) {
        // Independent of the names' order, as `==` is.
        var combined = 0
        for (name, value) in zip(columns.names, values) {
            var pair = Hasher()
            pair.combine(name)
            pair.combine(value)
            combined ^= pair.finalize()
        }
        hasher.combine(count)
        hasher.combine(combined)
    }

    /// Written and read as a JSON object, as the `[String: String]` it stands for.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(dictionary)
    }

    public init(from decoder: any Decoder) throws {
        self.init(try decoder.singleValueContainer().decode([String: String].self))
    }
}
