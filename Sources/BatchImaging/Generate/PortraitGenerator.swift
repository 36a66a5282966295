import BatchCore
import Foundation

/// Draws believable school-portrait stand-ins (backdrop, shoulders, face, hair) from a seed, so the demo, the
/// tests and the benchmarks have real JPEGs without shipping anyone's photo. The same seed gives the same image.
public struct PortraitGenerator: Sendable {
    public var width: Int
    public var height: Int
    /// Adds fine noise so files have the size and entropy of a camera photo.
    public var texture: Double

    public init(width: Int = 600, height: Int = 750, texture: Double = 6) {
        self.width = width
        self.height = height
        self.texture = texture
    }

    public func image(seed: UInt64) -> RGBImage {
        var random = SplitMix64(seed: seed)
        let backdrops: [(Double, Double, Double)] = [(92, 120, 160), (120, 130, 140), (70, 110, 100), (150, 140, 125)]
        let skins: [(Double, Double, Double)] = [(241, 204, 177), (224, 172, 135), (198, 145, 110), (160, 110, 80), (120, 80, 58)]
        let hairs: [(Double, Double, Double)] = [(20, 16, 14), (58, 38, 26), (110, 72, 40), (200, 160, 100), (40, 40, 45)]
        let shirts: [(Double, Double, Double)] = [(30, 50, 110), (240, 240, 240), (120, 20, 30), (20, 80, 50), (60, 60, 70)]
        let backdrop = backdrops[random.next(backdrops.count)]
        let skin = skins[random.next(skins.count)]
        let hair = hairs[random.next(hairs.count)]
        let shirt = shirts[random.next(shirts.count)]
        let w = Double(width), h = Double(height)
        let faceX = w * (0.47 + Double(random.next(7)) / 100), faceY = h * 0.40
        let faceRX = w * 0.19, faceRY = h * 0.20
        let hairLong = random.next(2) == 0
        var pixels = [UInt8](repeating: 0, count: width * height * 3)
        for y in 0..<height {
            let fy = Double(y)
            for x in 0..<width {
                let fx = Double(x)
                // Backdrop with a soft vignette.
                let dx = (fx - w / 2) / w, dy = (fy - h / 2) / h
                let light = 1.15 - (dx * dx + dy * dy) * 1.2
                var color = (backdrop.0 * light, backdrop.1 * light, backdrop.2 * light)
                // Shoulders.
                let shoulder = (fx - faceX) / (w * 0.46)
                if fy > h * 0.68 + shoulder * shoulder * h * 0.18 { color = shirt }
                // Neck.
                if abs(fx - faceX) < faceRX * 0.45 && fy > faceY && fy < h * 0.74 { color = (skin.0 * 0.9, skin.1 * 0.88, skin.2 * 0.86) }
                // Hair behind the face.
                let hx = (fx - faceX) / (faceRX * 1.22), hy = (fy - faceY + faceRY * 0.12) / (faceRY * 1.18)
                if hx * hx + hy * hy < 1 && (fy < faceY || hairLong) { color = hair }
                // Face.
                let ex = (fx - faceX) / faceRX, ey = (fy - faceY) / faceRY
                if ex * ex + ey * ey < 1 {
                    let shade = 1.05 - 0.12 * ex * ex - 0.08 * ey
                    color = (skin.0 * shade, skin.1 * shade, skin.2 * shade)
                    // Fringe.
                    if ey < -0.55 + 0.08 * sin(ex * 9) { color = hair }
                    // Eyes and mouth.
                    for side in [-0.38, 0.38] {
                        let ix = (ex - side) / 0.11, iy = (ey + 0.12) / 0.06
                        if ix * ix + iy * iy < 1 { color = (40, 30, 25) }
                    }
                    let mx = ex / 0.28, my = (ey - 0.45) / 0.05
                    if mx * mx + my * my < 1 { color = (170, 80, 80) }
                }
                let noise = texture > 0 ? (Double(random.next(1000)) / 1000 - 0.5) * texture * 2 : 0
                let index = (y * width + x) * 3
                pixels[index] = Self.clamp(color.0 + noise)
                pixels[index + 1] = Self.clamp(color.1 + noise)
                pixels[index + 2] = Self.clamp(color.2 + noise)
            }
        }
        return RGBImage(width: width, height: height, pixels: pixels)
    }

    /// The portrait as a JPEG.
    public func jpeg(seed: UInt64, quality: Int = 88) throws -> Data {
        try TurboJPEG.encode(image(seed: seed), quality: quality)
    }

    static func clamp(_ value: Double) -> UInt8 { UInt8(max(0, min(255, value.rounded()))) }
}

