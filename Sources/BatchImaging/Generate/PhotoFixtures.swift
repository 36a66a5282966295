import BatchCore
import CTurboJPEG
import Foundation

/// Deterministic photo files, good and bad, for the tests, the demo and the benchmarks: the same call always
/// gives the same bytes. Nothing here is anyone's real photo or location.
public enum PhotoFixtures {
    /// Texture of `portrait`: enough noise for the size and entropy of a camera photo (≈ 200–450 KB at 600 × 750).
    public static let texture = 14.0
    public static let quality = 92

    /// The pixels of `portrait(seed:width:height:)`, for comparing what came out of processing.
    public static func portraitImage(seed: UInt64, width: Int = 600, height: Int = 750, texture: Double = texture) -> RGBImage {
        PortraitGenerator(width: width, height: height, texture: texture).image(seed: seed)
    }

    /// A valid, upright portrait JPEG (JFIF, baseline, 4:2:0), without metadata.
    public static func portrait(
        seed: UInt64, width: Int = 600, height: Int = 750, texture: Double = texture, quality: Int = quality
    ) throws -> Data {
        try TurboJPEG.encode(portraitImage(seed: seed, width: width, height: height, texture: texture), quality: quality)
    }

    /// A portrait that looks upright `width` × `height` only once its EXIF `orientation` is applied: the pixels are
    /// stored turned or mirrored the way a camera held sideways stores them, and an Exif block says how to show them.
    public static func turned(
        seed: UInt64, width: Int = 600, height: Int = 750, orientation: Int, texture: Double = texture, quality: Int = quality
    ) throws -> Data {
        let stored = PixelOrientation.apply(
            portraitImage(seed: seed, width: width, height: height, texture: texture), orientation: PixelOrientation.inverse(orientation))
        return withExif(try TurboJPEG.encode(stored, quality: quality), orientation: orientation, gps: false, comment: nil)
    }

    // MARK: Metadata

    /// Camera make and model written into the Exif block (device-identifying, so it must not survive storage).
    public static let cameraMake = "FixtureCam", cameraModel = "FixtureCam Model 7 Pro"
    /// The location written when `gps` is asked: degrees, minutes, seconds as Exif rationals.
    public static let latitude = (ref: "N", degrees: 51, minutes: 30, hundredthsOfSeconds: 486)
    public static let longitude = (ref: "W", degrees: 0, minutes: 8, hundredthsOfSeconds: 3080)
    /// The latitude exactly as stored in the GPS IFD (three little-endian rationals), so tests can prove it is gone.
    public static var latitudeBytes: Data {
        Data(rationals([(latitude.degrees, 1), (latitude.minutes, 1), (latitude.hundredthsOfSeconds, 100)]))
    }
    /// The location as the XMP packet writes it.
    public static let xmpLatitude = "51,30.081N", xmpLongitude = "0,8.513W"

    /// Inserts an APP1 Exif segment (little-endian TIFF) with camera make/model and `orientation`, and with `gps` a
    /// GPS IFD with latitude/longitude. When `gps` or `comment` is asked, an XMP APP1 is added too (carrying the
    /// location and/or the comment as `dc:description`, as photo apps do), and with `comment` a COM segment.
    /// The segments go after SOI and any leading APP0/APP1 (so a JFIF APP0 stays first).
    public static func withExif(_ jpeg: Data, orientation: Int, gps: Bool, comment: String?) -> Data {
        var segments = [JPEGEdit.segment(0xE1, Data(JPEGEdit.exifSignature + exifTIFF(orientation: orientation, gps: gps)))]
        if gps || comment != nil {
            segments.append(JPEGEdit.segment(0xE1, Data(JPEGEdit.xmpSignature + Array(xmpPacket(gps: gps, comment: comment).utf8))))
        }
        if let comment { segments.append(JPEGEdit.segment(0xFE, Data(comment.utf8))) }
        return JPEGEdit.insertAfterLeadingApps(segments, into: jpeg)
    }

    /// A small ICC profile: a valid v2 display-RGB header and an empty tag table. Enough for byte-level tests (a
    /// colour-managed viewer would ignore it, as it has no curves).
    public static var iccProfile: Data {
        var header = [UInt8](repeating: 0, count: 132)
        func put(_ offset: Int, _ bytes: [UInt8]) { header.replaceSubrange(offset..<offset + bytes.count, with: bytes) }
        put(0, bigEndian32(132))  // profile size
        put(4, Array("SBAT".utf8))  // preferred CMM
        put(8, [0x02, 0x10, 0, 0])  // version 2.1
        put(12, Array("mntr".utf8))  // display device
        put(16, Array("RGB ".utf8))
        put(20, Array("XYZ ".utf8))
        put(24, [0x07, 0xE8, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0])  // 2024-01-01 00:00:00
        put(36, Array("acsp".utf8))
        put(68, [0x00, 0x00, 0xF6, 0xD6, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0xD3, 0x2D])  // D50 illuminant
        put(80, Array("SBAT".utf8))  // creator
        // Bytes 128..<132: tag count 0.
        return Data(header)
    }

