/// A row's cells, in order: texts of their own, or numbers in a list of texts that the file's reader made, each
/// distinct cell once (`CSVReader`). A state-size users.csv repeats a student's name, login ID and school on each of
/// their seven rows and a class's name and subject on each of its students' rows: as numbers, its 1.4 million rows
/// take four bytes a cell, not sixteen, and a text met again is not made again (docs/decisions.md, round 27).
/// Reads as a collection of the texts; a change to a cell makes the row's cells texts of their own.
public struct Cells: Sendable, Hashable, RandomAccessCollection, ExpressibleByArrayLiteral {
    /// The distinct texts of a piece of a file, numbered in the order first read.
    public final class Texts: Sendable {
        public let texts: [String]
        /// Whether a text has white space to trim at either end (`String.needsTrimming`): when none has, no row
        /// of the piece needs its cells looked at for it.
        let trimmable: Bool
        /// Each text's `Cells.textHash`: for an ASCII text the hash the reader told the texts apart by.
        let hashes: [UInt32]

        init(_ distinct: DistinctTexts) {
            texts = distinct.texts
            trimmable = texts.contains(where: \.needsTrimming)
            hashes = zip(texts, distinct.hashes).map { text, hash in Cells.textHash(text, bytesHash: hash) }
        }
    }

    /// The texts the numbers are of, nil when the cells are texts of their own (`own`).
    private var table: Texts?
    private var numbers: [UInt32]
    private var own: [String]

    public init(_ texts: [String]) {
        table = nil
        numbers = []
        own = texts
    }

    public init(arrayLiteral elements: String...) { self.init(elements) }

    init(numbers: [UInt32], in texts: Texts) {
        table = texts
        self.numbers = numbers
        own = []
    }

    public var startIndex: Int { 0 }

    public var endIndex: Int { table == nil ? own.count : numbers.count }

    @inline(__always)
    public subscript(position: Int) -> String {
        get {
            if let table { return table.texts[Int(numbers[position])] }
            return own[position]
        }
        set {
            if table != nil {
                own = texts
                table = nil
                numbers = []
            }
            own[position] = newValue
        }
    }

    /// The texts the cells are numbers in; nil when they are texts of their own.
    public var numberedIn: Texts? { table }

    /// Whether the cells are numbers in `texts` (no reference to either counted).
    @inline(__always)
    public func isNumbered(in texts: Texts?) -> Bool { table != nil && table === texts }

    /// The number of the cell's text in `numberedIn`; nil when the cells are texts of their own.
    @inline(__always)
    public func number(at position: Int) -> Int? { table == nil ? nil : Int(numbers[position]) }

    /// The cells as an array of texts (the array held when they are texts of their own).
    public var texts: [String] {
        guard let table else { return own }
        return numbers.map { table.texts[Int($0)] }
    }

    /// The cells at `positions`, in that order: numbers in the same texts when these cells are numbers (a row kept
    /// after the plan holds five of its cells, four bytes each).
    public func picking(_ positions: [Int]) -> Cells {
        guard let table else { return Cells(positions.map { own[$0] }) }
        return Cells(numbers: positions.map { numbers[$0] }, in: table)
    }

    /// A hash of the cell, the same for texts Swift calls equal, in any row (`textHash(_:)`): for cells that are
    /// numbers, made once for each distinct text of the piece (an ASCII text's is the hash its reader told the texts
    /// apart by), so a row's cells are not hashed again.
    @inline(__always)
    public func textHash(at position: Int) -> UInt32 {
        if let table { return table.hashes[Int(numbers[position])] }
        return Self.textHash(own[position])
    }

    /// A hash of the text (32 bits), the same for texts Swift calls equal: of the bytes for an ASCII text (whose
    /// equal texts are those of the same bytes), otherwise Swift's (a letter written composed and decomposed is one
    /// text to Swift, two byte sequences).
    public static func textHash(_ text: String) -> UInt32 {
        textHash(text, bytesHash: text.withUTF8Bytes(DistinctTexts.hash(of:)))
    }

    static func textHash(_ text: String, bytesHash: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: text.utf8.allSatisfy { $0 < 0x80 } ? bytesHash : text.hashValue)
    }

    /// The cells with the white space at either end of each trimmed (`String.trimmedCell`).
    public func trimmed() -> Cells {
        if let table, !table.trimmable { return self }
        var cells = self
        for position in indices where self[position].needsTrimming { cells[position] = self[position].trimmedCell }
        return cells
    }

    public static func == (left: Cells, right: Cells) -> Bool {
        // Equal numbers are equal texts; unequal ones may still be texts Swift calls equal (a letter written
        // composed and decomposed), so those are compared as texts, as cells of their own are.
        if let table = left.table, table === right.table, left.numbers == right.numbers { return true }
        return left.elementsEqual(right)
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        for text in self { hasher.combine(text) }
    }
}

/// Some cells of a row kept as the numbers of their texts, to tell whether a later row holds the same texts there
/// (the next rows of one person): compared as numbers for rows of the same piece of the file, no text read and the
/// row's cells read in place (a copy a row counted their references up and down). Other rows, and rows whose cells
/// are texts of their own, are never the same here: a caller then compares them another way or checks them again.
public struct KeptCells {
    private var texts: Cells.Texts?
    private var numbers: [Int] = []

    public init() {}

