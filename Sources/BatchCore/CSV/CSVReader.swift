import Foundation

/// One record of a CSV file with the line it starts on (the header is line 1), as people count rows in a
/// spreadsheet.
public struct CSVRecord: Sendable, Hashable {
    public var line: Int
    public var cells: Cells
    /// Where the record is in the bytes read (its line break not included), so that it can be read there again.
    public var bytes: Range<Int>
    public init(line: Int, cells: [String], bytes: Range<Int> = 0..<0) {
        self.init(line: line, cells: Cells(cells), bytes: bytes)
    }

    public init(line: Int, cells: Cells, bytes: Range<Int> = 0..<0) {
        self.line = line
        self.cells = cells
        self.bytes = bytes
    }

    /// A record that holds no memory of its own, for the places of records moved out.
    static let filler = CSVRecord(line: 0, cells: Cells([]))
}

/// Reads RFC 4180 CSV: quoted commas, doubled quotes and line breaks inside quotes; CRLF, LF or a lone CR; blank
/// lines skipped.
///
/// Written by hand because `BatchCore` depends on Foundation only (STYLE.md) and because it runs over UTF-8
/// bytes without per-character allocation: an unquoted cell is made straight from its bytes. A large file is read
/// in one piece a core, each cut just after a line feed, and the pieces' records joined; a piece is only right if
/// the one before it did not end inside quotes (a line break inside a quoted cell), so when one did, the file is
/// read again from the start in one piece.
public enum CSVReader {
    /// What reading gave: the records, and where a quoted value opened that never closed (the file is then unusable:
    /// everything after that quote would be one cell, so the caller refuses the file and names the line).
    public struct Parse: Sendable, Hashable {
        public var records: [CSVRecord]
        public var unterminatedQuoteLine: Int?
    }

    /// Files smaller than this are read in one piece.
    static let pieceMinimum = 1 << 20

    public static func records(in text: String) -> [CSVRecord] { parse(text).records }

    public static func parse(_ text: String) -> Parse {
        var text = text
        return text.withUTF8 { parse(utf8: $0) }
    }

    /// `pieces`: how many pieces to read at once; by default one a core for a file of a megabyte or more (tests
    /// ask for more, to put cuts where they want them). Bytes that are not UTF-8 become U+FFFD.
    public static func parse(utf8 bytes: UnsafeBufferPointer<UInt8>, pieces wanted: Int? = nil) -> Parse {
        parse(bytes, pieces: wanted, validating: false)!
    }

    /// The same from bytes not yet known to be UTF-8, each cell checked as it is made: nil when a cell is not
    /// UTF-8. A file read this way is not first checked and copied whole into a `String` (a fifth of reading a
    /// state-size users.csv).
    public static func parse(unvalidatedUTF8 bytes: UnsafeBufferPointer<UInt8>, pieces wanted: Int? = nil) -> Parse? {
        parse(bytes, pieces: wanted, validating: true)
    }

