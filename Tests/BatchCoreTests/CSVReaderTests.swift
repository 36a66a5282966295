import BatchCore
import Foundation
import Testing

@Suite("Reading CSV files (SPEC §4.1)")
struct CSVReaderTests {
    func table(_ bytes: Data) -> Result<CSVTable, FileRejection> {
        CSVTable.read(bytes: bytes, fileName: "emails.csv", dictionary: EmailBatch.dictionary)
    }

    func table(_ text: String) -> Result<CSVTable, FileRejection> { table(Data(text.utf8)) }

    @Test(
        "quoted commas, doubled quotes and line breaks inside quotes are one cell; line numbers are the spreadsheet's",
        arguments: ["\n", "\r\n", "\r"])
    func quoting(newline: String) throws {
        let text = [
            "loginId,userEmail", "\"chan, w\",\"a\"\"b@x.org\"", "", "\"two\(newline)lines\",c@x.org", "last,d@x.org",
        ]
        .joined(separator: newline)
        let records = CSVReader.parse(text).records
        #expect(
            records.map(\.cells) == [
                ["loginId", "userEmail"], ["chan, w", "a\"b@x.org"], ["two\(newline)lines", "c@x.org"],
                ["last", "d@x.org"],
            ])
        #expect(
            records.map(\.line) == [1, 2, 4, 6], "the blank line 3 is skipped; the record on 4–5 is followed by line 6")
    }

    @Test(
        "a file read in pieces on several cores gives the same records, lines and unterminated quote as in one piece",
        arguments: ["\n", "\r\n", "\r"])
    func pieces(newline: String) throws {
        let rows = (1...40).map { number -> String in
            switch number % 7 {
            case 0: "\"two\(newline)lines \(number)\",x"
            case 1: "\"chan, \(number)\",\"a\"\"b\""
            case 2: ""
            case 3: "O\"Brien \(number),  \"padded\" "
            default: "plain \(number),陳大文"
            }
        }
        let texts = [
            rows.joined(separator: newline), rows.joined(separator: newline) + newline,
            (rows.prefix(30) + ["\"never closed", "after", "plain tail"]).joined(separator: newline),
            (rows + ["\"last one open"]).joined(separator: newline),
            // Pieces holding blank lines only, and so no record.
            (Array(rows.prefix(8)) + Array(repeating: "", count: 600) + Array(rows.suffix(8))).joined(separator: newline),
        ]
        for text in texts {
            var bytes = Array(text.utf8)
            let whole = bytes.withUnsafeBufferPointer { CSVReader.parse(utf8: $0, pieces: 1) }
            for count in 1...9 {
                let pieced = bytes.withUnsafeBufferPointer { CSVReader.parse(utf8: $0, pieces: count) }
                #expect(pieced == whole, "\(count) pieces")
                // Read from bytes not yet known to be UTF-8: the same; nil once one byte of a cell (near the start,
                // in a quoted cell, at the very end) is not UTF-8, whichever piece it is in. (Bytes after a quote that
                // never closes are no cell: that file is refused for its quote, whatever its encoding.)
                let unvalidated = bytes.withUnsafeBufferPointer { CSVReader.parse(unvalidatedUTF8: $0, pieces: count) }
                #expect(unvalidated == whole, "\(count) pieces")
                // Each record's bytes, read again, give its cells.
                if whole.unterminatedQuoteLine == nil {
                    for record in pieced.records {
                        let span = FileSpan(offset: record.bytes.lowerBound, length: record.bytes.count)
                        let again = bytes.withUnsafeBytes { CSVReader.cells(at: span, in: $0) }
                        #expect(again == record.cells, "line \(record.line), \(count) pieces")
                    }
                }
                let positions = [3, bytes.firstIndex(of: 0x22)! + 1] + (whole.unterminatedQuoteLine == nil ? [bytes.count - 1] : [])
                for position in positions {
                    var damaged = bytes
                    damaged[position] = 0xE9  // é in Windows-1252
                    #expect(damaged.withUnsafeBufferPointer { CSVReader.parse(unvalidatedUTF8: $0, pieces: count) } == nil)
                }
            }
            bytes.removeAll()
        }
        let whole = try #require(CSVReader.parse(texts[0]).records.first { $0.cells.first == "two\(newline)lines 7" })
        #expect(whole.line == 7 && whole.cells == ["two\(newline)lines 7", "x"])
        #expect(CSVReader.parse(texts[2]).unterminatedQuoteLine == 35, "30 rows, 4 of them two lines long")
    }

    @Test("a row's bytes in the file as given read again to the same values; not for a converted file, other columns, or a short or long row")
    func spans() throws {
        let text = "\u{FEFF}loginId,userEmail\r\n  chan ,\"a\"\"b@x.org\"\r\n\r\n\"two\r\nlines\",陳@x.org \r\nshort\r\nlong,e@x.org,x\r\nlast,d@x.org"
        let bytes = Data(text.utf8)
        let read = try table(bytes).get()
        #expect(read.records.count == 5)
        var spanned: [String] = []
        for record in read.records {
            guard let span = read.span(of: record) else { continue }
            let cells = try #require(bytes.withUnsafeBytes { CSVReader.cells(at: span, in: $0) })
            #expect(CSVTable.values(cells: cells, columns: read.rowColumns) == read.values(of: record))
            spanned.append(read.values(of: record)["loginId"] ?? "")
        }
        #expect(spanned == ["chan", "two\r\nlines", "last"], "the short and the long row are read some other way")
        let first = try #require(read.records.first.flatMap(read.span(of:)))
        #expect(first.offset == 3 + "loginId,userEmail\r\n".utf8.count, "counted in the file as given, its byte-order mark included")
        // A span that is not one whole record, or not in the file, reads nothing.
        #expect(bytes.withUnsafeBytes { CSVReader.cells(at: FileSpan(offset: first.offset, length: first.length + 30), in: $0) } == nil)
        #expect(bytes.withUnsafeBytes { CSVReader.cells(at: FileSpan(offset: bytes.count - 2, length: 3), in: $0) } == nil)
        #expect(bytes.withUnsafeBytes { CSVReader.cells(at: FileSpan(offset: 5, length: Int.max - 1), in: $0) } == nil, "a damaged span is nothing, not a crash")
        #expect(FileSpan(text: first.text) == first && FileSpan(text: "@12") == nil && FileSpan(text: "[]") == nil)
        // Rows that follow one another (empty lines between them or not), read at once: each as read alone. Not when
        // a row lies between them, nor when a span is not a whole record.
        let last = try #require(read.records.last.flatMap(read.span(of:)))
        let lastThree = read.records.suffix(3).compactMap(read.span(of:))
        #expect(lastThree.count == 1, "of the last three rows only the last is a span")
        let run = [first]
        #expect(bytes.withUnsafeBytes { CSVReader.cells(of: run, in: $0) } == [bytes.withUnsafeBytes { CSVReader.cells(at: first, in: $0)! }])
        #expect(bytes.withUnsafeBytes { CSVReader.cells(of: [first, last], in: $0) } == nil, "rows between them")
        #expect(bytes.withUnsafeBytes { CSVReader.cells(of: [FileSpan(offset: first.offset, length: first.length - 1)], in: $0) } == nil)
        let rows = (1...300).map { "login\($0 % 7),e\($0)@x.org" }
        let many = Data(("loginId,userEmail\n" + rows.joined(separator: "\n") + "\n\nlogin9,late@x.org\n").utf8)
        let manyRead = try table(many).get()
        let manySpans = manyRead.records.compactMap(manyRead.span(of:))
        #expect(manySpans.count == 301)
        let together = try #require(many.withUnsafeBytes { CSVReader.cells(of: Array(manySpans.prefix(300)), in: $0) })
        #expect(together == manySpans.prefix(300).map { span in many.withUnsafeBytes { CSVReader.cells(at: span, in: $0)! } })
        #expect(together.first?.numberedIn != nil && together.allSatisfy { $0.numberedIn === together[0].numberedIn }, "one list of texts")
        let (one, two) = (manySpans[0], manySpans[1])
        #expect(
            many.withUnsafeBytes { CSVReader.cells(of: [one, FileSpan(offset: two.offset + 2, length: two.length - 2)], in: $0) } == nil,
            "a span that starts inside its row")
        #expect(
            many.withUnsafeBytes { CSVReader.cells(of: Array(manySpans.suffix(2)), in: $0) }
                == manySpans.suffix(2).map { span in many.withUnsafeBytes { CSVReader.cells(at: span, in: $0)! } }, "an empty line between")
        // Converted from Windows-1252: its records' bytes are of the converted text, not of the file.
        let converted = try table(try #require("loginId,userEmail\nJosé,j@x.org\n".data(using: .windowsCP1252))).get()
        #expect(converted.records.allSatisfy { converted.span(of: $0) == nil })
        // A column of our error report (read and ignored): the values are not the record's cells.
        let report = try table("loginId,userEmail,issues\nchan,c@x.org,bad\n").get()
        #expect(report.records.allSatisfy { report.span(of: $0) == nil })
    }

    @Test("a long cell the row above also has in that column reads as written, as does one differing by a byte or moved")
    func repeatedLongCells() throws {
        let school = "Harbour School 12", email = "25cheungk1@students.example.edu"
        let rows = [
            [school, email, "陳大文 Chan Tai Man"], [school, email, "陳大文 Chan Tai Man"],
            [school, "25cheungk2@students.example.edu", "陳大文 Chan Tai Man"], [email, school, "x"], [school],
            [school, email, "\"陳大文 Chan Tai Man\""], ["Harbour School 13", email + ".", "陳大文 Chan Tai Mam"],
        ]
        let text = rows.map { $0.joined(separator: ",") }.joined(separator: "\n")
        let expected = rows.map { $0.map { $0.replacingOccurrences(of: "\"", with: "") } }
        #expect(CSVReader.parse(text).records.map(\.cells.texts) == expected)
        var bytes = Array(text.utf8)
        let unvalidated = bytes.withUnsafeBufferPointer { CSVReader.parse(unvalidatedUTF8: $0, pieces: 1) }
        #expect(unvalidated?.records.map(\.cells.texts) == expected)
        // The same bytes but one not UTF-8 in a repeated cell: refused, not taken for the row above's valid text.
        let second = text.utf8.count - text.split(separator: "\n", omittingEmptySubsequences: false).dropFirst().joined(separator: "\n").utf8.count
        bytes[second + school.utf8.count + 3] = 0xE9
        #expect(bytes.withUnsafeBufferPointer { CSVReader.parse(unvalidatedUTF8: $0, pieces: 1) } == nil)
    }

    @Test("a stray quote fails the file at once, naming the line where the quote opened")
    func strayQuote() throws {
        let result = table("loginId,userEmail\ns1,a@x.org\n\"s2,b@x.org\ns3,c@x.org\ns4,d@x.org\n")
        guard case .failure(let rejection) = result else {
            Issue.record("the file should be refused")
            return
        }
        #expect(rejection.issues.map(\.code) == ["unterminated_quote"])
        #expect(rejection.issues[0].message.contains("Line 3"), "\(rejection.issues[0].message)")
    }

    @Test("a quote inside an unquoted value is kept as it is, not taken for an opening quote")
    func quoteInsideValue() throws {
        #expect(CSVReader.parse("a,b\nO\"Brien,x\n").records.last?.cells == ["O\"Brien", "x"])
        #expect(CSVReader.parse("a,b\nO\"Brien,x\n").unterminatedQuoteLine == nil)
    }

    @Test("a UTF-8 byte-order mark is ignored; UTF-16 and Windows-1252 are converted with a warning")
    func encodings() throws {
        let text = "loginId,userEmail\nzoë,zoe@x.org\n"
        let bom = try table(Data([0xEF, 0xBB, 0xBF]) + Data(text.utf8)).get()
        #expect(bom.header == ["loginId", "userEmail"] && bom.warnings.isEmpty)
        let utf16 = try table(try #require(text.data(using: .utf16))).get()
        #expect(utf16.value("loginId", in: utf16.records[0]) == "zoë")
        #expect(utf16.warnings.map(\.code) == ["converted_encoding"])
        let cp1252 = try table(try #require(text.data(using: .windowsCP1252))).get()
        #expect(cp1252.value("loginId", in: cp1252.records[0]) == "zoë")
        #expect(cp1252.warnings.first?.message.contains("Windows-1252") == true)
        // A large file (read in pieces on every core) whose only Windows-1252 letter is on its last row.
        let rows = (1...40_000).map { "s\($0),s\($0)@x.org" } + ["zoë,zoe@x.org"]
        let large = "loginId,userEmail\n" + rows.joined(separator: "\n") + "\n"
        let converted = try table(try #require(large.data(using: .windowsCP1252))).get()
        #expect(converted.records.count == 40_001 && converted.value("loginId", in: converted.records[40_000]) == "zoë")
        #expect(converted.warnings.map(\.code) == ["converted_encoding"])
        let utf8 = try table(Data(large.utf8)).get()
        #expect(utf8.records.count == 40_001 && utf8.value("loginId", in: utf8.records[40_000]) == "zoë" && utf8.warnings.isEmpty)
    }

    @Test(
        "a wrongly capitalised header fails the file and suggests the right name; our error report's columns are ignored"
    )
    func headers() throws {
        guard case .failure(let rejection) = table("loginId,UserEmail\ns1,a@x.org\n") else {
            Issue.record("the file should be refused")
            return
        }
        #expect(rejection.issues.map(\.code) == ["header_wrong_case"])
        #expect(rejection.issues[0].message == "\"UserEmail\" — did you mean \"userEmail\"?")
        let report = try table("loginId,userEmail,rowNumber,severity,issues,howToFix\ns1,a@x.org,2,error,x,y\n").get()
        #expect(report.records.count == 1 && report.index.keys.sorted() == ["loginId", "userEmail"])
    }

    @Test(
        "a row's values are its trimmed cells by column, whether the file has exactly the dictionary's columns or others too"
    )
    func values() throws {
        // Exactly the dictionary's columns (the row shares the record's cells): spaces, a no-break space and a tab
        // around a value are trimmed; Chinese and accented values are kept as they are; a short or long row still
        // reads by column.
        let exact = try table("loginId,userEmail\n  chanw ,\u{00A0}a@x.org\t\n張家豪,é@x.org\nshort\nlong,b@x.org,extra\n").get()
        #expect(
            exact.records.map { exact.values(of: $0) } == [
                ["loginId": "chanw", "userEmail": "a@x.org"], ["loginId": "張家豪", "userEmail": "é@x.org"],
                ["loginId": "short", "userEmail": ""], ["loginId": "long", "userEmail": "b@x.org"],
            ])
        // Other columns first and between (our error report's): the same values.
        let other = try table("rowNumber,loginId,severity,userEmail\n2, chanw ,error,a@x.org \n").get()
        #expect(other.records.map { other.values(of: $0) } == [["loginId": "chanw", "userEmail": "a@x.org"]])
        #expect(other.values(of: other.records[0]).keys.sorted() == ["loginId", "userEmail"])
    }

    @Test("a cell is trimmed of exactly the white space and line breaks Foundation's whitespacesAndNewlines holds")
    func trimmedCell() {
        // Every kind of space and line break at either end, or inside (the zero-width space too, as Foundation on
        // Linux has it); other characters that only look empty (byte-order mark, word joiner, zero-width joiners) and
        // combining accents are kept; Chinese and accented text untouched.
        let ends = [
            " ", "\t", "\n", "\r\n", "\u{0B}", "\u{0C}", "\u{85}", "\u{A0}", "\u{1680}", "\u{2003}", "\u{2009}", "\u{202F}",
            "\u{205F}", "\u{3000}", "\u{2028}", "\u{2029}", "\u{200B}", "\u{FEFF}", "\u{2060}", "\u{180E}", "\u{2000}", "\u{200A}", "\u{200C}", "\u{200D}", "\u{301}", "", "  \u{3000} ",
        ]
        let middles = ["", "a", "張家豪", "Zoë", "e\u{301}", "a b", "陳 大文", "x\u{3000}y", "\u{301}", "é"]
        for start in ends {
            for middle in middles {
                for end in ends {
                    let text = start + middle + end
                    #expect(text.trimmedCell == text.trimmingCharacters(in: .whitespacesAndNewlines), "\(text.unicodeScalars.map(\.value))")
                }
            }
        }
        // Every character of Unicode: a space or line break exactly when Foundation's set holds it.
        let foundation = CharacterSet.whitespacesAndNewlines
        let differing = (0...0x10FFFF).compactMap(Unicode.Scalar.init).filter { $0.isCellSpace != foundation.contains($0) }
        #expect(differing.map(\.value) == [])
    }

    @Test("a cell met again in a piece of the file is one text, numbered once; changing a row's cell changes that row only")
    func numberedCells() throws {
        // A student's rows: the same name and school on each, a different class; a quoted cell with the same text as
        // an unquoted one; a cell with white space around it.
        let text = """
            userId,firstName,schoolName,classId
            001,陳大文,Harbour Primary School,SCH0001-01A-ENGL
            001,陳大文,Harbour Primary School,SCH0001-01A-MATH
            002,"陳大文",Harbour Primary School, SCH0001-01A-ENGL
            """
        let records = CSVReader.parse(text).records
        #expect(records.count == 4)
        let (first, second, third) = (records[1].cells, records[2].cells, records[3].cells)
        #expect(Array(first) == ["001", "陳大文", "Harbour Primary School", "SCH0001-01A-ENGL"])
        #expect(first.isNumbered(in: second.numberedIn) && first.isNumbered(in: third.numberedIn), "one list of texts")
        #expect(first.number(at: 1) == second.number(at: 1) && first.number(at: 2) == third.number(at: 2), "the same bytes, one number")
        #expect(first.number(at: 1) == third.number(at: 1), "a quoted cell with the same text as an unquoted one is the same text")
        #expect(first.number(at: 3) != second.number(at: 3) && first.number(at: 3) != third.number(at: 3) && first.number(at: 0) != third.number(at: 0))
        #expect(first != second && first == CSVReader.parse(text).records[1].cells, "compared by their texts across reads")
        // Trimmed: only the cell with white space changes, and only in that row.
        let columns = RowValues.Columns(Array(records[0].cells))
        #expect(CSVTable.values(cells: third, columns: columns)["classId"] == "SCH0001-01A-ENGL" && third[3] == " SCH0001-01A-ENGL")
        #expect(CSVTable.values(cells: first, columns: columns).values == first, "nothing to trim: the same cells")
        var changed = second
        changed[1] = "李小明"
        #expect(Array(changed) == ["001", "李小明", "Harbour Primary School", "SCH0001-01A-MATH"])
        #expect(Array(second) == ["001", "陳大文", "Harbour Primary School", "SCH0001-01A-MATH"] && records[2].cells == second)
        #expect(changed.numberedIn == nil && !changed.isNumbered(in: second.numberedIn), "texts of its own once changed")
        // "é" written composed and decomposed: two texts by their bytes, equal rows to Swift, as arrays of texts are.
        let accents = CSVReader.parse("x,caf\u{E9}\nx,cafe\u{301}\n").records.map(\.cells)
        #expect(accents[0].number(at: 1) != accents[1].number(at: 1) && accents[0].number(at: 0) == accents[1].number(at: 0))
        #expect(accents[0] == accents[1] && accents[0].texts == accents[1].texts)
        // Each cell's hash, made once for each distinct text, is the text's: the same for texts Swift calls equal
        // (the composed and decomposed "é"), in rows of numbers and in cells of their own alike.
        for cells in [first, second, third, changed] + accents {
            #expect(cells.indices.allSatisfy { cells.textHash(at: $0) == Cells.textHash(cells[$0]) })
        }
        #expect(accents[0].textHash(at: 1) == accents[1].textHash(at: 1) && first.textHash(at: 3) != second.textHash(at: 3))
    }
}
