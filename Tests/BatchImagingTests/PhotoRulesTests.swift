import BatchImaging
import Foundation
import Testing

/// The student-photo rules, one test per rule, each checking what the person uploading would notice.
@Suite("Student photo rules")
struct PhotoRulesTests {
    /// The problems of a file that must be refused (fails the test if the file is accepted).
    func problems(_ bytes: Data, sourceLocation: SourceLocation = #_sourceLocation) -> PhotoProblemList {
        switch PhotoRules.check(bytes) {
        case .success(let info):
            Issue.record("accepted: \(info)", sourceLocation: sourceLocation)
            return []
        case .failure(let problems): return problems
        }
    }

    func accepted(_ bytes: Data, sourceLocation: SourceLocation = #_sourceLocation) throws -> JPEGInfo {
        switch PhotoRules.check(bytes) {
        case .success(let info): return info
        case .failure(let problems):
            Issue.record("refused: \(problems.map(\.description))", sourceLocation: sourceLocation)
            throw problems
        }
    }

    func contains(_ data: Data, _ needle: Data) -> Bool { data.range(of: needle) != nil }

    // MARK: Type by content

    @Test("a PNG, HEIC, GIF or PDF named .jpg is refused, saying what it really is")
    func notJPEG() {
        for (bytes, name) in [
            (PhotoFixtures.png(), "PNG image"), (PhotoFixtures.heic(), "HEIC image (iPhone)"),
            (PhotoFixtures.gif(), "GIF image"), (PhotoFixtures.pdf(), "PDF document"),
            (Data("Name,Class\nAda,5B\n".utf8), "not an image"),
        ] {
            let found = problems(bytes)
            #expect(found.codes == ["not_jpeg"], "\(name)")
            #expect(found.first?.message.contains(name) == true, "\(found.first?.message ?? "") should name \(name)")
            #expect(found.first?.fix.isEmpty == false)
        }
        #expect(problems(PhotoFixtures.heic()).first?.fix.contains("iPhone") == true)
    }

    // MARK: Size and dimensions

    @Test("a photo 479 px wide is too narrow, and the message gives the numbers")
    func tooNarrow() throws {
        let found = problems(try PhotoFixtures.portrait(seed: 1, width: 479, height: 600))
        #expect(found.codes == ["too_narrow"])
        #expect(found.first?.message.contains("479 × 600 px as displayed") == true)
        #expect(found.first?.message.contains("480–960 px wide and 600–1200 px high") == true)
    }

    @Test("a photo 1201 px high is too tall")
    func tooTall() throws {
        let found = problems(try PhotoFixtures.portrait(seed: 2, width: 600, height: 1201))
        #expect(found.codes == ["too_tall"])
        #expect(found.first?.message.contains("600 × 1201 px") == true)
    }

    @Test("the limits themselves are accepted: 480 × 600 and 960 × 1200")
    func limits() throws {
        #expect(try accepted(PhotoFixtures.portrait(seed: 3, width: 480, height: 600)).displayWidth == 480)
        #expect(try accepted(PhotoFixtures.portrait(seed: 4, width: 960, height: 1200)).displayHeight == 1200)
    }

    @Test("10 MB + 1 byte is too large, and the message says how large")
    func fileTooLarge() throws {
        let jpeg = try PhotoFixtures.portrait(seed: 5)
        let found = problems(PhotoFixtures.padded(jpeg, to: PhotoRules.maxBytes + 1))
        #expect(found.codes == ["file_too_large"])
        #expect(found.first?.message.contains("10.0 MB (10,485,761 bytes)") == true)
        #expect(found.first?.message.contains("10 MB") == true)
        #expect(try accepted(PhotoFixtures.padded(jpeg, to: PhotoRules.maxBytes)).width == 600)
    }

    // MARK: Broken and unusual JPEGs

    @Test("a JPEG cut short is reported as incomplete")
    func truncated() throws {
        let found = problems(PhotoFixtures.truncated(try PhotoFixtures.portrait(seed: 6)))
        #expect(found.codes == ["truncated"])
        #expect(found.first?.message.contains("incomplete") == true)
        #expect(found.first?.fix.contains("again") == true)
        // Cut inside the header too.
        #expect(problems(Data(try PhotoFixtures.portrait(seed: 6).prefix(100))).codes == ["truncated"])
    }

