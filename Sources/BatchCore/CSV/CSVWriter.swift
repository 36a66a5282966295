/// Writes CSV cells and lines (RFC 4180), neutralising cells a spreadsheet would run as a formula.
public enum CSVWriter {
    /// One cell: quoted when it holds a comma, quote or line break; a leading `= + - @`, tab or CR gets a `'`
    /// in front so Excel shows it as text instead of running it.
    public static func cell(_ value: String) -> String {
        var text = value
        if let first = text.unicodeScalars.first, "=+-@\t\r".unicodeScalars.contains(first) { text = "'" + text }
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" || $0 == "\r" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }

    public static func line(_ cells: [String]) -> String {
        cells.map(cell).joined(separator: ",") + "\r\n"
    }
}
