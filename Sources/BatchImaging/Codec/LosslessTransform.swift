import CTurboJPEG
import Foundation

/// Lossless JPEG transforms (tjTransform): rotation and flips move DCT blocks, nothing is decoded or re-quantised.
enum LosslessTransform {
    /// The tjTransform operation that turns a JPEG stored with EXIF `orientation` upright
    /// (the mapping of libjpeg-turbo's own examples: 2 HFLIP, 3 ROT180, 4 VFLIP, 5 TRANSPOSE, 6 ROT90,
    /// 7 TRANSVERSE, 8 ROT270).
    static func operation(forOrientation orientation: Int) -> TJXOP {
        switch orientation {
        case 2: TJXOP_HFLIP
        case 3: TJXOP_ROT180
        case 4: TJXOP_VFLIP
        case 5: TJXOP_TRANSPOSE
        case 6: TJXOP_ROT90
        case 7: TJXOP_TRANSVERSE
        case 8: TJXOP_ROT270
        default: TJXOP_NONE
        }
    }

    /// Runs one tjTransform. `options` is a bitwise OR of TJXOPT_* values. With TJXOPT_PERFECT the call fails
    /// (code `transform_imperfect`) when partial MCU blocks would have to move.
    static func apply(_ jpeg: Data, operation: TJXOP, options: Int32) throws -> Data {
        guard let handle = tjInitTransform() else {
            throw ImagingError(code: "codec_unavailable", detail: "tjInitTransform")
        }
        defer { tjDestroy(handle) }
        var transform = tjtransform()
        transform.op = Int32(operation.rawValue)
        transform.options = options
        var output: UnsafeMutablePointer<UInt8>? = nil
        var size: UInt = 0
        let status = jpeg.withUnsafeBytes { raw in
            tjTransform(
                handle, raw.bindMemory(to: UInt8.self).baseAddress, UInt(jpeg.count), 1, &output, &size, &transform,
                Int32(TJFLAG_LIMITSCANS))
        }
        defer { if output != nil { tjFree(output) } }
        guard status == 0, let output else {
            let detail = String(cString: tjGetErrorStr2(handle))
            let imperfect = options & Int32(TJXOPT_PERFECT) != 0 && detail.lowercased().contains("perfect")
            throw ImagingError(code: imperfect ? "transform_imperfect" : "transform_failed", detail: detail)
        }
        return Data(bytes: output, count: Int(size))
    }
}

/// Pixel-level orientation, for when a lossless transform cannot be exact.
enum PixelOrientation {
    /// The image as displayed: `image` is the stored pixels, `orientation` the EXIF value 1...8.
    static func apply(_ image: RGBImage, orientation: Int) -> RGBImage {
        guard (2...8).contains(orientation) else { return image }
        let (w, h) = (image.width, image.height)
        let swapped = orientation >= 5
        let (outWidth, outHeight) = swapped ? (h, w) : (w, h)
        var output = [UInt8](repeating: 0, count: w * h * 3)
        image.pixels.withUnsafeBufferPointer { source in
            output.withUnsafeMutableBufferPointer { destination in
                for y in 0..<outHeight {
                    for x in 0..<outWidth {
                        let (sx, sy): (Int, Int)
                        switch orientation {
                        case 2: (sx, sy) = (w - 1 - x, y)
                        case 3: (sx, sy) = (w - 1 - x, h - 1 - y)
                        case 4: (sx, sy) = (x, h - 1 - y)
                        case 5: (sx, sy) = (y, x)
                        case 6: (sx, sy) = (y, h - 1 - x)
                        case 7: (sx, sy) = (w - 1 - y, h - 1 - x)
                        default: (sx, sy) = (w - 1 - y, x)  // 8
                        }
                        let from = (sy * w + sx) * 3, to = (y * outWidth + x) * 3
                        destination[to] = source[from]
                        destination[to + 1] = source[from + 1]
                        destination[to + 2] = source[from + 2]
                    }
                }
            }
        }
        return RGBImage(width: outWidth, height: outHeight, pixels: output)
    }

    /// The orientation that undoes `orientation` (all are their own inverse except the two quarter turns).
    static func inverse(_ orientation: Int) -> Int {
        switch orientation {
        case 6: 8
        case 8: 6
        default: orientation
        }
    }
}
