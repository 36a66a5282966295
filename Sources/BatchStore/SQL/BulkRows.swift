import BatchCore

/// Rows of a bulk insert, laid out by the thread that made them in the form the connection writes them: the
/// writer's thread then only hands each value on. Made on the other cores while the writer inserts the slice before
/// (`Store.insertPipelined`), and let go there: the writer no longer counts a reference, nor nests a call, for each
/// text of 1.6 million items (a tenth of SQLite's writer thread while a state-size roster's items were stored).
public struct BulkRows: Sendable {
    /// How a connection takes its rows (`SQLConnection.bulkLayout`).
    public enum Layout: Sendable {
        /// Each value a `Cell` over one buffer of bytes, bound where it is (SQLite).
        case cells
        /// COPY's text format, row after row (PostgreSQL).
        case copyText
    }

    /// One value: a number, or where a text's or blob's bytes are in `bytes`.
    struct Cell {
        enum Kind: UInt8 { case null, int, double, text, blob }
        var kind: Kind
        /// The integer, a double's bit pattern, or the bytes' offset.
        var number: Int64
        /// The bytes' count.
        var count: Int32
    }

    public let layout: Layout
    /// Rows, and values a row.
    public let count: Int
    public let width: Int
    /// Whether some row has another number of values than `width` (refused by `check(table:layout:)`).
    let ragged: Bool
    /// `.cells`: the texts' and blobs' bytes, one after another; `.copyText`: the rows as COPY reads them.
    let bytes: [UInt8]
    /// `.cells`: `count × width` values, row after row; `.copyText`: empty.
    let cells: [Cell]

    /// `rows` (taken: let go here, on the thread that lays them out), of `width` values each.
    public init(_ rows: consuming [[SQLValue]], width: Int, layout: Layout) {
        let rows = consume rows
        var builder = Builder(width: width, layout: layout, rows: rows.count)
        for row in rows {
            for value in row { builder.add(value) }
            builder.endRow()
        }
        self = builder.rows
    }

    /// Pieces laid out apart (on several cores), one after another.
    public init(joining pieces: [BulkRows], width: Int, layout: Layout) {
        self.layout = layout
        self.width = width
        count = pieces.reduce(0) { $0 + $1.count }
        ragged = pieces.contains { $0.ragged || $0.width != width || $0.layout != layout }
        guard pieces.count != 1 else {
            (bytes, cells) = (pieces[0].bytes, pieces[0].cells)
            return
        }
        var bytes: [UInt8] = [], cells: [Cell] = []
        bytes.reserveCapacity(pieces.reduce(0) { $0 + $1.bytes.count })
        cells.reserveCapacity(pieces.reduce(0) { $0 + $1.cells.count })
        for piece in pieces {
            let shift = Int64(bytes.count)
            bytes += piece.bytes
            for var cell in piece.cells {
                if cell.kind == .text || cell.kind == .blob { cell.number += shift }
                cells.append(cell)
            }
        }
        (self.bytes, self.cells) = (bytes, cells)
    }

    private init(layout: Layout, count: Int, width: Int, ragged: Bool, bytes: [UInt8], cells: [Cell]) {
        (self.layout, self.count, self.width, self.ragged, self.bytes, self.cells) = (layout, count, width, ragged, bytes, cells)
    }

    /// Lays out rows value by value, a text's bytes written where they go (`addText`): no `SQLValue`, array or
    /// `String` made for a value the caller writes as bytes (an item's changes as JSON).
    public struct Builder {
        let width: Int
        let layout: Layout
        var bytes: [UInt8] = []
        var cells: [Cell] = []
        var count = 0, ragged = false
        /// Values added to the row being laid out.
        var inRow = 0
        /// `.copyText`: where `addText` writes before the bytes are escaped into `bytes`.
        var scratch: [UInt8] = []

        /// `rows`, `bytesPerRow`: room made for so many rows, of about so many bytes each.
        public init(width: Int, layout: Layout, rows: Int = 0, bytesPerRow: Int = 0) {
            self.width = width
            self.layout = layout
            if layout == .cells { cells.reserveCapacity(rows * width) }
            bytes.reserveCapacity(rows * bytesPerRow)
        }

        public mutating func add(_ value: SQLValue) {
            switch layout {
            case .cells: BulkRows.append(value, to: &cells, &bytes)
            case .copyText:
                if inRow > 0 { bytes.append(UInt8(ascii: "\t")) }
                BulkRows.appendCopyValue(value, to: &bytes)
            }
            inRow += 1
        }

