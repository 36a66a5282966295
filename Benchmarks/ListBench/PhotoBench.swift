// Student photos (issue 5): 200 portraits of 960 × 1200 (about 1–2 MB each, some sideways with EXIF orientation 6
// and GPS) inspected, thumbnailed and stored; Pillow's thumbnails of the same files for comparison; the upload of
// the 200 over HTTP to a real release server until the preview is ready, and their apply; a ZIP of 2,000 stored
// photos at their original size.
import BatchCore
import BatchImaging
import BatchStore
import Crypto
import Foundation

enum PhotoBench {
    static let count = Int(ProcessInfo.processInfo.environment["BENCH_PHOTOS"] ?? "") ?? 200
    static let runs = Int(ProcessInfo.processInfo.environment["BENCH_PHOTO_RUNS"] ?? "") ?? 5

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    /// Times `work` `runs` times; the median and every sample, in seconds.
    static func time(_ work: () throws -> Void) rethrows -> (median: Double, samples: [Double]) {
        var samples: [Double] = []
        for _ in 0..<runs {
            let start = ContinuousClock.now
            try work()
            samples.append(seconds(ContinuousClock.now - start))
        }
        return (median(samples), samples)
    }

    /// Runs `body` for every index, spread over the machine's cores.
    static func parallel(_ count: Int, _ body: @Sendable (Int) -> Void) {
        DispatchQueue.concurrentPerform(iterations: count, execute: body)
    }

    /// The benchmark's photos: 960 × 1200 as displayed; every third stored sideways (1200 × 960, EXIF orientation 6),
    /// of the others every fifth with GPS and a comment. Texture and quality chosen to land at 1–2 MB, like a
    /// photographer's files.
    static func photos() throws -> [Data] {
        try (0..<count).map { index in
            let seed = UInt64(9_000 + index)
            let photo =
                index % 3 == 0
                ? try PhotoFixtures.turned(
                    seed: seed, width: 960, height: 1200, orientation: 6, texture: texture, quality: quality)
                : try PhotoFixtures.portrait(seed: seed, width: 960, height: 1200, texture: texture, quality: quality)
            return index % 3 != 0 && index % 5 == 0
                ? PhotoFixtures.withExif(photo, orientation: 1, gps: true, comment: "Studio") : photo
        }
    }

    static let texture = Double(ProcessInfo.processInfo.environment["BENCH_PHOTO_TEXTURE"] ?? "") ?? 40
    static let quality = Int(ProcessInfo.processInfo.environment["BENCH_PHOTO_QUALITY"] ?? "") ?? 99

