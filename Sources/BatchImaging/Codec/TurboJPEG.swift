import CTurboJPEG
import Foundation

/// Errors of the pixel codec, with the library's own words for the log.
public struct ImagingError: Error, Sendable, CustomStringConvertible {
    public var code: String
    public var detail: String
    public var description: String { "\(code): \(detail)" }
}

/// An RGB image in memory (3 bytes a pixel, rows top to bottom).
public struct RGBImage: Sendable {
    public var width: Int
    public var height: Int
    public var pixels: [UInt8]

    public init(width: Int, height: Int, pixels: [UInt8]) {
        precondition(pixels.count == width * height * 3)
        self.width = width
        self.height = height
        self.pixels = pixels
    }
}

/// JPEG decode and encode through libjpeg-turbo's TurboJPEG API.
public enum TurboJPEG {
    /// Encodes RGB pixels as a baseline JPEG with 4:2:0 subsampling.
    public static func encode(_ image: RGBImage, quality: Int = 90) throws -> Data {
        guard let handle = tjInitCompress() else { throw ImagingError(code: "codec_unavailable", detail: "tjInitCompress") }
        defer { tjDestroy(handle) }
        var output: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let status = image.pixels.withUnsafeBufferPointer { pixels in
            tjCompress2(
                handle, pixels.baseAddress, Int32(image.width), 0, Int32(image.height), Int32(TJPF_RGB.rawValue),
                &output, &size, Int32(TJSAMP_420.rawValue), Int32(quality), Int32(TJFLAG_ACCURATEDCT))
        }
        defer { if output != nil { tjFree(output) } }
        guard status == 0, let output else {
            throw ImagingError(code: "encode_failed", detail: String(cString: tjGetErrorStr2(handle)))
        }
        return Data(bytes: output, count: Int(size))
    }

    /// The width and height a JPEG declares, read by the library without decoding pixels.
    public static func dimensions(of jpeg: Data) throws -> (width: Int, height: Int) {
        guard let handle = tjInitDecompress() else { throw ImagingError(code: "codec_unavailable", detail: "tjInitDecompress") }
        defer { tjDestroy(handle) }
        var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
        let status = jpeg.withUnsafeBytes { raw in
            tjDecompressHeader3(
                handle, raw.bindMemory(to: UInt8.self).baseAddress, UInt(jpeg.count), &width, &height, &subsampling,
                &colorspace)
        }
        guard status == 0 else { throw ImagingError(code: "not_a_jpeg", detail: String(cString: tjGetErrorStr2(handle))) }
        return (Int(width), Int(height))
    }

    /// Decodes a JPEG, scaled in the DCT domain by the largest of libjpeg-turbo's factors that still gives at
    /// least `minimumWidth` × `minimumHeight` (so a thumbnail never decodes every pixel).
    public static func decode(_ jpeg: Data, atLeast minimumWidth: Int = 0, _ minimumHeight: Int = 0) throws -> RGBImage {
        guard let handle = tjInitDecompress() else { throw ImagingError(code: "codec_unavailable", detail: "tjInitDecompress") }
        defer { tjDestroy(handle) }
        return try jpeg.withUnsafeBytes { raw -> RGBImage in
            let source = raw.bindMemory(to: UInt8.self).baseAddress
            var width: Int32 = 0, height: Int32 = 0, subsampling: Int32 = 0, colorspace: Int32 = 0
            guard tjDecompressHeader3(handle, source, UInt(jpeg.count), &width, &height, &subsampling, &colorspace) == 0
            else { throw ImagingError(code: "not_a_jpeg", detail: String(cString: tjGetErrorStr2(handle))) }
            var (scaledWidth, scaledHeight) = (Int(width), Int(height))
            var count: Int32 = 0
            if let factors = tjGetScalingFactors(&count) {
                // Factors come largest first; keep the smallest that is still big enough.
                for index in 0..<Int(count) {
                    let factor = factors[index]
                    guard factor.num <= factor.denom else { continue }
                    let w = (Int(width) * Int(factor.num) + Int(factor.denom) - 1) / Int(factor.denom)
                    let h = (Int(height) * Int(factor.num) + Int(factor.denom) - 1) / Int(factor.denom)
                    if w >= minimumWidth && h >= minimumHeight && w * h < scaledWidth * scaledHeight {
                        (scaledWidth, scaledHeight) = (w, h)
                    }
                }
            }
            var pixels = [UInt8](repeating: 0, count: scaledWidth * scaledHeight * 3)
            let status = pixels.withUnsafeMutableBufferPointer { destination in
                tjDecompress2(
                    handle, source, UInt(jpeg.count), destination.baseAddress, Int32(scaledWidth), 0,
                    Int32(scaledHeight), Int32(TJPF_RGB.rawValue), Int32(TJFLAG_ACCURATEDCT))
            }
            guard status == 0 else {
                throw ImagingError(code: "decode_failed", detail: String(cString: tjGetErrorStr2(handle)))
            }
            return RGBImage(width: scaledWidth, height: scaledHeight, pixels: pixels)
        }
    }

    /// A JPEG no larger than `maxWidth` × `maxHeight`, aspect ratio kept, never enlarged.
    public static func thumbnail(of jpeg: Data, maxWidth: Int, maxHeight: Int, quality: Int = 85) throws -> Data {
        let (width, height) = try dimensions(of: jpeg)
        let scale = min(1.0, min(Double(maxWidth) / Double(width), Double(maxHeight) / Double(height)))
        let targetWidth = max(1, Int((Double(width) * scale).rounded()))
        let targetHeight = max(1, Int((Double(height) * scale).rounded()))
        let decoded = try decode(jpeg, atLeast: targetWidth, targetHeight)
        return try encode(Resample.box(decoded, width: targetWidth, height: targetHeight), quality: quality)
    }
}
