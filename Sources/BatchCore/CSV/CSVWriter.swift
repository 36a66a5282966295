/// Writes CSV cells and lines (RFC 4180), neutralising cells a spreadsheet would run as a formula.
public enum CSVWriter {
    /// Put before the header of a file a person opens in a spreadsheet (a download of the roster, an error report):
    /// Excel reads a UTF-8 file without it as the computer's old code page, and shows 陳 or é garbled. Every reader of
    /// uploads here skips it (`CSVText`).
    public static let byteOrderMark = "\u{FEFF}"

    /// One cell: quoted when it holds a comma, quote or line break; a leading `= + - @`, tab or CR gets a `'`
    /// in front so Excel shows it as text instead of running it. Read by its UTF-8 bytes (every byte looked for is
    /// ASCII): by characters, a CR LF inside a cell is one character, neither CR nor LF, and went unquoted; and a
    /// state-size export's 29 million cells spent most of their time walking characters.
    public static func cell(_ value: String) -> String {
        let formula = value.utf8.first.map { [0x3D, 0x2B, 0x2D, 0x40, 0x09, 0x0D].contains($0) } ?? false
        let quoted = value.utf8.contains { $0 == 0x2C || $0 == 0x22 || $0 == 0x0A || $0 == 0x0D }
        if !formula && !quoted { return value }
        let text = formula ? "'" + value : value
        guard quoted else { return text }
        // Quotes doubled byte by byte (Foundation's `replacingOccurrences` went through NSString: most of the time of
        // an error report, whose every issues cell is quoted).
        var bytes: [UInt8] = [0x22]
        bytes.reserveCapacity(text.utf8.count + 8)
        for byte in text.utf8 {
            if byte == 0x22 { bytes.append(0x22) }
            bytes.append(byte)
        }
        bytes.append(0x22)
        return String(decoding: bytes, as: UTF8.self)
    }

    public static func line(_ cells: [String]) -> String {
        var line = ""
        for (index, value) in cells.enumerated() {
            if index > 0 { line += "," }
            line += cell(value)
        }
        line += "\r\n"
        return line
    }
}
