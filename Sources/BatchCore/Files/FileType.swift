import Foundation

/// What a file really is, judged by its first bytes rather than its name. Used to tell a person that the
/// “report.pdf” they chose is a photo, or that a “photo.jpg” is really a PNG.
public enum FileType: String, Sendable, Hashable, CaseIterable {
    case pdf, jpeg, png, gif, webp, heic, tiff, bmp, officeZip, officeLegacy, rtf, html, text, empty, unknown

    /// The type in words, with an article: “a JPEG image”.
    public var words: String {
        switch self {
        case .pdf: "a PDF document"
        case .jpeg: "a JPEG image"
        case .png: "a PNG image"
        case .gif: "a GIF image"
        case .webp: "a WebP image"
        case .heic: "a HEIC image (the iPhone photo format)"
        case .tiff: "a TIFF image"
        case .bmp: "a BMP image"
        case .officeZip: "a Word, Excel or PowerPoint document (or a ZIP archive)"
        case .officeLegacy: "an older Word or Excel document (.doc/.xls)"
        case .rtf: "an RTF text document"
        case .html: "a web page (HTML)"
        case .text: "plain text"
        case .empty: "an empty file"
        case .unknown: "a file of an unknown type"
        }
    }

    /// How far into a file a PDF header may start (as PDF readers accept).
    public static let pdfHeaderWindow = 1024

    public static func sniff(_ bytes: Data) -> FileType {
        if bytes.isEmpty { return .empty }
        let head = [UInt8](bytes.prefix(Self.pdfHeaderWindow))
        func starts(_ magic: [UInt8], at offset: Int = 0) -> Bool {
            head.count >= offset + magic.count && Array(head[offset..<offset + magic.count]) == magic
        }
        if Bytes.find(Array("%PDF-".utf8), in: head) != nil { return .pdf }
        if starts([0xFF, 0xD8, 0xFF]) { return .jpeg }
        if starts([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]) { return .png }
        if starts(Array("GIF87a".utf8)) || starts(Array("GIF89a".utf8)) { return .gif }
        if starts(Array("RIFF".utf8)) && starts(Array("WEBP".utf8), at: 8) { return .webp }
        if starts(Array("ftyp".utf8), at: 4) {
            let brand = head.count >= 12 ? String(decoding: head[8..<12], as: UTF8.self) : ""
            if ["heic", "heix", "mif1", "msf1", "heim", "heis", "hevc", "avif"].contains(brand) { return .heic }
        }
        if starts([0x49, 0x49, 0x2A, 0x00]) || starts([0x4D, 0x4D, 0x00, 0x2A]) { return .tiff }
        if starts(Array("BM".utf8)) && head.count >= 14 { return .bmp }
        if starts([0x50, 0x4B, 0x03, 0x04]) { return .officeZip }
        if starts([0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1]) { return .officeLegacy }
        if starts(Array("{\\rtf".utf8)) { return .rtf }
        let lowered = String(decoding: head.prefix(256), as: UTF8.self).lowercased()
        if lowered.contains("<html") || lowered.contains("<!doctype html") { return .html }
        if head.allSatisfy({ $0 == 0x09 || $0 == 0x0A || $0 == 0x0D || ($0 >= 0x20 && $0 != 0x7F) }) { return .text }
        return .unknown
    }
}

/// Byte searches without building strings.
public enum Bytes {
    /// The first index of `needle` in `haystack`, if any.
    public static func find(_ needle: [UInt8], in haystack: some Collection<UInt8>) -> Int? {
        guard let first = needle.first, haystack.count >= needle.count else { return nil }
        let bytes = Array(haystack)
        var index = 0
        let last = bytes.count - needle.count
        while index <= last {
            if bytes[index] == first {
                var matched = true
                for offset in 1..<needle.count where bytes[index + offset] != needle[offset] {
                    matched = false
                    break
                }
                if matched { return index }
            }
            index += 1
        }
        return nil
    }

    /// Whether `needle` occurs anywhere in `data`: memchr for the first byte, then a compare, without copying.
    public static func contains(_ needle: [UInt8], in data: Data) -> Bool {
        guard let first = needle.first, data.count >= needle.count else { return false }
        return data.withUnsafeBytes { raw -> Bool in
            guard let base = raw.baseAddress else { return false }
            var offset = 0
            let last = raw.count - needle.count
            while offset <= last {
                guard let hit = memchr(base + offset, Int32(first), last - offset + 1) else { return false }
                let index = base.distance(to: UnsafeRawPointer(hit))
                if memcmp(base + index, needle, needle.count) == 0 { return true }
                offset = index + 1
            }
            return false
        }
    }
}
