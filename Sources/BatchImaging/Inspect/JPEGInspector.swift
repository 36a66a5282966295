import BatchCore
import Foundation

/// How the picture data of a JPEG is coded (from its SOFn marker).
public enum JPEGProcess: String, Sendable {
    case baseline, extended, progressive, lossless, arithmetic, hierarchical
}

/// The colour model of a JPEG, decided as libjpeg does (component count, JFIF/Adobe markers, component ids).
public enum JPEGColour: String, Sendable {
    case grey, ycbcr, rgb, cmyk, ycck, other
}

/// Kinds of APPn/COM segments found in a JPEG header.
public enum JPEGMetadata: String, Sendable, CaseIterable {
    case jfif, exif, gps, xmp, iptc, icc, adobe, comment, otherApp
}

/// What a JPEG header declares, read without decoding any pixel.
public struct JPEGInfo: Sendable, Hashable {
    /// Size as coded in the SOF marker (before EXIF orientation).
    public var width: Int, height: Int
    /// EXIF orientation 1...8; 1 when absent or invalid.
    public var orientation: Int
    /// Width as displayed, once the EXIF orientation is applied.
    public var displayWidth: Int { (5...8).contains(orientation) ? height : width }
    /// Height as displayed, once the EXIF orientation is applied.
    public var displayHeight: Int { (5...8).contains(orientation) ? width : height }
    public var components: Int
    public var colour: JPEGColour
    public var process: JPEGProcess
    /// Sample precision: 8, or 12 (16 and less for lossless files).
    public var bitsPerSample: Int
    public var metadata: Set<JPEGMetadata>

    public init(
        width: Int, height: Int, orientation: Int = 1, components: Int = 3, colour: JPEGColour = .ycbcr,
        process: JPEGProcess = .baseline, bitsPerSample: Int = 8, metadata: Set<JPEGMetadata> = []
    ) {
        self.width = width
        self.height = height
        self.orientation = orientation
        self.components = components
        self.colour = colour
        self.process = process
        self.bitsPerSample = bitsPerSample
        self.metadata = metadata
    }
}

/// Something wrong with a photo file, worded for the person who chose it. `code` is stable for programs.
public struct PhotoProblem: Error, Sendable, Hashable, CustomStringConvertible {
    public var code: String
    /// What is wrong, in plain English, naming the real type or the numbers.
    public var message: String
    /// What to do about it.
    public var fix: String

    public init(code: String, message: String, fix: String) {
        self.code = code
        self.message = message
        self.fix = fix
    }

    public var description: String { "\(code): \(message) \(fix)" }
}

/// Reads a JPEG's markers — never its pixels — to say what it is, or why it is not a usable JPEG.
public enum JPEGInspector {
    /// A picture larger than this (declared in the header) is refused before anything decodes it.
    public static let maxPixels = 40_000_000
    /// Nor may either side exceed this.
    public static let maxSide = 12_000

    /// Walks markers only (no pixel decoding): SOI, segments by length, SOFn (not C4/C8/CC), APP1 Exif (TIFF
    /// header, both byte orders, IFD0 tag 0x0112 orientation, GPS IFD pointer 0x8825 → gps metadata), APP1 XMP,
    /// APP13 Photoshop/IPTC, APP2 ICC_PROFILE, APP14 Adobe (colour transform), COM. Stops at SOS for the header;
    /// then checks the file ends with EOI (FF D9, allowing trailing zero padding) — else truncated.
    ///
    /// Fails only when the file is not a JPEG (`not_jpeg`), is cut short (`truncated`), is damaged (`corrupt`),
    /// or declares a picture too large to open safely (`too_large_pixels`). Rare but well-formed variants
    /// (CMYK, 12-bit, arithmetic, lossless, hierarchical) are described in the info; `PhotoRules` refuses them.
    public static func inspect(_ bytes: Data) -> Result<JPEGInfo, PhotoProblem> {
        bytes.withUnsafeBytes { raw in inspect(raw) }
    }

