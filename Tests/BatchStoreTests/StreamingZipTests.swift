import BatchStore
import BatchTestSupport
import Foundation
import Testing

@Suite("The ZIP writer of the downloads")
struct StreamingZipTests {
    func write(_ files: [(String, Data)], zip64From: UInt64 = 0xFFFF_FFFF, maxClassicEntries: UInt64 = 0xFFFF) throws
        -> ZipContents
    {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("zip-\(UUID().uuidString).zip")
        defer { try? FileManager.default.removeItem(at: url) }
        let zip = try StreamingZip(url: url, zip64From: zip64From, maxClassicEntries: maxClassicEntries)
        for (path, data) in files { try zip.add(path, data) }
        let size = try zip.finish()
        #expect(size == (try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? UInt64))
        return try ZipContents(url)
    }

    let files: [(String, Data)] = [
        ("5A/陳詠欣.jpg", Data((0..<100_000).map { UInt8(truncatingIfNeeded: $0 &* 31) })),
        ("Müller_Zoë.jpg", Data(repeating: 7, count: 3)), ("empty.csv", Data()),
        ("index.csv", Data("file,userId\n".utf8)),
    ]

    @Test("what goes in comes out byte for byte, UTF-8 names included, and unzip -t accepts it")
    func roundTrip() throws {
        let zip = try write(files)
        #expect(zip.unzipTest == 0)
        #expect(zip.files == Dictionary(uniqueKeysWithValues: files))
    }

    @Test(
        "with the ZIP64 limits lowered, every size, offset and the entry count go through ZIP64 records, and readers still accept it"
    )
    func zip64() throws {
        let zip = try write(files, zip64From: 2, maxClassicEntries: 2)
        #expect(zip.unzipTest == 0)
        #expect(zip.files == Dictionary(uniqueKeysWithValues: files))
    }
}
