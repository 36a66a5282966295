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
    /// Without surrounding white space and line breaks. Most cells have none, and those are returned as they are
    /// without going through Foundation (which, on Linux, bridges every string to NSString: 14 µs a row of 20 cells).
    public var trimmedCell: String { mayNeedTrimming ? trimmingCharacters(in: .whitespacesAndNewlines) : self }

    /// Whether `trimmedCell` may differ: only when the first or last byte is white space or not ASCII.
    var mayNeedTrimming: Bool {
        guard let first = utf8.first, let last = utf8.last else { return false }
        func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }
        return isSpace(first) || isSpace(last) || first >= 0x80 || last >= 0x80
    }
}
