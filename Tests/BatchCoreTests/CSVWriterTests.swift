import BatchCore
import Testing

@Suite("CSV writing: quoting and neutralised formulas")
struct CSVWriterTests {
    @Test("a cell is quoted when it holds a comma, a quote or a line break (CR LF too), and quotes inside are doubled")
    func quoting() {
        #expect(CSVWriter.cell("Chan Wing") == "Chan Wing")
        #expect(CSVWriter.cell("陳 詠欣") == "陳 詠欣")
        #expect(CSVWriter.cell("Chan, Wing") == "\"Chan, Wing\"")
        #expect(CSVWriter.cell("say \"hi\"") == "\"say \"\"hi\"\"\"")
        #expect(CSVWriter.cell("two\nlines") == "\"two\nlines\"")
        // A CR LF is one character to Swift, neither CR nor LF: it was written unquoted, and split the row on reading.
        #expect(CSVWriter.cell("two\r\nlines") == "\"two\r\nlines\"")
        // A comma with an accent on it is one character too.
        #expect(CSVWriter.cell("a,\u{301}b") == "\"a,\u{301}b\"")
        #expect(CSVWriter.cell("") == "")
    }

    @Test("a cell a spreadsheet would run as a formula gets a ' in front, and is quoted as well when it needs to be")
    func formulas() {
        #expect(CSVWriter.cell("=1+2") == "'=1+2")
        #expect(CSVWriter.cell("+852 1234") == "'+852 1234")
        #expect(CSVWriter.cell("-5") == "'-5")
        #expect(CSVWriter.cell("@home") == "'@home")
        #expect(CSVWriter.cell("\tx") == "'\tx")
        #expect(CSVWriter.cell("\rx") == "\"'\rx\"")
        #expect(CSVWriter.cell("=A1,B1") == "\"'=A1,B1\"")
        #expect(CSVWriter.cell("a=b") == "a=b")
    }

    @Test("a line is its cells joined by commas and ended by CR LF; the round trip through the reader gives the cells back")
    func line() throws {
        let cells = ["00123", "Chan, Wing", "two\r\nlines", "say \"hi\"", "", "陳"]
        let line = CSVWriter.line(cells)
        #expect(line == "00123,\"Chan, Wing\",\"two\r\nlines\",\"say \"\"hi\"\"\",,陳\r\n")
        #expect(CSVReader.records(in: line + line).map(\.cells.texts) == [cells, cells])
    }
}