    static func inspect(_ raw: UnsafeRawBufferPointer) -> Result<JPEGInfo, PhotoProblem> {
        let header: JPEGHeader
        switch JPEGHeader.read(raw) {
        case .success(let read): header = read
        case .failure(let problem): return .failure(problem)
        }
        var frame: (marker: UInt8, precision: Int, height: Int, width: Int, componentIDs: [UInt8])?
        var metadata = Set<JPEGMetadata>()
        var orientation: Int?
        var adobeTransform: UInt8?
        var sawHierarchy = false, sawArithmeticTables = false

        for segment in header.segments {
            let payload = segment.payload
            func starts(_ signature: [UInt8]) -> Bool { JPEGEdit.payload(raw, payload, startsWith: signature) }
            switch segment.marker {
            case 0xC0...0xCF where segment.marker != 0xC4 && segment.marker != 0xC8 && segment.marker != 0xCC:
                guard frame == nil else { return .failure(ProblemText.corrupt("it declares the picture twice")) }
                guard payload.count >= 6 else { return .failure(ProblemText.corrupt("the picture size section is too short")) }
                let p = payload.lowerBound
                let count = Int(raw[p + 5])
                guard count > 0, payload.count == 6 + 3 * count else {
                    return .failure(ProblemText.corrupt("the picture size section has a wrong length"))
                }
                let ids = (0..<count).map { raw[p + 6 + 3 * $0] }
                frame = (segment.marker, Int(raw[p]), Int(raw[p + 1]) << 8 | Int(raw[p + 2]),
                         Int(raw[p + 3]) << 8 | Int(raw[p + 4]), ids)
            case 0xCC: sawArithmeticTables = true
            case 0xDE, 0xDF: sawHierarchy = true
            case 0xE0: metadata.insert(starts(JPEGEdit.jfifSignature) ? .jfif : .otherApp)
            case 0xE1:
                if starts(JPEGEdit.exifSignature) {
                    metadata.insert(.exif)
                    let tiff = payload.lowerBound + JPEGEdit.exifSignature.count..<payload.upperBound
                    let exif = EXIF.read(raw, tiff)
                    if orientation == nil { orientation = exif.orientation }
                    if exif.hasGPS { metadata.insert(.gps) }
                } else if starts(JPEGEdit.xmpSignature) || starts(JPEGEdit.xmpExtensionSignature) {
                    metadata.insert(.xmp)
                } else {
                    metadata.insert(.otherApp)
                }
            case 0xE2: metadata.insert(starts(JPEGEdit.iccSignature) ? .icc : .otherApp)
            case 0xED: metadata.insert(starts(JPEGEdit.photoshopSignature) ? .iptc : .otherApp)
            case 0xEE:
                if starts(JPEGEdit.adobeSignature) {
                    metadata.insert(.adobe)
                    if payload.count >= 12 { adobeTransform = raw[payload.lowerBound + 11] }
                } else {
                    metadata.insert(.otherApp)
                }
            case 0xE3...0xEF: metadata.insert(.otherApp)
            case 0xFE: metadata.insert(.comment)
            default: break
            }
        }

        guard let frame else { return .failure(ProblemText.corrupt("it has no picture size section")) }
        guard frame.width > 0, frame.height > 0 else {
            return .failure(ProblemText.corrupt("it declares a picture of \(frame.width) × \(frame.height) px"))
        }
        if frame.width > maxSide || frame.height > maxSide || frame.width * frame.height > maxPixels {
            return .failure(ProblemText.tooLargePixels(width: frame.width, height: frame.height))
        }
        guard endsWithEOI(raw, after: header.sos.range.upperBound) else {
            return .failure(ProblemText.truncated(raw.count))
        }

        let process: JPEGProcess
        switch frame.marker {
        case 0xC5, 0xC6, 0xC7, 0xCD, 0xCE, 0xCF: process = .hierarchical
        case 0xC3, 0xCB: process = .lossless
        case 0xC9, 0xCA: process = .arithmetic
        case 0xC2: process = sawArithmeticTables ? .arithmetic : .progressive
        case 0xC1: process = sawArithmeticTables ? .arithmetic : .extended
        default: process = .baseline
        }
        return .success(
            JPEGInfo(
                width: frame.width, height: frame.height, orientation: orientation ?? 1,
                components: frame.componentIDs.count,
                colour: colour(ids: frame.componentIDs, jfif: metadata.contains(.jfif), adobeTransform: adobeTransform),
                process: sawHierarchy ? .hierarchical : process, bitsPerSample: frame.precision, metadata: metadata))
    }

    /// The colour model as libjpeg decides it (jdapimin.c `default_decompress_parms`).
    static func colour(ids: [UInt8], jfif: Bool, adobeTransform: UInt8?) -> JPEGColour {
        switch ids.count {
        case 1: return .grey
        case 3:
            if jfif { return .ycbcr }
            if let adobeTransform { return adobeTransform == 0 ? .rgb : .ycbcr }
            return ids == Array("RGB".utf8) ? .rgb : .ycbcr
        case 4: return adobeTransform == 2 ? .ycck : .cmyk
        default: return .other
        }
    }

    /// Whether the file ends with EOI (FF D9), allowing zero padding after it, beyond the header.
    static func endsWithEOI(_ raw: UnsafeRawBufferPointer, after start: Int) -> Bool {
        var end = raw.count
        while end > start && raw[end - 1] == 0 { end -= 1 }
        return end - 2 >= start && raw[end - 2] == 0xFF && raw[end - 1] == 0xD9
    }
}

/// The two facts the inspector wants from an Exif block: orientation and whether a GPS IFD is present.
enum EXIF {
    static let orientationTag: UInt16 = 0x0112
    static let gpsPointerTag: UInt16 = 0x8825

    /// Reads IFD0 of the TIFF structure in `tiff` (either byte order). Bad offsets simply give nothing.
    static func read(_ raw: UnsafeRawBufferPointer, _ tiff: Range<Int>) -> (orientation: Int?, hasGPS: Bool) {
        guard tiff.count >= 8 else { return (nil, false) }
        let base = tiff.lowerBound
        let little: Bool
        switch (raw[base], raw[base + 1]) {
        case (0x49, 0x49): little = true
        case (0x4D, 0x4D): little = false
        default: return (nil, false)
        }
        func u16(_ offset: Int) -> Int? {
            guard offset >= 0, offset + 2 <= tiff.count else { return nil }
            let a = Int(raw[base + offset]), b = Int(raw[base + offset + 1])
            return little ? a | b << 8 : a << 8 | b
        }
        func u32(_ offset: Int) -> Int? {
            guard let first = u16(offset), let second = u16(offset + 2) else { return nil }
            return little ? first | second << 16 : first << 16 | second
        }
        guard u16(2) == 42, let ifd = u32(4), let count = u16(ifd) else { return (nil, false) }
        var orientation: Int?
        var hasGPS = false
        for index in 0..<count {
            let entry = ifd + 2 + 12 * index
            guard let tag = u16(entry), let type = u16(entry + 2) else { break }
            switch UInt16(tag) {
            case orientationTag:
                // SHORT as the standard says; some writers use LONG.
                let value = type == 3 ? u16(entry + 8) : type == 4 ? u32(entry + 8) : nil
                if let value, (1...8).contains(value) { orientation = value }
            case gpsPointerTag:
                if let pointer = u32(entry + 8), pointer > 0 { hasGPS = true }
            default: break
            }
        }
        return (orientation, hasGPS)
    }
}