    /// Adds one APP2 ICC_PROFILE segment (chunk 1 of 1) holding `iccProfile`.
    public static func withICC(_ jpeg: Data) -> Data {
        let payload = Data(JPEGEdit.iccSignature + [1, 1]) + iccProfile
        return JPEGEdit.insertAfterLeadingApps([JPEGEdit.segment(0xE2, payload)], into: jpeg)
    }

    // MARK: JPEG variants

    /// The same picture coded progressively (lossless tjTransform with TJXOPT_PROGRESSIVE; markers are kept).
    public static func progressive(_ jpeg: Data) throws -> Data {
        try LosslessTransform.apply(jpeg, operation: TJXOP_NONE, options: Int32(TJXOPT_PROGRESSIVE))
    }

    /// A real 4-component Adobe JPEG (YCCK, Adobe transform 2) as print workflows make them, from the portrait's
    /// colours turned into CMYK ink amounts; encoded by tjCompress2 from TJPF_CMYK pixels.
    public static func cmyk(seed: UInt64 = 1, width: Int = 600, height: Int = 750) throws -> Data {
        let rgb = portraitImage(seed: seed, width: width, height: height).pixels
        var ink = [UInt8](repeating: 0, count: width * height * 4)
        for pixel in 0..<width * height {
            let (r, g, b) = (Int(rgb[pixel * 3]), Int(rgb[pixel * 3 + 1]), Int(rgb[pixel * 3 + 2]))
            let k = 255 - max(r, g, b)
            let scale = max(1, 255 - k)
            ink[pixel * 4] = UInt8((255 - r - k) * 255 / scale)
            ink[pixel * 4 + 1] = UInt8((255 - g - k) * 255 / scale)
            ink[pixel * 4 + 2] = UInt8((255 - b - k) * 255 / scale)
            ink[pixel * 4 + 3] = UInt8(k)
        }
        guard let handle = tjInitCompress() else { throw ImagingError(code: "codec_unavailable", detail: "tjInitCompress") }
        defer { tjDestroy(handle) }
        var output: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let status = ink.withUnsafeBufferPointer { pixels in
            tjCompress2(
                handle, pixels.baseAddress, Int32(width), 0, Int32(height), Int32(TJPF_CMYK.rawValue), &output, &size,
                Int32(TJSAMP_420.rawValue), Int32(quality), Int32(TJFLAG_ACCURATEDCT))
        }
        defer { if output != nil { tjFree(output) } }
        guard status == 0, let output else {
            throw ImagingError(code: "encode_failed", detail: String(cString: tjGetErrorStr2(handle)))
        }
        return Data(bytes: output, count: Int(size))
    }

    /// A decompression bomb: a small, well-formed JPEG whose header declares 65,000 × 65,000 px (4.2 gigapixels).
    public static func bomb(width: Int = 65_000, height: Int = 65_000) throws -> Data {
        var jpeg = try TurboJPEG.encode(RGBImage(width: 16, height: 16, pixels: [UInt8](repeating: 128, count: 16 * 16 * 3)))
        guard case .success(let header) = JPEGHeader.read(jpeg),
              let sof = header.segments.first(where: { $0.marker == 0xC0 })
        else { throw ImagingError(code: "fixture_failed", detail: "the encoder wrote no SOF0") }
        let at = jpeg.startIndex + sof.payload.lowerBound
        jpeg.replaceSubrange(at + 1..<at + 5, with: [UInt8(height >> 8), UInt8(height & 0xFF), UInt8(width >> 8), UInt8(width & 0xFF)])
        return jpeg
    }

    // MARK: Broken and foreign files

    /// The first two thirds of `jpeg`, as an interrupted copy leaves it.
    public static func truncated(_ jpeg: Data) -> Data { Data(jpeg.prefix(jpeg.count * 2 / 3)) }

    /// `jpeg` followed by zero bytes up to `count` bytes in all (zero padding after EOI is allowed), for size limits.
    public static func padded(_ jpeg: Data, to count: Int) -> Data {
        jpeg + Data(count: max(0, count - jpeg.count))
    }

