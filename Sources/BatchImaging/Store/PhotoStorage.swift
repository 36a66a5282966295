import CTurboJPEG
import Foundation

/// A photo ready to store: upright, without identifying metadata, with its thumbnail (made once, here).
/// The SHA-256 of the original upload is the caller's to compute (BatchImaging has no crypto dependency).
public struct PreparedPhoto: Sendable {
    public var jpeg: Data
    public var thumbnail: Data
    /// Size of `jpeg`, which is the size as displayed.
    public var width: Int
    public var height: Int

    public init(jpeg: Data, thumbnail: Data, width: Int, height: Int) {
        self.jpeg = jpeg
        self.thumbnail = thumbnail
        self.width = width
        self.height = height
    }
}

/// Turns an accepted upload into the JPEG and thumbnail that are stored.
public enum PhotoStorage {
    public static let thumbnailBox = (width: 240, height: 300)
    /// Quality of the re-encode fallback (and nothing else: the normal path does not re-encode).
    public static let fallbackQuality = 92

    /// Applies EXIF orientation and removes every APPn/COM segment except ICC (APP2 ICC_PROFILE) — then nothing
    /// of the upload's EXIF/GPS/XMP/IPTC/comments survives.
    ///
    /// Policy: **lossless first**. The photo goes through `tjTransform` with `TJXOPT_COPYNONE` (no marker is
    /// copied) and, for orientations 2...8, the matching `TJXOP_*` with `TJXOPT_PERFECT`; orientation 1 uses
    /// `TJXOP_NONE`, which only rewrites the headers. A progressive upload stays progressive. When the transform
    /// is not perfect (a side that must move is not a multiple of the 8/16 px MCU) — or tjTransform refuses the
    /// file for another reason — the photo is decoded, turned in pixels and re-encoded at quality 92 (baseline,
    /// 4:2:0) instead of using `TJXOPT_TRIM`: trimming would cut up to 15 px, could push a valid photo under the
    /// 480 × 600 minimum, and would change the size the person was told.
    ///
    /// Afterwards the header is rebuilt from an allow-list: the encoder's own JFIF APP0 and Adobe APP14 (it
    /// carries only the colour-transform flag; libjpeg writes it for RGB-coded files), the coding tables, and the
    /// upload's ICC_PROFILE segments, put back right after SOI (after the JFIF APP0, which must come first).
    ///
    /// `info` is the upload's `JPEGInspector`/`PhotoRules` result; refused variants and oversized headers throw.
    public static func prepare(_ bytes: Data, info: JPEGInfo) throws -> PreparedPhoto {
        if let problem = PhotoRules.variantProblems(info).first {
            throw ImagingError(code: problem.code, detail: problem.message)
        }
        guard info.width * info.height <= JPEGInspector.maxPixels,
              max(info.width, info.height) <= JPEGInspector.maxSide
        else { throw ImagingError(code: "too_large_pixels", detail: "\(info.width) × \(info.height) px") }
        let icc = JPEGEdit.iccSegments(of: bytes)
        let orientation = (1...8).contains(info.orientation) ? info.orientation : 1
        var options = Int32(TJXOPT_COPYNONE | TJXOPT_PERFECT)
        if info.process == .progressive { options |= Int32(TJXOPT_PROGRESSIVE) }
        var upright: Data
        do {
            upright = try LosslessTransform.apply(
                bytes, operation: LosslessTransform.operation(forOrientation: orientation), options: options)
        } catch {
            // Usually `transform_imperfect`; any other refusal of tjTransform gets the same second chance.
            let decoded = try TurboJPEG.decode(bytes, atLeast: info.width, info.height)
            upright = try TurboJPEG.encode(
                PixelOrientation.apply(decoded, orientation: orientation), quality: fallbackQuality)
        }
        guard let clean = cleaned(upright, icc: icc) else {
            throw ImagingError(code: "prepare_failed", detail: "the transformed JPEG could not be re-read")
        }
        let size = try TurboJPEG.dimensions(of: clean)
        let thumbnail = try resized(clean, maxWidth: thumbnailBox.width, maxHeight: thumbnailBox.height)
        return PreparedPhoto(jpeg: clean, thumbnail: thumbnail, width: size.width, height: size.height)
    }

    /// A JPEG fitting maxWidth × maxHeight, aspect kept, never enlarged (DCT-domain scaling, then Resample.box,
    /// via `TurboJPEG.thumbnail`). The source's ICC profile, if any, is carried over so colours stay right; no
    /// other metadata is.
    public static func resized(_ jpeg: Data, maxWidth: Int, maxHeight: Int) throws -> Data {
        let small = try TurboJPEG.thumbnail(of: jpeg, maxWidth: maxWidth, maxHeight: maxHeight)
        guard let clean = cleaned(small, icc: JPEGEdit.iccSegments(of: jpeg)) else {
            throw ImagingError(code: "resize_failed", detail: "the resized JPEG could not be re-read")
        }
        return clean
    }

    /// `jpeg` with only the allowed segments, and the given ICC segments inserted.
    static func cleaned(_ jpeg: Data, icc: [Data]) -> Data? {
        JPEGEdit.rebuild(jpeg, inserting: icc) { segment, raw in
            switch segment.marker {
            case 0xE0: JPEGEdit.payload(raw, segment.payload, startsWith: JPEGEdit.jfifSignature)
            case 0xEE: JPEGEdit.payload(raw, segment.payload, startsWith: JPEGEdit.adobeSignature)
            case 0xE1...0xED, 0xEF, 0xFE: false
            default: true
            }
        }
    }
}