    @Test("a CMYK JPEG is refused as a printers' format")
    func cmyk() throws {
        let jpeg = try PhotoFixtures.cmyk()
        let info = try JPEGInspector.inspect(jpeg).get()
        #expect(info.components == 4 && [.cmyk, .ycck].contains(info.colour))
        #expect(info.metadata.contains(.adobe))
        let found = problems(jpeg)
        #expect(found.codes == ["cmyk"])
        #expect(found.first?.message.contains("CMYK") == true)
        #expect(found.first?.fix.contains("RGB") == true)
    }

    @Test(
        "rare JPEG variants are refused with their own code",
        arguments: [
            (UInt8(0xC3), 8, "lossless"), (0xC9, 8, "arithmetic"), (0xC5, 8, "hierarchical"), (0xC1, 12, "twelve_bit"),
        ])
    func rareVariants(marker: UInt8, precision: UInt8, code: String) throws {
        // The inspector reads headers only, so a baseline file with its SOF marker rewritten stands in for one.
        var jpeg = try PhotoFixtures.portrait(seed: 15)
        let sof = try #require(jpeg.range(of: Data([0xFF, 0xC0])))
        jpeg[sof.lowerBound + 1] = marker
        jpeg[sof.lowerBound + 4] = precision
        let found = problems(jpeg)
        #expect(found.codes == [code])
        #expect(found.first?.message.contains("browsers cannot show") == true)
    }

    @Test("a progressive JPEG is accepted")
    func progressive() throws {
        let info = try accepted(PhotoFixtures.progressive(PhotoFixtures.portrait(seed: 7)))
        #expect(info.process == .progressive)
        #expect(try accepted(PhotoFixtures.portrait(seed: 7)).process == .baseline)
    }

    @Test("a header declaring 65,000 × 65,000 px is refused from the header, without decoding")
    func decompressionBomb() throws {
        let bomb = try PhotoFixtures.bomb()
        #expect(bomb.count < 2_000)
        // The codec believes the header: decoding it would allocate 12 GB.
        #expect(try TurboJPEG.dimensions(of: bomb) == (65_000, 65_000))
        let found = problems(bomb)
        #expect(found.codes == ["too_large_pixels"])
        #expect(found.first?.message.contains("65,000 × 65,000") == true)
    }

    // MARK: Orientation

    @Test("an upright photo stored 1200 × 960 with EXIF orientation 6 is valid and stored upright, 960 × 1200")
    func orientationSix() throws {
        let upload = try PhotoFixtures.turned(seed: 8, width: 960, height: 1200, orientation: 6)
        #expect(try TurboJPEG.dimensions(of: upload) == (1200, 960))
        let info = try accepted(upload)
        #expect(info.width == 1200 && info.height == 960 && info.orientation == 6)
        #expect(info.displayWidth == 960 && info.displayHeight == 1200)

        let prepared = try PhotoStorage.prepare(upload, info: info)
        #expect(prepared.width == 960 && prepared.height == 1200)
        #expect(try TurboJPEG.dimensions(of: prepared.jpeg) == (960, 1200))
        let stored = try JPEGInspector.inspect(prepared.jpeg).get()
        #expect(stored.orientation == 1 && !stored.metadata.contains(.exif))
        #expect(try difference(prepared.jpeg, PhotoFixtures.portraitImage(seed: 8, width: 960, height: 1200)) < 4)
    }

    @Test(
        "every EXIF orientation ends upright, losslessly or (odd sizes) by re-encoding",
        arguments: [(480, 608), (483, 605)], 1...8)
    func everyOrientation(size: (Int, Int), orientation: Int) throws {
        let upload = try PhotoFixtures.turned(seed: 9, width: size.0, height: size.1, orientation: orientation)
        let info = try accepted(upload)
        #expect(info.orientation == orientation)
        let prepared = try PhotoStorage.prepare(upload, info: info)
        #expect(prepared.width == size.0 && prepared.height == size.1)
        #expect(try difference(prepared.jpeg, PhotoFixtures.portraitImage(seed: 9, width: size.0, height: size.1)) < 4)
    }