    /// A valid 8 × 8 grey PNG (signature, IHDR, IDAT with a stored zlib block, IEND).
    public static func png() -> Data {
        let (width, height) = (8, 8)
        var raw: [UInt8] = []
        for y in 0..<height { raw += [0] + (0..<width).map { x in UInt8((x + y) * 16) } }  // filter 0 per row
        var zlib: [UInt8] = [0x78, 0x01, 0x01, UInt8(raw.count & 0xFF), UInt8(raw.count >> 8)]
        zlib += [~UInt8(raw.count & 0xFF), ~UInt8(raw.count >> 8)] + raw + bigEndian32(adler32(raw))
        func chunk(_ type: String, _ data: [UInt8]) -> [UInt8] {
            let body = Array(type.utf8) + data
            return bigEndian32(UInt32(data.count)) + body + bigEndian32(crc32(body))
        }
        let ihdr = bigEndian32(UInt32(width)) + bigEndian32(UInt32(height)) + [8, 0, 0, 0, 0]  // 8-bit grey
        return Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A] + chunk("IHDR", ihdr) + chunk("IDAT", zlib) + chunk("IEND", []))
    }

    /// The start of an iPhone HEIC file: an ISO-BMFF `ftyp` box with brand `heic` (and `mif1`), then an empty `meta`.
    public static func heic() -> Data {
        let ftyp = bigEndian32(24) + Array("ftypheic".utf8) + [0, 0, 0, 0] + Array("mif1heic".utf8)
        let meta = bigEndian32(12) + Array("meta".utf8) + [0, 0, 0, 0]
        return Data(ftyp + meta)
    }

    /// A valid 1 × 1 GIF89a.
    public static func gif() -> Data {
        Data(Array("GIF89a".utf8) + [1, 0, 1, 0, 0x80, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0xFF]
            + [0x2C, 0, 0, 0, 0, 1, 0, 1, 0, 0, 2, 2, 0x44, 0x01, 0, 0x3B])
    }

    /// A valid one-page, empty PDF.
    public static func pdf() -> Data {
        var text = "%PDF-1.4\n"
        var offsets: [Int] = []
        for object in [
            "<< /Type /Catalog /Pages 2 0 R >>", "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>",
        ] {
            offsets.append(text.utf8.count)
            text += "\(offsets.count) 0 obj\n\(object)\nendobj\n"
        }
        let xref = text.utf8.count
        text += "xref\n0 \(offsets.count + 1)\n0000000000 65535 f \n"
        for offset in offsets { text += String(repeating: "0", count: 10 - String(offset).count) + "\(offset) 00000 n \n" }
        text += "trailer\n<< /Size \(offsets.count + 1) /Root 1 0 R >>\nstartxref\n\(xref)\n%%EOF\n"
        return Data(text.utf8)
    }

    // MARK: Building blocks

    static func exifTIFF(orientation: Int, gps: Bool) -> [UInt8] {
        func ascii(_ text: String) -> [UInt8] { Array(text.utf8) + [0] }
        func ifd0(gpsOffset: Int) -> [UInt8] {
            var entries: [IFDEntry] = [
                .init(tag: 0x010F, type: 2, count: cameraMake.utf8.count + 1, value: ascii(cameraMake)),
                .init(tag: 0x0110, type: 2, count: cameraModel.utf8.count + 1, value: ascii(cameraModel)),
                .init(tag: 0x0112, type: 3, count: 1, value: [UInt8(orientation & 0xFF), UInt8(orientation >> 8 & 0xFF)]),
            ]
            if gps { entries.append(.init(tag: 0x8825, type: 4, count: 1, value: littleEndian32(UInt32(gpsOffset)))) }
            return ifd(entries, at: 8)
        }
        var tiff: [UInt8] = [0x49, 0x49, 0x2A, 0x00] + littleEndian32(8)
        let first = ifd0(gpsOffset: 0)
        guard gps else { return tiff + first }
        let gpsOffset = 8 + first.count
        tiff += ifd0(gpsOffset: gpsOffset)
        let longitudeRationals = rationals([(longitude.degrees, 1), (longitude.minutes, 1), (longitude.hundredthsOfSeconds, 100)])
        tiff += ifd(
            [
                .init(tag: 0x0000, type: 1, count: 4, value: [2, 3, 0, 0]),
                .init(tag: 0x0001, type: 2, count: 2, value: ascii(latitude.ref)),
                .init(tag: 0x0002, type: 5, count: 3, value: Array(latitudeBytes)),
                .init(tag: 0x0003, type: 2, count: 2, value: ascii(longitude.ref)),
                .init(tag: 0x0004, type: 5, count: 3, value: longitudeRationals),
            ], at: gpsOffset)
        return tiff
    }

    struct IFDEntry {
        var tag: UInt16, type: UInt16, count: Int, value: [UInt8]
    }

    /// One little-endian IFD placed at `offset` in the TIFF, values over 4 bytes in a data area right after it.
    static func ifd(_ entries: [IFDEntry], at offset: Int) -> [UInt8] {
        var table: [UInt8] = [UInt8(entries.count & 0xFF), UInt8(entries.count >> 8)]
        var data: [UInt8] = []
        let dataStart = offset + 2 + 12 * entries.count + 4
        for entry in entries {
            table += [UInt8(entry.tag & 0xFF), UInt8(entry.tag >> 8), UInt8(entry.type & 0xFF), UInt8(entry.type >> 8)]
            table += littleEndian32(UInt32(entry.count))
            if entry.value.count <= 4 {
                table += entry.value + [UInt8](repeating: 0, count: 4 - entry.value.count)
            } else {
                table += littleEndian32(UInt32(dataStart + data.count))
                data += entry.value
                if data.count % 2 == 1 { data.append(0) }  // TIFF offsets are even
            }
        }
        return table + littleEndian32(0) + data
    }

    static func xmpPacket(gps: Bool, comment: String?) -> String {
        var attributes = ""
        if gps { attributes += " exif:GPSLatitude=\"\(xmpLatitude)\" exif:GPSLongitude=\"\(xmpLongitude)\"" }
        var body = ""
        if let comment {
            let escaped = comment.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            body = "<dc:description><rdf:Alt><rdf:li xml:lang=\"x-default\">\(escaped)</rdf:li></rdf:Alt></dc:description>"
        }
        return "<?xpacket begin=\"\u{FEFF}\" id=\"W5M0MpCehiHzreSzNTczkc9d\"?>"
            + "<x:xmpmeta xmlns:x=\"adobe:ns:meta/\"><rdf:RDF xmlns:rdf=\"http://www.w3.org/1999/02/22-rdf-syntax-ns#\">"
            + "<rdf:Description rdf:about=\"\" xmlns:exif=\"http://ns.adobe.com/exif/1.0/\" "
            + "xmlns:dc=\"http://purl.org/dc/elements/1.1/\"\(attributes)>\(body)</rdf:Description>"
            + "</rdf:RDF></x:xmpmeta><?xpacket end=\"w\"?>"
    }

    static func rationals(_ values: [(Int, Int)]) -> [UInt8] {
        values.flatMap { littleEndian32(UInt32($0.0)) + littleEndian32(UInt32($0.1)) }
    }

    static func littleEndian32(_ value: UInt32) -> [UInt8] { (0..<4).map { UInt8(value >> (8 * $0) & 0xFF) } }
    static func bigEndian32(_ value: UInt32) -> [UInt8] { littleEndian32(value).reversed() }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc ^= UInt32(byte)
            for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xEDB8_8320 : crc >> 1 }
        }
        return ~crc
    }

    static func adler32(_ bytes: [UInt8]) -> UInt32 {
        var (a, b): (UInt32, UInt32) = (1, 0)
        for byte in bytes {
            a = (a + UInt32(byte)) % 65_521
            b = (b + a) % 65_521
        }
        return b << 16 | a
    }
}

