import Foundation

/// One marker segment of a JPEG header, as offsets into the file (0-based, whatever the `Data`'s start index).
struct JPEGSegment: Sendable, Hashable {
    /// The byte after 0xFF: 0xE0 for APP0, 0xC0 for SOF0, 0xDA for SOS…
    var marker: UInt8
    /// The whole segment, from its 0xFF to the end of its payload.
    var range: Range<Int>
    /// The bytes after the two-byte length.
    var payload: Range<Int>
}

/// The header of a JPEG split into segments, up to and including the first SOS. Nothing is decoded.
struct JPEGHeader: Sendable {
    var segments: [JPEGSegment]
    /// The SOS segment; the entropy-coded data starts at `sos.range.upperBound`.
    var sos: JPEGSegment

    /// Splits `bytes` into segments, or names the structural problem: `not_jpeg` when it does not start with
    /// SOI, `truncated` when the file ends inside the header, `corrupt` for impossible lengths or markers.
    static func read(_ bytes: Data) -> Result<JPEGHeader, PhotoProblem> {
        bytes.withUnsafeBytes { read($0) }
    }

    static func read(_ raw: UnsafeRawBufferPointer) -> Result<JPEGHeader, PhotoProblem> {
        guard raw.count >= 2, raw[0] == 0xFF, raw[1] == 0xD8 else { return .failure(ProblemText.notJPEG(raw)) }
        var segments: [JPEGSegment] = []
        var position = 2
        while true {
            guard position < raw.count else { return .failure(ProblemText.truncated(raw.count)) }
            guard raw[position] == 0xFF else {
                return .failure(ProblemText.corrupt("there are stray bytes between two sections at byte \(position)"))
            }
            let start = position
            // Any number of 0xFF fill bytes may precede a marker.
            while position < raw.count && raw[position] == 0xFF { position += 1 }
            guard position < raw.count else { return .failure(ProblemText.truncated(raw.count)) }
            let marker = raw[position]
            position += 1
            switch marker {
            case 0x00:
                return .failure(ProblemText.corrupt("an empty marker was found at byte \(start)"))
            case 0x01, 0xD0...0xD7:
                continue  // TEM and RSTn stand alone, without a length.
            case 0xD8:
                return .failure(ProblemText.corrupt("the start-of-image marker appears twice"))
            case 0xD9:
                return .failure(ProblemText.corrupt("the picture ends before any image data"))
            default:
                break
            }
            guard position + 2 <= raw.count else { return .failure(ProblemText.truncated(raw.count)) }
            let length = Int(raw[position]) << 8 | Int(raw[position + 1])
            guard length >= 2 else {
                return .failure(ProblemText.corrupt("a section at byte \(start) has an impossible length (\(length))"))
            }
            guard position + length <= raw.count else { return .failure(ProblemText.truncated(raw.count)) }
            let segment = JPEGSegment(marker: marker, range: start..<position + length, payload: position + 2..<position + length)
            segments.append(segment)
            position += length
            if marker == 0xDA { return .success(JPEGHeader(segments: segments, sos: segment)) }
        }
    }
}

/// Byte-level edits of JPEG files shared by the storage and the fixtures.
enum JPEGEdit {
    /// A segment with `marker` and `payload`, length field included (payload must be ≤ 65,533 bytes).
    static func segment(_ marker: UInt8, _ payload: Data) -> Data {
        precondition(payload.count <= 65_533, "a JPEG segment holds at most 65,533 bytes")
        let length = payload.count + 2
        var out = Data([0xFF, marker, UInt8(length >> 8), UInt8(length & 0xFF)])
        out.append(payload)
        return out
    }

    /// Whether a payload starts with `signature` (e.g. "Exif\0\0").
    static func payload(_ raw: UnsafeRawBufferPointer, _ range: Range<Int>, startsWith signature: [UInt8]) -> Bool {
        range.count >= signature.count && signature.indices.allSatisfy { raw[range.lowerBound + $0] == signature[$0] }
    }

    static let exifSignature = Array("Exif\0\0".utf8)
    static let xmpSignature = Array("http://ns.adobe.com/xap/1.0/\0".utf8)
    static let xmpExtensionSignature = Array("http://ns.adobe.com/xmp/extension/\0".utf8)
    static let iccSignature = Array("ICC_PROFILE\0".utf8)
    static let jfifSignature = Array("JFIF\0".utf8)
    static let adobeSignature = Array("Adobe".utf8)
    static let photoshopSignature = Array("Photoshop 3.0\0".utf8)

    /// The APP2 ICC_PROFILE segments of a JPEG header, whole and in file order.
    static func iccSegments(of jpeg: Data) -> [Data] {
        guard case .success(let header) = JPEGHeader.read(jpeg) else { return [] }
        return jpeg.withUnsafeBytes { raw in
            header.segments
                .filter { $0.marker == 0xE2 && payload(raw, $0.payload, startsWith: iccSignature) }
                .map { Data(raw[$0.range]) }
        }
    }

    /// Rebuilds the header: keeps the segments `keep` accepts, and puts `inserted` right after SOI — or after a
    /// leading JFIF APP0, which the JFIF rules want first. The entropy-coded data is copied unchanged.
    static func rebuild(_ jpeg: Data, inserting inserted: [Data] = [], keep: (JPEGSegment, UnsafeRawBufferPointer) -> Bool)
        -> Data?
    {
        guard case .success(let header) = JPEGHeader.read(jpeg) else { return nil }
        return jpeg.withUnsafeBytes { raw -> Data in
            var out = Data([0xFF, 0xD8])
            var pending = inserted
            for (index, segment) in header.segments.enumerated() {
                let isLeadingJFIF =
                    index == 0 && segment.marker == 0xE0 && payload(raw, segment.payload, startsWith: jfifSignature)
                if !isLeadingJFIF {
                    pending.forEach { out.append($0) }
                    pending = []
                }
                if segment.marker == 0xDA || keep(segment, raw) { out.append(contentsOf: raw[segment.range]) }
            }
            out.append(contentsOf: raw[header.sos.range.upperBound...])
            return out
        }
    }

    /// Inserts whole segments after SOI and any APP0/APP1 segments that open the file (where cameras put them).
    static func insertAfterLeadingApps(_ inserted: [Data], into jpeg: Data) -> Data {
        guard case .success(let header) = JPEGHeader.read(jpeg) else { return jpeg }
        var offset = 2
        for segment in header.segments {
            guard segment.marker == 0xE0 || segment.marker == 0xE1 else { break }
            offset = segment.range.upperBound
        }
        var out = Data(jpeg.prefix(offset))
        inserted.forEach { out.append($0) }
        out.append(jpeg.dropFirst(offset))
        return out
    }
}