    static func parse(_ bytes: UnsafeBufferPointer<UInt8>, pieces wanted: Int?, validating: Bool) -> Parse? {
        let shared = Bytes(buffer: bytes)
        // Eight pieces a core, each taken by the next core free: the file is read while its copy is written and
        // hashed on another thread, so a core's even share would leave the other one idle at the end (with four, the
        // last piece of a state-size users.csv still ran alone for a tenth of a second).
        let bounds = pieceBounds(bytes, pieces: wanted ?? (bytes.count < pieceMinimum ? 1 : 8 * ProcessInfo.processInfo.activeProcessorCount))
        if bounds.count > 1 {
            var pieces = Parallel.tasks(bounds.count) { read(shared.buffer, bounds[$0], final: $0 == bounds.count - 1, validating: validating) }
            if pieces.contains(where: \.invalid) { return nil }
            if pieces.dropLast().allSatisfy({ !$0.endsInQuotes }) {
                // Each piece's records copied into their place and let go on every core, numbered on from the lines
                // before them (joined on one core, they had been a tenth of a second of reading a state-size file).
                var starts = [0], linesBefore = [0]
                for piece in pieces {
                    starts.append(starts[starts.count - 1] + piece.records.count)
                    linesBefore.append(linesBefore[linesBefore.count - 1] + piece.lineBreaks)
                }
                let firstRecord = starts, lines = linesBefore, count = pieces.count
                let held = pieces.indices.map { index in
                    let box = PieceRecords()
                    swap(&box.records, &pieces[index].records)
                    return box
                }
                let records = [CSVRecord](unsafeUninitializedCapacity: firstRecord[count]) { buffer, initialized in
                    let target = Parallel.Elements(buffer)
                    DispatchQueue.concurrentPerform(iterations: count) { index in
                        var records: [CSVRecord] = []
                        swap(&records, &held[index].records)
                        guard !records.isEmpty, let base = target.buffer.baseAddress else { return }
                        let start = base + firstRecord[index]
                        // Moved, not copied: a copy counted up each record's references and freeing the piece's
                        // array counted them down again; its places get a record that holds nothing instead.
                        records.move(to: start, filler: .filler)
                        if lines[index] > 0 { for offset in 0..<records.count { start[offset].line += lines[index] } }
                    }
                    initialized = firstRecord[count]
                }
                let last = pieces[count - 1]
                let quoteLine = last.endsInQuotes ? last.quoteLine + lines[count - 1] : nil
                return Parse(records: records, unterminatedQuoteLine: quoteLine)
            }
        }
        let whole = read(bytes, 0..<bytes.count, final: true, validating: validating)
        if whole.invalid { return nil }
        return Parse(records: whole.records, unterminatedQuoteLine: whole.endsInQuotes ? whole.quoteLine : nil)
    }

    /// The cells of the one record at `span` of a UTF-8 file (`CSVTable.span(of:)`), read as they were the first
    /// time; nil when the span is not within the file or does not hold exactly one record.
    public static func cells(at span: FileSpan, in file: UnsafeRawBufferPointer) -> Cells? {
        guard span.offset >= 0, span.length > 0, span.offset <= file.count, span.length <= file.count - span.offset else { return nil }
        let bytes = file.bindMemory(to: UInt8.self)
        let piece = read(bytes, span.offset..<(span.offset + span.length), final: true, validating: false)
        guard piece.records.count == 1, !piece.endsInQuotes else { return nil }
        return piece.records[0].cells
    }

    /// The cells of the records at `spans`, which follow one another in the file (nothing but line breaks and empty
    /// lines between them: a pack's rows, `ItemPack`), read at once: numbers in one list of distinct texts for all
    /// of them, as the file's reader numbers a piece's rows. nil when the bytes read do not give exactly those records
    /// (each span is then read alone).
    public static func cells(of spans: [FileSpan], in file: UnsafeRawBufferPointer) -> [Cells]? {
        guard let first = spans.first, let last = spans.last else { return [] }
        let start = first.offset, end = last.offset + last.length
        guard start >= 0, first.length > 0, start < end, end <= file.count else { return nil }
        let piece = read(file.bindMemory(to: UInt8.self), start..<end, final: true, validating: false)
        guard piece.records.count == spans.count, !piece.endsInQuotes else { return nil }
        for (record, span) in zip(piece.records, spans) where record.bytes != span.offset..<(span.offset + span.length) { return nil }
        return piece.records.map(\.cells)
    }

    /// Whether `text` is made of exactly the bytes `utf8`.
    @inline(__always)
    public static func text(_ text: String, is utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        text.withUTF8Bytes { $0.count == utf8.count && ($0.isEmpty || memcmp($0.baseAddress!, utf8.baseAddress!, utf8.count) == 0) }
    }

    /// The file's bytes, shared by the pieces that read them at once (read only).
    private struct Bytes: @unchecked Sendable { let buffer: UnsafeBufferPointer<UInt8> }
    /// A piece's records, taken by the one task that joins them to the file's (and lets them go there).
    private final class PieceRecords: @unchecked Sendable { var records: [CSVRecord] = [] }