    @Test("a big-endian (Motorola) Exif block is read too")
    func bigEndianExif() throws {
        // TIFF "MM", IFD0 at 8 with one entry: orientation (SHORT) = 8.
        let tiff: [UInt8] = [0x4D, 0x4D, 0, 42, 0, 0, 0, 8, 0, 1, 0x01, 0x12, 0, 3, 0, 0, 0, 1, 0, 8, 0, 0, 0, 0, 0, 0]
        let payload = Array("Exif\0\0".utf8) + tiff
        let segment = [0xFF, 0xE1, UInt8((payload.count + 2) >> 8), UInt8((payload.count + 2) & 0xFF)] + payload
        let jpeg = try PhotoFixtures.portrait(seed: 10, width: 600, height: 480)
        let info = try JPEGInspector.inspect(jpeg.prefix(2) + Data(segment) + jpeg.dropFirst(2)).get()
        #expect(info.orientation == 8 && info.displayWidth == 480 && info.displayHeight == 600)
        #expect(info.metadata.contains(.exif) && !info.metadata.contains(.gps))
    }

    // MARK: Storage

    @Test("GPS, XMP, camera model and comment are gone from the stored photo and its thumbnail")
    func metadataRemoved() throws {
        let comment = "Taken at 12 Acacia Avenue by Mr Smith"
        let upload = PhotoFixtures.withExif(
            try PhotoFixtures.portrait(seed: 11), orientation: 1, gps: true, comment: comment)
        let info = try accepted(upload)
        #expect(info.metadata.isSuperset(of: [.exif, .gps, .xmp, .comment]))
        #expect(contains(upload, Data(comment.utf8)) && contains(upload, PhotoFixtures.latitudeBytes))

        let prepared = try PhotoStorage.prepare(upload, info: info)
        let stored = try JPEGInspector.inspect(prepared.jpeg).get()
        #expect(stored.metadata.isDisjoint(with: [.exif, .gps, .xmp, .iptc, .comment, .otherApp]))
        for file in [prepared.jpeg, prepared.thumbnail] {
            for secret in [
                Data(comment.utf8), PhotoFixtures.latitudeBytes, Data(PhotoFixtures.xmpLatitude.utf8),
                Data(PhotoFixtures.cameraModel.utf8), Data("Exif\0\0".utf8), Data("http://ns.adobe.com/xap/1.0/".utf8),
            ] {
                #expect(!contains(file, secret), "\(String(decoding: secret, as: UTF8.self)) survived")
            }
        }
    }

    @Test("the colour profile (ICC) is kept in the stored photo and the thumbnail")
    func iccKept() throws {
        let upload = PhotoFixtures.withICC(
            PhotoFixtures.withExif(try PhotoFixtures.portrait(seed: 12), orientation: 3, gps: true, comment: "x"))
        let info = try accepted(upload)
        #expect(info.metadata.contains(.icc))
        let prepared = try PhotoStorage.prepare(upload, info: info)
        #expect(try JPEGInspector.inspect(prepared.jpeg).get().metadata.contains(.icc))
        #expect(try !JPEGInspector.inspect(prepared.jpeg).get().metadata.contains(.gps))
        #expect(contains(prepared.jpeg, PhotoFixtures.iccProfile))
        #expect(contains(prepared.thumbnail, PhotoFixtures.iccProfile))
    }

    @Test("the thumbnail fits 240 × 300 and keeps the aspect ratio")
    func thumbnail() throws {
        for (width, height, expected) in [(600, 750, (240, 300)), (960, 1200, (240, 300)), (480, 1200, (120, 300))] {
            let upload = try PhotoFixtures.portrait(seed: 13, width: width, height: height)
            let prepared = try PhotoStorage.prepare(upload, info: try accepted(upload))
            #expect(try TurboJPEG.dimensions(of: prepared.thumbnail) == expected)
            #expect(prepared.width == width && prepared.height == height)
        }
    }

    @Test("a generated portrait has the size of a camera photo")
    func realisticSize() throws {
        let jpeg = try PhotoFixtures.portrait(seed: 14)
        #expect((150_000...3_000_000).contains(jpeg.count), "\(jpeg.count) bytes")
    }

    /// Mean absolute difference per channel between `jpeg` and `image`, both averaged down to 1/8 size (so noise
    /// and compression vanish; a wrong turn or mirror gives a large number).
    func difference(_ jpeg: Data, _ image: RGBImage) throws -> Double {
        let decoded = try TurboJPEG.decode(jpeg, atLeast: image.width, image.height)
        guard decoded.width == image.width && decoded.height == image.height else { return .infinity }
        let (w, h) = (image.width / 8, image.height / 8)
        let a = Resample.box(decoded, width: w, height: h).pixels, b = Resample.box(image, width: w, height: h).pixels
        return Double(zip(a, b).reduce(0) { $0 + abs(Int($1.0) - Int($1.1)) }) / Double(a.count)
    }
}
