import Foundation

/// The text of an uploaded CSV file, decoded from whatever encoding the spreadsheet program wrote.
///
/// UTF-8 (with or without a byte-order mark) is read as it is. UTF-16 with a byte-order mark and bytes that are
/// not valid UTF-8 (Excel's "CSV" on Windows writes Windows-1252) are converted, with a warning so the person
/// knows what happened.
public struct CSVText: Sendable {
    public enum Encoding: String, Sendable { case utf8 = "UTF-8", utf16 = "UTF-16", windows1252 = "Windows-1252" }

    public var text: String
    public var encoding: Encoding

    public init(bytes: Data) {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
            text = String(decoding: bytes.dropFirst(3), as: UTF8.self)
            encoding = .utf8
        } else if bytes.starts(with: [0xFF, 0xFE]) || bytes.starts(with: [0xFE, 0xFF]) {
            text = String(data: bytes, encoding: .utf16) ?? ""
            encoding = .utf16
        } else if let utf8 = String(validatingUTF8Data: bytes) {
            text = utf8
            encoding = .utf8
        } else {
            text = String(data: bytes, encoding: .windowsCP1252) ?? String(decoding: bytes, as: UTF8.self)
            encoding = .windows1252
        }
    }

    /// The records of a file that is UTF-8 (after a byte-order mark or not), read from its bytes as they are; nil
    /// for anything else (UTF-16 or bytes that are not UTF-8), which is decoded into a `CSVText` first.
    public static func parseIfUTF8(_ bytes: Data) -> CSVReader.Parse? {
        guard !bytes.starts(with: [0xFF, 0xFE]) && !bytes.starts(with: [0xFE, 0xFF]) else { return nil }
        let skip = utf8Start(bytes)
        return bytes.withUnsafeBytes { raw in
            let utf8 = raw.bindMemory(to: UInt8.self)
            return CSVReader.parse(unvalidatedUTF8: UnsafeBufferPointer(rebasing: utf8[skip...]))
        }
    }

    /// Where the text of a UTF-8 file starts: after its byte-order mark, if it has one.
    static func utf8Start(_ bytes: Data) -> Int { bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0 }

    /// The warning to show when the file was not UTF-8.
    public var conversionWarning: String? {
        encoding == .utf8
            ? nil
            : "The file was saved as \(encoding.rawValue); it was converted to UTF-8. Check that accented and "
                + "Chinese names look right in the preview. (In Excel choose \"CSV UTF-8\" when saving to avoid this.)"
    }
}

extension String {
    /// The bytes as UTF-8 text, or nil when they are not valid UTF-8 (checked and copied in one pass).
    init?(validatingUTF8Data data: Data) {
        guard
            let text = data.withUnsafeBytes({ raw in
                String(validating: raw.bindMemory(to: UInt8.self), as: UTF8.self)
            })
        else { return nil }
        self = text
    }
}

extension String {
    /// Without surrounding white space and line breaks (what Foundation's `whitespacesAndNewlines` holds). Most cells
    /// have none and are returned as they are; the others are cut at their first and last other character. Not through
    /// Foundation, which on Linux bridges every string to NSString: 14 µs a row of 20 cells, and at state size a
    /// seventh of reading and checking users.csv went there for the names that start or end with a Chinese or
    /// accented letter.
    public var trimmedCell: String {
        guard needsTrimming else { return self }
        let scalars = unicodeScalars
        var start = scalars.startIndex, end = scalars.endIndex
        while start < end && scalars[start].isCellSpace { start = scalars.index(after: start) }
        while start < end && scalars[scalars.index(before: end)].isCellSpace { end = scalars.index(before: end) }
        return start == scalars.startIndex && end == scalars.endIndex ? self : String(scalars[start..<end])
    }

    /// Whether `trimmedCell` differs: the first or the last character is white space or a line break. Read from the
    /// bytes in place (a native or small string always has them); a cell that starts or ends with a Chinese or
    /// accented letter is answered by decoding that one letter.
    var needsTrimming: Bool {
        if let answer = utf8.withContiguousStorageIfAvailable({ bytes -> Bool in
            guard let first = bytes.first, let last = bytes.last else { return false }
            if first < 0x80 ? Unicode.Scalar(first).isCellSpace : Self.scalar(in: bytes, at: 0).isCellSpace { return true }
            if last < 0x80 { return Unicode.Scalar(last).isCellSpace }
            var start = bytes.count - 1
            while start > 0 && bytes[start] & 0xC0 == 0x80 { start -= 1 }
            return Self.scalar(in: bytes, at: start).isCellSpace
        }) {
            return answer
        }
        guard let first = unicodeScalars.first, let last = unicodeScalars.last else { return false }
        return first.isCellSpace || last.isCellSpace
    }

    /// The scalar whose UTF-8 bytes start at `start` of valid UTF-8.
    private static func scalar(in bytes: UnsafeBufferPointer<UInt8>, at start: Int) -> Unicode.Scalar {
        let lead = UInt32(bytes[start])
        func next(_ offset: Int) -> UInt32 { UInt32(bytes[start + offset] & 0x3F) }
        let value: UInt32 =
            switch lead {
            case 0..<0x80: lead
            case 0xC0..<0xE0: (lead & 0x1F) << 6 | next(1)
            case 0xE0..<0xF0: (lead & 0x0F) << 12 | next(1) << 6 | next(2)
            default: (lead & 0x07) << 18 | next(1) << 12 | next(2) << 6 | next(3)
            }
        return Unicode.Scalar(value) ?? "\u{FFFD}"
    }
}

extension Unicode.Scalar {
    /// White space or a line break as Foundation's `whitespacesAndNewlines` has them on Linux: U+0009–U+000D, U+0085,
    /// the zero-width space U+200B and the characters of the Unicode categories Zs, Zl and Zp (listed: looking up a
    /// character's category was most of the trimming's time). The test compares every character with Foundation's set.
    public var isCellSpace: Bool {
        switch value {
        case 0x09...0x0D, 0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200B, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }
}