    /// Resident memory of this process (kB), from /proc.
    static func rssKB() -> Int {
        let status = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ").dropFirst().first ?? "0") ?? 0
        }
        return 0
    }

    static func section() async throws -> String {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent(
            "sb-photo-bench-\(UUID().uuidString)")
        let files = directory.appendingPathComponent("photos")
        try FileManager.default.createDirectory(at: files, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        print("Photos: generating \(count) portraits of 960 × 1200")
        let photos = try photos()
        for (index, photo) in photos.enumerated() {
            try photo.write(to: files.appendingPathComponent(String(format: "photo-%04d.jpg", index + 1)))
        }
        let sizes = photos.map(\.count).sorted()
        let totalMB = Double(sizes.reduce(0, +)) / 1_048_576
        print(
            String(
                format: "  %d files, %.0f MB, %.2f–%.2f MB each", count, totalMB, Double(sizes.first!) / 1_048_576,
                Double(sizes.last!) / 1_048_576))
        if ProcessInfo.processInfo.environment["BENCH_PHOTO_SIZES_ONLY"] != nil { exit(0) }

        // Inspection: type, size, dimensions as displayed, orientation, metadata, and the SHA-256 content hash.
        @Sendable func inspect(_ photo: Data) -> Bool {
            guard case .success = PhotoRules.check(photo) else { return false }
            _ = SHA256.hash(data: photo)
            return true
        }
        precondition(photos.allSatisfy(inspect), "every benchmark photo is valid")
        let inspectOne = time { for photo in photos { _ = inspect(photo) } }
        let inspectAll = time { parallel(count) { _ = inspect(photos[$0]) } }
        let headerOnly = time { for photo in photos { _ = PhotoRules.check(photo) } }
        // Thumbnails (240 × 300 box, DCT-domain scaling + box filter), and storing (orientation applied losslessly,
        // metadata dropped, ICC kept, thumbnail of the stored photo).
        let thumbOne = time {
            for photo in photos { _ = try? TurboJPEG.thumbnail(of: photo, maxWidth: 240, maxHeight: 300) }
        }
        let thumbAll = time {
            parallel(count) { _ = try? TurboJPEG.thumbnail(of: photos[$0], maxWidth: 240, maxHeight: 300) }
        }
        let infos = photos.map { photo -> JPEGInfo in
            guard case .success(let info) = PhotoRules.check(photo) else { fatalError() }
            return info
        }
        let storeOne = time {
            for (photo, info) in zip(photos, infos) { _ = try? PhotoStorage.prepare(photo, info: info) }
        }
        let storeAll = time { parallel(count) { _ = try? PhotoStorage.prepare(photos[$0], info: infos[$0]) } }
        let rate = { (t: (median: Double, samples: [Double])) in Double(count) / t.median }
        print(
            String(
                format:
                    "  inspect %.0f/s (1 core) %.0f/s (all cores); thumbnails %.0f/s / %.0f/s; store %.0f/s / %.0f/s",
                rate(inspectOne), rate(inspectAll), rate(thumbOne), rate(thumbAll), rate(storeOne), rate(storeAll)))

        // Pillow on the same files (draft + thumbnail + save), in the same sitting.
        let pillow = try python(["Benchmarks/pillow_thumbnails.py", files.path, "\(runs)"])
        let pillowMedian = (pillow["median"] as? Double) ?? .nan
        let pillowVersion = (pillow["version"] as? String) ?? "?"
        print(String(format: "  Pillow %@: %.0f/s", pillowVersion, Double(count) / pillowMedian))

        // Upload over HTTP to a real release server, preview, apply.
        let http = try python(["Benchmarks/photo_upload.py", files.path, "\(min(runs, 3))"])
        let zipResult = try await exportBench(photos: photos, directory: directory)

        let f = { (value: Double) in String(format: "%.0f", value) }
        let s = { (value: Double) in String(format: "%.2f", value) }
        let httpRuns = (http["runs"] as? [[String: Any]]) ?? []
        let httpLines = httpRuns.enumerated().map { index, run in
            "- upload run \(index + 1): preview ready after \(s(run["preview"] as? Double ?? .nan)) s, apply "
                + "\(s(run["apply"] as? Double ?? .nan)) s, server memory +\(f((run["rssGrowthKB"] as? Double ?? .nan) / 1024)) MB "
                + "during the upload (\(f((run["rssBeforeKB"] as? Double ?? .nan) / 1024)) → \(f((run["rssPeakKB"] as? Double ?? .nan) / 1024)) MB)"
        }
        return """
            ## Student photos (issue 5)

            `make bench` (BENCH_ONLY=photos for this part alone), release build, this 2-core machine. \(count) generated
            portraits of 960 × 1200 as displayed (every third stored sideways, 1200 × 960 with EXIF orientation 6; every
            fifth of the others with GPS), JPEG quality \(quality), noise \(Int(texture)): \(f(totalMB)) MB, \(String(format: "%.2f–%.2f", Double(sizes.first!) / 1_048_576, Double(sizes.last!) / 1_048_576)) MB
            each. Medians of \(runs) runs of all \(count) files, in one sitting. "1 core" runs the files one after the other;
            "2 cores" spreads them over both cores (the server does that with concurrent uploads).

            | step, all \(count) photos | 1 core: photos/s | 2 cores: photos/s | target |
            |---|---|---|---|
            | inspect: type, size, dimensions as displayed, orientation, metadata, SHA-256 | \(f(rate(inspectOne))) | \(f(rate(inspectAll))) | ≥ 2,000 |
            | … of which the marker walk alone (no hash) | \(f(rate(headerOnly))) | | |
            | thumbnail 240 × 300 (libjpeg-turbo DCT scaling + box filter, encode q85) | \(f(rate(thumbOne))) | \(f(rate(thumbAll))) | ≥ 150 |
            | store: orientation applied losslessly, metadata dropped, ICC kept, + thumbnail | \(f(rate(storeOne))) | \(f(rate(storeAll))) | measured |
            | Pillow \(pillowVersion) (`Image.draft` + `thumbnail` + save q85), same files, 1 core | \(f(Double(count) / pillowMedian)) | | |

            Thumbnails: SchoolBatch (1 core) is \(String(format: "%.2f", pillowMedian / thumbOne.median))× Pillow's speed on the same files.

            | over HTTP, release `schoolbatch serve` on SQLite (demo district) | median | target |
            |---|---|---|
            | upload of the \(count) (PUT, 3 at a time like the page) until the preview is ready | \(s(median(httpRuns.compactMap { $0["preview"] as? Double }))) s | ≤ 5 s |
            | apply (Process → `completed`, in-process worker) | \(s(median(httpRuns.compactMap { $0["apply"] as? Double }))) s | ≤ 5 s |
            | server memory growth during the upload | \(f(median(httpRuns.compactMap { $0["rssGrowthKB"] as? Double }) / 1024)) MB | ≤ 100 MB |

            \(httpLines.joined(separator: "\n"))

            | ZIP export of \(zipResult.photos.formatted()) stored photos, original size | median | target |
            |---|---|---|
            | ZIP written by the export job (\(String(format: "%.0f", zipResult.megabytes)) MB) | \(s(zipResult.median)) s = \(f(zipResult.megabytes / zipResult.median)) MB/s | ≥ 300 MB/s |
            | bench process memory during the export | +\(f(Double(zipResult.rssGrowthKB) / 1024)) MB | flat |

            The ZIP is written by `StreamingZip` (zlib's CRC-32, two writes an entry, the central directory once at the
            end). With ZIPFoundation's `Archive`, which rewrites the central directory and flushes after every entry and
            on Linux computes CRC-32 in Swift, the same export took 9.13 s = 254 MB/s (2026-12-01, same machine).
            Inspection is bound by SHA-256 (about 1.6 GB/s a core with the CPU's SHA instructions); the marker walk
            itself is under 2 µs a photo. Thumbnails and storing are bound by libjpeg-turbo's entropy decoding of
            these high-detail files; storing decodes and re-encodes the coefficients (lossless rotation, metadata
            dropped) and then makes the thumbnail.

            """
    }

    /// Runs a helper script; its last line is JSON.
    static func python(_ arguments: [String]) throws -> [String: Any] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let text = String(decoding: output, as: UTF8.self)
        guard process.terminationStatus == 0,
            let last = text.split(separator: "\n").last,
            let json = try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any]
        else {
            throw CocoaError(
                .fileReadCorruptFile, userInfo: [NSLocalizedDescriptionKey: "\(arguments[0]) failed:\n\(text)"])
        }
        return json
    }

    /// 2,000 students with a stored photo each (the 200 benchmark photos, cleaned, ten students each), one export job
    /// per run at the original size.
    static func exportBench(photos: [Data], directory: URL) async throws -> (
        photos: Int, median: Double, megabytes: Double, rssGrowthKB: Int
    ) {
        let students = 2_000
        let store = Store(backend: try SQLiteBackend(path: directory.appendingPathComponent("export.sqlite").path))
        try await store.migrate()
        let school = School(key: "school-0", schoolID: "0001", name: "School 0")
        try await store.createSchool(school, by: .system)
        try await store.insertNew(
            people: (0..<students).map { n in
                Person(
                    userID: UserID(rawValue: String(format: "%06d", n)), role: .student,
                    loginID: LoginID(rawValue: "p\(n)"),
                    firstName: "First\(n)", lastName: "Last\(n)", grade: "05", schoolKeys: [school.key])
            })
        let blobs = try FileBlobStore(root: directory.appendingPathComponent("blobs"))
        // Each student a file of their own (the cleaned photo plus two bytes after its end), as in a real district.
        for n in 0..<students {
            var photo = photos[n % photos.count]
            guard case .success(let info) = PhotoRules.check(photo) else { fatalError() }
            photo = try PhotoStorage.prepare(photo, info: info).jpeg + Data([UInt8(n & 0xFF), UInt8(n >> 8)])
            let key = try blobs.put(photo)
            try await store.addPhoto(
                userID: UserID(rawValue: String(format: "%06d", n)), blobKey: key, thumbnailKey: key, contentHash: key,
                width: 960, height: 1200, byteSize: photo.count, by: .system)
        }
        let clerk = Account(
            id: "acct-bench", username: "bench", displayName: "Bench", role: .studentRecords, scope: .district)
        try await store.createAccount(clerk, passwordHash: "x", by: .system)
        let engine = BatchEngine(
            store: store, blobs: blobs, handlers: [], exporters: [PhotoExporter()],
            exportDirectory: directory.appendingPathComponent("exports"))
        var samples: [Double] = []
        var megabytes = 0.0
        var growth = 0
        for _ in 0..<3 {
            let before = rssKB()
            let peak = Peak()
            let sampler = Task {
                while !Task.isCancelled { peak.note(rssKB()); try? await Task.sleep(nanoseconds: 20_000_000) }
            }
            let start = ContinuousClock.now
            let batch = try await engine.requestExport(.photoExport, options: "{}", by: clerk)
            let ran = try await JobWorker(engine: engine, name: "bench").runNext()
            precondition(ran)
            samples.append(seconds(ContinuousClock.now - start))
            sampler.cancel()
            let done = try await store.batch(batch.id)
            precondition(done.status == .completed && done.report?.export?.files == students, "\(done.failure ?? "")")
            megabytes = Double(done.report?.export?.bytes ?? 0) / 1_048_576
            growth = max(growth, peak.value - before)
            try? FileManager.default.removeItem(at: engine.exportFile(of: batch.id))
            print(
                String(
                    format: "  export of %d photos: %.2f s, %.0f MB/s, memory +%d MB", students, samples.last!,
                    megabytes / samples.last!, (peak.value - before) / 1024))
        }
        try await store.close()
        return (students, median(samples), megabytes, growth)
    }
}

/// The largest value seen, from any thread.
final class Peak: @unchecked Sendable {
    private let lock = NSLock()
    private var highest = 0
    func note(_ value: Int) { lock.withLock { highest = max(highest, value) } }
    var value: Int { lock.withLock { highest } }
}