        /// A text (valid UTF-8) that `write` appends to the array it is given.
        public mutating func addText(_ write: (inout [UInt8]) -> Void) {
            switch layout {
            case .cells:
                let start = bytes.count
                write(&bytes)
                cells.append(Cell(kind: .text, number: Int64(start), count: Int32(bytes.count - start)))
            case .copyText:
                if inRow > 0 { bytes.append(UInt8(ascii: "\t")) }
                scratch.removeAll(keepingCapacity: true)
                write(&scratch)
                scratch.withUnsafeBufferPointer { BulkRows.appendCopyText($0, to: &bytes) }
            }
            inRow += 1
        }

        public mutating func endRow() {
            if inRow != width { ragged = true }
            if layout == .copyText { bytes.append(UInt8(ascii: "\n")) }
            inRow = 0
            count += 1
        }

        /// The rows laid out.
        public var rows: BulkRows {
            BulkRows(layout: layout, count: count, width: width, ragged: ragged || inRow != 0, bytes: bytes, cells: cells)
        }
    }

    /// Refuses rows of the wrong width, or laid out for the other database, before anything is written (`table`:
    /// named in the error; `layout`: the connection's `bulkLayout`).
    func check(table: String, layout wanted: Layout) throws {
        if layout != wanted {
            throw StoreError.corrupt("a bulk insert into \(table) was given rows laid out for another database (\(layout))")
        }
        guard ragged else { return }
        throw StoreError.corrupt("a bulk insert into \(table) was given a row without exactly \(width) values")
    }

    static func append(_ value: SQLValue, to cells: inout [Cell], _ bytes: inout [UInt8]) {
        switch value {
        case .null: cells.append(Cell(kind: .null, number: 0, count: 0))
        case .int(let number): cells.append(Cell(kind: .int, number: number, count: 0))
        case .bool(let flag): cells.append(Cell(kind: .int, number: flag ? 1 : 0, count: 0))
        case .double(let number): cells.append(Cell(kind: .double, number: Int64(bitPattern: number.bitPattern), count: 0))
        case .text(var text):
            text.withUTF8 { text in
                cells.append(Cell(kind: .text, number: Int64(bytes.count), count: Int32(text.count)))
                bytes.append(contentsOf: text)
            }
        case .blob(let blob):
            cells.append(Cell(kind: .blob, number: Int64(bytes.count), count: Int32(blob.count)))
            bytes.append(contentsOf: blob)
        }
    }

    /// One value in COPY's text format: `\N` for NULL; backslash, tab, newline and carriage return escaped.
    static func appendCopyValue(_ value: SQLValue, to bytes: inout [UInt8]) {
        switch value {
        case .null: bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "N")])
        case .int(let number): FlatJSON.appendDecimal(number, to: &bytes)
        case .double(let number): bytes.append(contentsOf: String(number).utf8)
        case .bool(let flag): bytes.append(flag ? UInt8(ascii: "t") : UInt8(ascii: "f"))
        case .text(var text): text.withUTF8 { appendCopyText($0, to: &bytes) }
        case .blob(let blob):
            // bytea in hex, its backslash escaped for COPY.
            bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\"), UInt8(ascii: "x")])
            let hex = Array("0123456789abcdef".utf8)
            for byte in blob {
                bytes.append(hex[Int(byte >> 4)])
                bytes.append(hex[Int(byte & 0xF)])
            }
        }
    }

    /// A text's bytes in COPY's text format: backslash, tab, newline and carriage return escaped.
    static func appendCopyText(_ text: UnsafeBufferPointer<UInt8>, to bytes: inout [UInt8]) {
        // Most texts have nothing to escape: copied whole.
        guard text.contains(where: { $0 == UInt8(ascii: "\\") || $0 == UInt8(ascii: "\t") || $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") })
        else { return bytes.append(contentsOf: text) }
        for byte in text {
            switch byte {
            case UInt8(ascii: "\\"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "\\")])
            case UInt8(ascii: "\t"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "t")])
            case UInt8(ascii: "\n"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "n")])
            case UInt8(ascii: "\r"): bytes.append(contentsOf: [UInt8(ascii: "\\"), UInt8(ascii: "r")])
            default: bytes.append(byte)
            }
        }
    }
}
