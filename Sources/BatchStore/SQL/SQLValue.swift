import BatchCore

/// A value bound to or read from a SQL statement, the same on SQLite and PostgreSQL.
public enum SQLValue: Sendable, Hashable {
    case null
    case int(Int64)
    case double(Double)
    case text(String)
    case bool(Bool)
    case blob([UInt8])

    public static func optional(_ text: String?) -> SQLValue { text.map { .text($0) } ?? .null }
    public static func optional(_ value: Int64?) -> SQLValue { value.map { .int($0) } ?? .null }
    public static func optional(_ value: Bool?) -> SQLValue { value.map { .bool($0) } ?? .null }
    public static func id<I: ExternalIdentifier>(_ id: I) -> SQLValue { .text(id.rawValue) }
    public static func id<I: ExternalIdentifier>(_ id: I?) -> SQLValue { id.map { .text($0.rawValue) } ?? .null }

    public var text: String? {
        switch self {
        case .text(let s): s
        case .int(let i): String(i)
        case .double(let d): String(d)
        case .bool(let b): b ? "true" : "false"
        case .null, .blob: nil
        }
    }

    public var int: Int64? {
        switch self {
        case .int(let i): i
        case .double(let d): Int64(d)
        case .bool(let b): b ? 1 : 0
        case .text(let s): Int64(s)
        case .null, .blob: nil
        }
    }

    /// SQLite has no boolean type and returns 0/1; PostgreSQL returns a boolean. Both read as Bool here.
    public var bool: Bool? {
        switch self {
        case .bool(let b): b
        case .int(let i): i != 0
        case .text(let s): s == "t" || s == "true" || s == "1"
        case .double(let d): d != 0
        case .null, .blob: nil
        }
    }

    public var double: Double? {
        switch self {
        case .double(let d): d
        case .int(let i): Double(i)
        case .text(let s): Double(s)
        default: nil
        }
    }
}

/// The column names of a result, shared by all its rows.
public final class SQLColumns: Sendable {
    public let names: [String]
    let index: [String: Int]

    public init(_ names: [String]) {
        self.names = names
        var index: [String: Int] = [:]
        for (position, name) in names.enumerated() where index[name] == nil { index[name] = position }
        self.index = index
    }
}

/// One result row, by column name: the cells in column order and the result's shared column names (no dictionary
/// per row — a 200,000-row result is one allocation of names and one array of cells a row).
public struct SQLRow: Sendable {
    public let columns: SQLColumns
    public var cells: [SQLValue]

    public init(columns: SQLColumns, cells: [SQLValue]) {
        self.columns = columns
        self.cells = cells
    }

    public init(values: [String: SQLValue]) {
        let names = values.keys.sorted()
        self.init(columns: SQLColumns(names), cells: names.map { values[$0]! })
    }

    /// The row as a dictionary (for the few callers that want one).
    public var values: [String: SQLValue] {
        Dictionary(zip(columns.names, cells), uniquingKeysWith: { first, _ in first })
    }

    public subscript(_ column: String) -> SQLValue {
        guard let position = columns.index[column] else { return .null }
        return cells[position]
    }

    public func text(_ column: String) throws -> String {
        guard let value = self[column].text else { throw StoreError.corrupt("column \(column) is NULL") }
        return value
    }
    public func optionalText(_ column: String) -> String? { self[column].text }
    public func int(_ column: String) throws -> Int64 {
        guard let value = self[column].int else { throw StoreError.corrupt("column \(column) is not a number") }
        return value
    }
    public func bool(_ column: String) -> Bool { self[column].bool ?? false }

    /// The cell at `position` of the row: for loops over many rows of a statement that names its columns in that
    /// order (a name is hashed and looked up; at a state-size roster's millions of cells, a good part of reading them).
    public func text(at position: Int) throws -> String {
        guard let value = cells[position].text else { throw StoreError.corrupt("column \(columns.names[position]) is NULL") }
        return value
    }
    public func optionalText(at position: Int) -> String? { cells[position].text }
    public func bool(at position: Int) -> Bool { cells[position].bool ?? false }
}

/// The row a statement is on, its cells read where they are: valid only inside the body of
/// `SQLConnection.forEachRow(_:_:cells:)` that was handed it (on SQLite the next step overwrites them).
public struct SQLCells {
    /// The SQLite statement stepped to the row; nil when the cells are a row's (`row`).
    let statement: OpaquePointer?
    let row: SQLRow?

    init(row: SQLRow) {
        statement = nil
        self.row = row
    }

    init(statement: OpaquePointer) {
        self.statement = statement
        row = nil
    }

    /// The UTF-8 bytes of the text at `position` (nil: NULL), valid only inside `body`.
    public func withText<R>(at position: Int, _ body: (UnsafeBufferPointer<UInt8>?) throws -> R) rethrows -> R {
        if let statement { return try Self.withText(statement, Int32(position), body) }
        guard var text = row?.optionalText(at: position) else { return try body(nil) }
        return try text.withUTF8 { try body($0) }
    }

    /// The text at `position` (nil: NULL).
    public func text(at position: Int) -> String? {
        withText(at: position) { bytes in bytes.map { String(decoding: $0, as: UTF8.self) } }
    }

    /// The cell at `position` as a whole number (`SQLValue.int`; nil: NULL).
    public func int(at position: Int) -> Int64? {
        if let statement { return Self.int(statement, Int32(position)) }
        return row?.cells[position].int
    }

    /// The cell at `position` as a yes/no (`SQLValue.bool`; NULL is false).
    public func bool(at position: Int) -> Bool {
        if let statement { return Self.bool(statement, Int32(position)) }
        return row?.bool(at: position) ?? false
    }
}

/// The SQL dialect of a backend, for the few places the two databases differ.
public enum SQLDialect: String, Sendable {
    case sqlite, postgres
}