    /// Whether `cells` hold at `positions` (nil: a column the row lacks) the texts kept from the same positions.
    public func same(_ cells: Cells, at positions: [Int?]) -> Bool {
        guard cells.isNumbered(in: texts) else { return false }
        for (slot, position) in positions.enumerated() {
            if let position, cells.number(at: position) != numbers[slot] { return false }
        }
        return true
    }

    /// Keeps `cells`' texts at `positions` (nothing, when they are texts of their own).
    public mutating func keep(_ cells: Cells, at positions: [Int?]) {
        // (The list of texts is taken only when it changes: a piece's rows share it.)
        if !cells.isNumbered(in: texts) { texts = cells.numberedIn }
        numbers = positions.map { position in position.flatMap { cells.number(at: $0) } ?? -1 }
    }

    public mutating func forget() { texts = nil }
}

/// Answers to one question about a column's cells, remembered for each distinct text of a piece of the file (by its
/// number there, `Cells.number(at:)`): a question asked on every row (which class is this, is it "true") is then
/// answered once a text instead of once a row. An answer is a number from 0 up; cells that are texts of their own,
/// or rows not of the column's list, are answered each time. `make` must answer a text the same way each time it is
/// asked: what is remembered may be forgotten.
///
/// Rows read back from a stored batch are numbered each in texts of their own (a row's cells read again from the
/// file as uploaded): those are answered each time too, and only the last few pieces' answers are kept. Before,
/// every piece met was kept in a list searched at each change of piece, so that a batch read back (planned again
/// at Process, or given its second file) was counted in a time that grew with the square of its rows: 12 of the
/// 14 seconds of a 163,000-row roster's draft planned again at Process, in the request, and hours at state size.
public struct TextAnswers {
    private var texts: Cells.Texts?
    private var answers: [Int32] = []
    /// The answers of the other pieces met so far (a piece's rows come together in file order, so this is rarely read).
    private var others: [(texts: Cells.Texts, answers: [Int32])] = []

    public init() {}

    @inline(__always)
    public mutating func answer(_ values: RowValues, _ column: RowValues.Column, _ make: (String) -> Int32) -> Int32 {
        guard values.columns.sameList(as: column.columns) else { return make(values[column] ?? "") }
        return answer(values, at: column.position, make)
    }

    /// `answer` for a row the caller knows to be of the column list `position` is in (nil: a column it lacks).
    /// A text of the piece answered last that was answered already (nearly every row) is answered here, small enough
    /// to be made part of the caller, with no list of texts taken out of the row (counted up and down, a third of
    /// this a row).
    @inline(__always)
    public mutating func answer(_ values: RowValues, at position: Int?, _ make: (String) -> Int32) -> Int32 {
        if let position, values.values.isNumbered(in: texts), let number = values.values.number(at: position), answers[number] >= 0 {
            return answers[number]
        }
        return answerOnce(values, at: position, make)
    }

    @inline(never)
    private mutating func answerOnce(_ values: RowValues, at position: Int?, _ make: (String) -> Int32) -> Int32 {
        guard let position else { return make("") }
        if !values.values.isNumbered(in: texts) {
            guard let table = values.values.numberedIn, table.texts.count >= Self.fewestTexts else { return make(values.values[position]) }
            switchTo(table)
        }
        guard let number = values.values.number(at: position) else { return make(values.values[position]) }
        let known = answers[number]
        if known >= 0 { return known }
        let made = make(values.values[position])
        precondition(made >= 0, "an answer is a number from 0 up")
        answers[number] = made
        return made
    }

    /// Texts fewer than this (a row's own) are not worth answers kept for them.
    static let fewestTexts = 64
    /// How many pieces' answers are kept besides the current one's (a file's pieces come in order, each once).
    static let piecesKept = 8

    private mutating func switchTo(_ table: Cells.Texts) {
        if let texts {
            others.append((texts, answers))
            if others.count > Self.piecesKept { others.removeFirst() }
        }
        if let index = others.firstIndex(where: { $0.texts === table }) {
            answers = others.remove(at: index).answers
        } else {
            answers = [Int32](repeating: -1, count: table.texts.count)
        }
        texts = table
    }
}

/// Whether a column's cell differs from the one of the row read before (a file's rows come in order: a person's rows
/// together, a school's together). Where both rows' cells are numbers in the same distinct texts, by the numbers
/// (different numbers can still be texts equal as Strings, composed and decomposed: those count as different here,
/// so a caller collects such a text twice, into a set); otherwise by the texts.
public struct CellChanges {
    private var texts: Cells.Texts?
    private var number = -1
    private var last: String?
    private var any = false

    public init() {}

    /// Whether the cell of `column` in `values` (nil: no such column) differs from the last one asked about; it is
    /// the last one then.
    public mutating func differs(_ values: RowValues, _ column: RowValues.Column) -> Bool {
        if values.columns.sameList(as: column.columns), let position = column.position, let table = values.values.numberedIn,
            let number = values.values.number(at: position)
        {
            if table === texts {
                guard number != self.number else { return false }
                self.number = number
                last = table.texts[number]
                return true
            }
            let text = table.texts[number]
            defer { (texts, self.number, last, any) = (table, number, text, true) }
            return !any || text != last
        }
        let text = values[column]
        defer { (texts, number, last, any) = (nil, -1, text, true) }
        return !any || text != last
    }
}
