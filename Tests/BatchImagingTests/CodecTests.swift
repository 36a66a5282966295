import BatchImaging
import Foundation
import Testing

@Suite("JPEG through libjpeg-turbo")
struct CodecTests {
    @Test("a generated portrait is a real JPEG of the asked size, the same for the same seed")
    func portrait() throws {
        let generator = PortraitGenerator(width: 600, height: 750)
        let jpeg = try generator.jpeg(seed: 42)
        #expect(jpeg.prefix(2) == Data([0xFF, 0xD8]))
        let size = try TurboJPEG.dimensions(of: jpeg)
        #expect(size.width == 600 && size.height == 750)
        #expect(try generator.jpeg(seed: 42) == jpeg)
        #expect(try generator.jpeg(seed: 43) != jpeg)
    }

    @Test("a thumbnail fits the box, keeps the aspect ratio and is never enlarged")
    func thumbnail() throws {
        let jpeg = try PortraitGenerator(width: 600, height: 750).jpeg(seed: 1)
        let thumb = try TurboJPEG.thumbnail(of: jpeg, maxWidth: 160, maxHeight: 160)
        let size = try TurboJPEG.dimensions(of: thumb)
        #expect(size.width == 128 && size.height == 160)
        let same = try TurboJPEG.thumbnail(of: jpeg, maxWidth: 2000, maxHeight: 2000)
        let unchanged = try TurboJPEG.dimensions(of: same)
        #expect(unchanged.width == 600 && unchanged.height == 750)
    }

    @Test("bytes that are not a JPEG are refused with a code")
    func notJPEG() {
        #expect(throws: ImagingError.self) { try TurboJPEG.dimensions(of: Data("%PDF-1.7".utf8)) }
    }
}
