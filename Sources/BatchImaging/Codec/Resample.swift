/// Downscaling of RGB pixels. TurboJPEG scales only by its fixed DCT factors; the last step to an exact size is
/// an area-averaging (box) filter, written here because it is a few lines and the codec has none.
public enum Resample {
    public static func box(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
        if image.width == width && image.height == height { return image }
        var output = [UInt8](repeating: 0, count: width * height * 3)
        let xRatio = Double(image.width) / Double(width)
        let yRatio = Double(image.height) / Double(height)
        image.pixels.withUnsafeBufferPointer { source in
            for y in 0..<height {
                let y0 = Int(Double(y) * yRatio), y1 = max(y0 + 1, min(image.height, Int(Double(y + 1) * yRatio)))
                for x in 0..<width {
                    let x0 = Int(Double(x) * xRatio), x1 = max(x0 + 1, min(image.width, Int(Double(x + 1) * xRatio)))
                    var r = 0, g = 0, b = 0
                    for sy in y0..<y1 {
                        var index = (sy * image.width + x0) * 3
                        for _ in x0..<x1 {
                            r += Int(source[index])
                            g += Int(source[index + 1])
                            b += Int(source[index + 2])
                            index += 3
                        }
                    }
                    let count = (y1 - y0) * (x1 - x0)
                    let out = (y * width + x) * 3
                    output[out] = UInt8(r / count)
                    output[out + 1] = UInt8(g / count)
                    output[out + 2] = UInt8(b / count)
                }
            }
        }
        return RGBImage(width: width, height: height, pixels: output)
    }
}