    /// Where each piece starts and ends: just after the first line feed at or past an even share of the bytes.
    static func pieceBounds(_ bytes: UnsafeBufferPointer<UInt8>, pieces: Int) -> [Range<Int>] {
        var starts = [0]
        if pieces > 1 {
            for piece in 1..<pieces {
                var position = max(bytes.count * piece / pieces, starts[starts.count - 1])
                while position < bytes.count && bytes[position] != 0x0A { position += 1 }
                if position + 1 < bytes.count && position + 1 > starts[starts.count - 1] { starts.append(position + 1) }
            }
        }
        return starts.indices.map { starts[$0]..<(($0 + 1 < starts.count) ? starts[$0 + 1] : bytes.count) }
    }

    /// Nothing but white space (most cells start with a letter or digit: answered by their first byte).
    static func isBlank(_ cell: String) -> Bool {
        for byte in cell.utf8 {
            if byte >= 0x80 { return cell.allSatisfy(\.isWhitespace) }
            if byte != 0x20 && !(0x09...0x0D).contains(byte) { return false }
        }
        return true
    }

    /// What one piece gave: lines counted from 1 at its start.
    struct Piece: Sendable {
        var records: [CSVRecord]
        /// The line breaks it holds (inside quotes too).
        var lineBreaks: Int
        var endsInQuotes: Bool
        var quoteLine: Int
        /// `validating` found a cell that is not UTF-8 (the piece stops there).
        var invalid = false
    }

