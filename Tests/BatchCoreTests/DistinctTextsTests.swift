@testable import BatchCore
import Testing

@Suite("DistinctTexts: keys told apart by their bytes, each kept once, numbered in the order first given")
struct DistinctTextsTests {
    /// Texts over and under 15 bytes (kept inside and outside the `String`), Chinese, an empty one, and "é" written
    /// composed and decomposed: Swift calls those two equal, the database two keys.
    let texts = ["SCH0001-01A-ENGL", "SCH0001-01A", "陳大文", "", "caf\u{E9}", "cafe\u{301}", "SCH0001-01A-ENGL-EXTRA-LONG-ID"]

    func check(_ made: () -> DistinctTexts) {
        var keys = made()
        for (position, text) in texts.enumerated() {
            #expect(keys.position(of: text) == (position, true), "\(text) is new")
        }
        #expect(keys.count == texts.count, "composed and decomposed é are two keys")
        for (position, text) in texts.enumerated().reversed() {
            #expect(keys.position(of: text) == (position, false), "\(text) again")
            #expect(keys.contains(text))
            var bytes = text
            #expect(bytes.withUTF8 { keys.insert($0) } == false)
        }
        #expect(keys.texts == texts)
        #expect(!keys.contains("SCH0001-01B") && !keys.contains("SCH0001-01A-ENG"))
        #expect(keys.insert("SCH0001-01B") && keys.texts.last == "SCH0001-01B" && keys.count == texts.count + 1)
    }

    @Test("a text's hash reads every one of its bytes, whatever its length")
    func hashReadsEveryByte() {
        var same: [String] = []
        for length in 1...24 {
            let text = (0..<length).map { UInt8(0x61 + $0 % 26) }
            let base = text.withUnsafeBufferPointer(DistinctTexts.hash(of:))
            for position in 0..<length {
                var changed = text
                changed[position] ^= 0x01
                if changed.withUnsafeBufferPointer(DistinctTexts.hash(of:)) == base { same.append("\(length)@\(position)") }
            }
            // The same bytes, the same hash, wherever they are.
            let copy = Array(text)
            #expect(copy.withUnsafeBufferPointer(DistinctTexts.hash(of:)) == base)
        }
        #expect(same.isEmpty, "a byte changed without the hash changing: \(same)")
    }

    @Test("each text is new once, found again at its own number, and only what was given is there")
    func distinct() { check { DistinctTexts() } }

    @Test("texts whose hashes are equal are still told apart (every hash made equal)")
    func collisions() { check { DistinctTexts(hashBits: 0) } }