extension PhotoFixtures {
    /// A photographer's set, as `schoolbatch photos generate` writes it: one valid portrait for each name (every
    /// third taken sideways with EXIF orientation 6, every fifth with GPS, XMP and a comment), sizes between
    /// 480 × 600 and 960 × 1200, all deterministic from the index.
    public static func set(names: [String]) throws -> [(name: String, bytes: Data)] {
        let sizes = [(960, 1200), (600, 750), (720, 900), (480, 600), (800, 1000)]
        // Grain and quality vary like different cameras' files: about 150 KB to 1.2 MB.
        let looks: [(texture: Double, quality: Int)] = [(texture, 97), (24, 95), (20, 96), (40, 99)]
        return try names.enumerated().map { index, name in
            let (width, height) = sizes[index % sizes.count]
            let look = looks[index % looks.count]
            let seed = UInt64(index + 1)
            var bytes = index % 3 == 2
                ? try turned(seed: seed, width: width, height: height, orientation: 6, texture: look.texture, quality: look.quality)
                : try portrait(seed: seed, width: width, height: height, texture: look.texture, quality: look.quality)
            if index % 5 == 4 { bytes = withExif(bytes, orientation: 1, gps: true, comment: "Photographed at the school hall") }
            return (name, bytes)
        }
    }

    /// One file for each way a photo can be refused, named for what it is wrong with (all named `.jpg`).
    public static func invalidSet() throws -> [(name: String, bytes: Data)] {
        [
            ("really-a-png.jpg", png()), ("really-a-heic.jpg", heic()), ("really-a-pdf.jpg", pdf()),
            ("narrow-479px.jpg", try portrait(seed: 91, width: 479, height: 600)),
            ("tall-1201px.jpg", try portrait(seed: 92, width: 960, height: 1201)),
            ("cut-short.jpg", truncated(try portrait(seed: 93))), ("cmyk.jpg", try cmyk()),
            ("declares-65000px.jpg", try bomb()),
            ("over-10mb.jpg", padded(try portrait(seed: 94), to: PhotoRules.maxBytes + 1)),
        ]
    }
}