    /// Reads `range` as if it started a file. `final`: the end of the bytes closes the last record. `validating`:
    /// stop at a cell that is not UTF-8 (otherwise its bad bytes become U+FFFD).
    static func read(_ bytes: UnsafeBufferPointer<UInt8>, _ range: Range<Int>, final: Bool, validating: Bool) -> Piece {
        var records: [CSVRecord] = []
        records.reserveCapacity(range.count / 64)
        var quoteLine = 0
        // The record's cells as numbers in the piece's distinct texts (`Cells`), and where each simple cell's bytes
        // are (-1 for a quoted one).
        var distinct = DistinctTexts()
        var cells: [UInt32] = []
        // Each record's numbers, made into its `Cells` once the piece's texts are all read.
        var numbered: [[UInt32]] = []
        numbered.reserveCapacity(range.count / 64)
        var starts: [Int] = [], ends: [Int] = []
        // A cell is the bytes from `fieldStart` on while `simple`; once it has had a quote, its text is built in
        // `field`.
        var field: [UInt8] = []
        var simple = true
        var fieldStart = range.lowerBound
        var inQuotes = false
        var line = 1
        var recordLine = 1
        var recordStart = range.lowerBound
        let end = range.upperBound
        // One past the end reads as a line feed in the last piece, which closes the last record.
        let stop = final ? end + 1 : end
        @inline(__always) func byte(at index: Int) -> UInt8? {
            index < end ? bytes[index] : (final && index == end ? 0x0A : nil)
        }
        var invalid = false
        // The bytes of the cell so far, or-ed: a cell of ASCII only needs no check.
        var high: UInt8 = 0
        /// The cell's number. A cell with a byte over 0x7F, `validating`, is compared with the text made of it, which
        /// differs where a byte that is not UTF-8 became U+FFFD (`String(validating:)` a cell was slower than reading).
        /// A text met before has the bytes it was made of (`DistinctTexts` compares them).
        func cell(_ utf8: UnsafeBufferPointer<UInt8>) -> UInt32 {
            let (position, inserted) = distinct.position(of: utf8)
            if validating && inserted && high >= 0x80 && !Self.text(distinct.texts[position], is: utf8) { invalid = true }
            high = 0
            return UInt32(truncatingIfNeeded: position)
        }
        // The previous record's cells and where their bytes were: a cell with the same bytes as the previous record's
        // in that column (a student's name, login ID and school on each of their seven rows) takes its number without
        // being looked up.
        var previous: [UInt32] = [], previousStarts: [Int] = [], previousEnds: [Int] = []
        /// Ends the cell at `index` (a comma or line break); a cell still made of its bytes ends at `cut`.
        func endField(at index: Int, cut: Int? = nil) {
            if simple {
                let start = fieldStart, stop = cut ?? index, column = cells.count
                if column < previous.count, previousStarts[column] >= 0, previousEnds[column] - previousStarts[column] == stop - start,
                    stop == start || memcmp(bytes.baseAddress! + previousStarts[column], bytes.baseAddress! + start, stop - start) == 0
                {
                    cells.append(previous[column])
                    high = 0
                } else {
                    cells.append(cell(UnsafeBufferPointer(rebasing: bytes[start..<stop])))
                }
                starts.append(start)
                ends.append(stop)
            } else {
                cells.append(field.withUnsafeBufferPointer { cell($0) })
                starts.append(-1)
                ends.append(-1)
                field.removeAll(keepingCapacity: true)
                simple = true
            }
            fieldStart = index + 1
        }
        func fieldIsBlank(at index: Int) -> Bool {
            simple
                ? bytes[fieldStart..<index].allSatisfy { $0 == 0x20 || $0 == 0x09 }
                : field.allSatisfy { $0 == 0x20 || $0 == 0x09 }
        }
        var index = range.lowerBound
        while index < stop {
            let current = index < end ? bytes[index] : 0x0A
            if inQuotes {
                if current == 0x22 {
                    if byte(at: index + 1) == 0x22 {
                        field.append(0x22)
                        index += 1
                    } else {
                        inQuotes = false
                    }
                } else {
                    // A line break inside quotes: LF, CRLF (counted at its LF) or a lone CR (old Mac files).
                    if current == 0x0A || (current == 0x0D && byte(at: index + 1) != 0x0A) { line += 1 }
                    field.append(current)
                    high |= current
                }
            } else {
                switch current {
                case 0x22 where fieldIsBlank(at: index):
                    field.removeAll(keepingCapacity: true)
                    simple = false
                    inQuotes = true
                    quoteLine = line
                case 0x2C:
                    endField(at: index)
                case 0x0D where byte(at: index + 1) == 0x0A:
                    break  // the CR of a CRLF: the line ends at its LF
                case 0x0A, 0x0D:
                    // A cell still made of its bytes ends before a CRLF's CR.
                    let crlf = current == 0x0A && simple && index > fieldStart && bytes[index - 1] == 0x0D
                    endField(at: index, cut: crlf ? index - 1 : nil)
                    // A cell of the record was not UTF-8: the file is read another way, nothing more here is needed.
                    if invalid { return Piece(records: [], lineBreaks: 0, endsInQuotes: false, quoteLine: 0, invalid: true) }
                    if !cells.allSatisfy({ isBlank(distinct.texts[Int($0)]) }) {
                        // (Its bytes end before its line break, a CRLF's CR included.)
                        let last = current == 0x0A && index > recordStart && index <= end && bytes[index - 1] == 0x0D ? index - 1 : min(index, end)
                        records.append(CSVRecord(line: recordLine, cells: [], bytes: recordStart..<last))
                        numbered.append(cells)
                    }
                    // The next record's cells in an array of this one's size: a record's array is kept as the row's
                    // values, so one grown by appending (room for 32 cells where 20 were read) would stay that size.
                    let width = cells.count
                    previous = cells
                    cells = []
                    cells.reserveCapacity(width)
                    swap(&starts, &previousStarts)
                    swap(&ends, &previousEnds)
                    starts.removeAll(keepingCapacity: true)
                    ends.removeAll(keepingCapacity: true)
                    line += 1
                    recordLine = line
                    recordStart = index + 1
                default:
                    if !simple {
                        field.append(current)
                        high |= current
                    } else {
                        // The rest of a cell of its own bytes, up to the next byte that could end it or open a
                        // quote, in a loop of its own (most of a file's bytes: the one above asks more of each).
                        var next = index + 1
                        var seen = current
                        while next < end {
                            let byte = bytes[next]
                            if byte == 0x2C || byte == 0x0A || byte == 0x0D || byte == 0x22 { break }
                            seen |= byte
                            next += 1
                        }
                        high |= seen
                        index = next
                        continue
                    }
                }
            }
            index += 1
        }
        let table = Cells.Texts(distinct)
        for index in records.indices { records[index].cells = Cells(numbers: numbered[index], in: table) }
        return Piece(records: records, lineBreaks: line - 1, endsInQuotes: inQuotes, quoteLine: quoteLine)
    }
}