    @Test("thousands of texts keep their numbers as the table grows, every hash equal or not")
    func growing() {
        for (made, count) in [(DistinctTexts(), 20_000), (DistinctTexts(hashBits: 0), 400)] {
            var keys = made
            let texts = (0..<count).map { "SCH\($0 % 200)-\($0)" + String(repeating: "é", count: $0 % 9) }
            for (position, text) in texts.enumerated() { #expect(keys.position(of: text) == (position, true)) }
            for (position, text) in texts.enumerated().reversed() where position % 7 == 0 {
                #expect(keys.position(of: text) == (position, false))
            }
            #expect(keys.texts == texts && !keys.contains("SCH0-200"))
        }
    }

    @Test("a cell differs from the last row's exactly when its text does: within a piece of the file, across pieces, in rows with texts of their own or another column list")
    func cellChanges() {
        // A person's rows together, their school repeated across people; the same texts in several pieces.
        var lines = ["userId,schoolId,name"]
        for person in 0..<60 {
            for _ in 0..<(person % 3 + 1) { lines.append("P\(person % 25),S\(person / 20),陳 \(person % 4)") }
        }
        let bytes = Array(lines.joined(separator: "\n").utf8)
        let columns = RowValues.Columns(["userId", "schoolId", "name"])
        for pieces in [1, 4, 9] {
            let records = bytes.withUnsafeBufferPointer { CSVReader.parse(utf8: $0, pieces: pieces) }.records.dropFirst()
            var rows = records.map { RowValues(columns: columns, values: $0.cells) }
            #expect(rows.contains { $0.values.numberedIn != nil })
            // Rows with texts of their own, and of another list (read by name; one without the column), among them.
            rows.insert(RowValues(columns: columns, values: ["P3", "S0", "x"]), at: 10)
            rows.insert(["schoolId": "S0", "userId": "P3"], at: 11)
            rows.insert(["name": "no user"], at: 30)
            for name in ["userId", "schoolId", "name"] {
                let column = RowValues.Column(name, in: columns)
                var changes = CellChanges()
                var last: String?? = .none
                for (index, row) in rows.enumerated() {
                    let text = row[column]
                    #expect(changes.differs(row, column) == (last == .none || last! != text), "\(name), row \(index), \(pieces) pieces")
                    last = .some(text)
                }
            }
        }
    }

    @Test("a question about a column's cells is answered as asked of each text: rows of many pieces met in turn, and rows each numbered in texts of their own (a batch read back)")
    func textAnswers() throws {
        let columns = RowValues.Columns(["classId", "name"])
        let column = RowValues.Column("classId", in: columns)
        // Twelve pieces of a file, each of 100 rows and over 64 distinct texts, more than the answers kept for.
        var pieces: [[RowValues]] = []
        for piece in 0..<12 {
            let lines = (0..<100).map { "C\(($0 * 7 + piece) % 90),name \($0)" }
            let bytes = Array(lines.joined(separator: "\n").utf8)
            var spans: [FileSpan] = [], offset = 0
            for line in lines {
                spans.append(FileSpan(offset: offset, length: line.utf8.count))
                offset += line.utf8.count + 1
            }
            let cells = try #require(bytes.withUnsafeBytes { CSVReader.cells(of: spans, in: $0) })
            #expect(cells.allSatisfy { $0.numberedIn === cells[0].numberedIn } && cells[0].numberedIn!.texts.count >= 64)
            pieces.append(cells.map { RowValues(columns: columns, values: $0) })
        }
        // Rows read back one by one, each numbered in texts of its own.
        let alone = try (0..<40).map { row -> RowValues in
            let line = Array("C\(row % 9),alone".utf8)
            let cells = try #require(line.withUnsafeBytes { CSVReader.cells(at: FileSpan(offset: 0, length: line.count), in: $0) })
            #expect(cells.numberedIn != nil)
            return RowValues(columns: columns, values: cells)
        }
        func answer(_ text: String) -> Int32 { Int32(text.dropFirst().unicodeScalars.reduce(0) { $0 * 31 + Int($1.value) } % 1000) }
        var answers = TextAnswers(), asked = 0
        // Four pieces in turn, a row at a time: each text of each piece asked once.
        for row in 0..<100 {
            for piece in pieces.prefix(4) {
                #expect(answers.answer(piece[row], column) { asked += 1; return answer($0) } == answer(piece[row]["classId"]!))
            }
        }
        #expect(asked == pieces.prefix(4).reduce(0) { $0 + Set($1.map { $0["classId"]! }).count }, "answers kept for the pieces met lately")
        // All twelve in turn (more than are kept), and then the rows read alone: the same answers.
        for row in 0..<100 {
            for piece in pieces {
                #expect(answers.answer(piece[row], column) { answer($0) } == answer(piece[row]["classId"]!))
            }
        }
        for row in alone { #expect(answers.answer(row, column) { answer($0) } == answer(row["classId"]!)) }
    }

    @Test("a copy of a column list is the same list: its rows read by position, equal to the original's, planned as one file")
    func copiedColumns() {
        let columns = RowValues.Columns(["userId", "userRole", "lastName"])
        let copy = columns.copy()
        #expect(copy !== columns && copy.sameList(as: columns) && columns.sameList(as: copy) && copy.names == columns.names)
        #expect(!RowValues.Columns(["userId", "userRole", "lastName"]).sameList(as: columns), "the same names made apart: another list")
        let row = RowValues(columns: columns, values: ["001", "student", "Chan"])
        let copied = RowValues(columns: copy, values: ["001", "student", "Chan"])
        #expect(row == copied && copied[RowValues.Column("lastName", in: columns)] == "Chan")
        // Rows of a list and of its copies are one file to the planner; a list made apart is another.
        let apart = RowValues(columns: RowValues.Columns(["userId", "userRole", "lastName"]), values: ["002", "student", "Lee"])
        let (files, of) = RosterPlanner.fileColumns([row, copied, row, apart, copied])
        #expect(files.count == 2 && of == [0, 0, 0, 1, 0])
        // Answers about a text are kept for rows of the list and of its copies alike.
        var answers = TextAnswers(), asked = 0
        let column = RowValues.Column("userRole", in: columns)
        for values in [row, copied, row] { _ = answers.answer(values, column) { _ in asked += 1; return 1 } }
        #expect(asked == 3, "rows whose cells are texts of their own are answered each time")
    }
}

