import Foundation

/// What a spreadsheet does to identifiers and dates when a CSV is opened and saved in it (SPEC §4.2): detected and
/// explained, never silently accepted.
public enum ExcelDamage {
    /// `1.23E+05`: a long number Excel showed in scientific notation and saved that way. The real value is lost.
    /// (Checked on every identifier of a 1.4-million-row file, so by bytes rather than a regular expression.)
    public static func isScientificNotation(_ text: String) -> Bool {
        // Most IDs have no E at all: answered without going through their bytes one by one.
        guard let first = text.utf8.first, (0x30...0x39).contains(first),
            text.utf8.contains(where: { $0 == 0x45 || $0 == 0x65 })
        else { return false }
        let bytes = Array(text.utf8)
        func isDigit(_ i: Int) -> Bool { i < bytes.count && (0x30...0x39).contains(bytes[i]) }
        guard isDigit(0) else { return false }
        var i = 1
        if i < bytes.count && bytes[i] == 0x2E {  // "."
            i += 1
            guard isDigit(i) else { return false }
            while isDigit(i) { i += 1 }
        }
        guard i < bytes.count, bytes[i] == 0x45 || bytes[i] == 0x65 else { return false }  // E or e
        i += 1
        if i < bytes.count && (bytes[i] == 0x2B || bytes[i] == 0x2D) { i += 1 }  // + or -
        guard isDigit(i) else { return false }
        while isDigit(i) { i += 1 }
        return i == bytes.count
    }

    /// Typographic quotes (“ ” ‘ ’) that a word processor or Excel's autocorrect put into an identifier.
    public static func hasCurlyQuotes(_ text: String) -> Bool {
        // By their UTF-8 bytes: “ ” ‘ ’ „ ‚ are E2 80 9C, 9D, 98, 99, 9E, 9A; « » are C2 AB, C2 BB.
        text.withUTF8Bytes { bytes in
            guard bytes.count >= 2 else { return false }
            for index in 0..<(bytes.count - 1) {
                switch (bytes[index], bytes[index + 1]) {
                case (0xC2, 0xAB), (0xC2, 0xBB): return true
                case (0xE2, 0x80) where index + 2 < bytes.count:
                    switch bytes[index + 2] {
                    case 0x98, 0x99, 0x9A, 0x9C, 0x9D, 0x9E: return true
                    default: continue
                    }
                default: continue
                }
            }
            return false
        }
    }

    /// A date Excel turned into its serial number (`45123` = 2023-07-16): the date it stands for, when the text is a
    /// plausible serial (1950–2100).
    public static func dateFromSerial(_ text: String) -> String? {
        guard let serial = Int(text), (18_264...73_050).contains(serial) else { return nil }
        // Excel counts days from 1899-12-30 (its 1900 leap-year bug included).
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = TimeZone(identifier: "UTC")!
        let epoch = calendar.date(from: DateComponents(year: 1899, month: 12, day: 30))!
        guard let date = calendar.date(byAdding: .day, value: serial, to: epoch) else { return nil }
        let parts = calendar.dateComponents([.year, .month, .day], from: date)
        return RosterRowRules.dateText(year: parts.year!, month: parts.month!, day: parts.day!)
    }

    /// The existing identifier this one becomes once the leading zeros a spreadsheet dropped are put back
    /// (`123` → `000123`), if `exists` knows exactly one such.
    public static func restoredLeadingZeros(_ text: String, exists: (String) -> Bool) -> String? {
        guard !text.isEmpty, !text.hasPrefix("0"), text.allSatisfy(\.isASCII), text.first!.isNumber else { return nil }
        for zeros in 1...max(1, min(12, 64 - text.count)) {
            let candidate = String(repeating: "0", count: zeros) + text
            if exists(candidate) { return candidate }
        }
        return nil
    }
}
