import BatchCore
import BatchImaging
import Foundation

/// The photo group download (SPEC §5.2): the current photos of the chosen students in one ZIP, at the original size
/// or scaled into a box (never enlarged), named by the pattern, with `index.csv` and `missing.csv`.
public struct PhotoExporter: BatchExporter {
    public let kind = BatchKind.photoExport

    public init() {}

    public func check(options: String, scope: AccessScope, store: Store) async throws {
        _ = try await query(for: try Self.request(options), scope: scope, store: store)
    }

    static func request(_ options: String) throws -> PhotoExportRequest {
        guard let request = JSONText.decode(PhotoExportRequest.self, options) else {
            throw StoreError.invalid("The download's settings could not be read.", details: [])
        }
        return request
    }

    /// The students a request selects, as a list query; unknown or out-of-scope groups are named in the error.
    func query(for request: PhotoExportRequest, scope: AccessScope, store: Store) async throws -> PersonQuery {
        var problems = request.problems
        var query = PersonQuery(kind: .students, scope: scope, status: request.userIds.isEmpty ? .active : nil)
        if !request.schoolIds.isEmpty {
            let schools = try await store.schools().filter { scope.allows($0.key) }
            let byID = Dictionary(
                schools.compactMap { s in s.schoolID.map { ($0.rawValue, s.key) } }, uniquingKeysWith: { a, _ in a })
            for id in request.schoolIds where byID[id] == nil {
                problems.append("No school with the school ID “\(id)” is among your schools.")
            }
            query.anyOfSchools = request.schoolIds.compactMap { byID[$0] }
        }
        if !request.classIds.isEmpty {
            let classes = Set(try await store.classes(scope: scope).map(\.schoolClass.classID.rawValue))
            for id in request.classIds where !classes.contains(id) {
                problems.append("No class with the class ID “\(id)” is in your schools.")
            }
            query.anyOfClasses = request.classIds.map(ClassID.init(rawValue:))
        }
        if !request.grades.isEmpty {
            let grades = try await store.settings().gradeLevels
            for grade in request.grades where !grades.contains(grade) {
                problems.append("“\(grade)” is not one of the district's grades (\(grades.joined(separator: ", "))).")
            }
            query.anyOfGrades = request.grades
        }
        query.anyOfPeople = request.userIds.map(UserID.init(rawValue:))
        guard problems.isEmpty else {
            throw StoreError.invalid(
                "The download cannot be made as asked (\(problems.count) problem\(problems.count == 1 ? "" : "s")).",
                details: problems)
        }
        return query
    }

    public func write(
        _ batch: Batch, to url: URL, engine: BatchEngine, progress: @escaping @Sendable (Int, Int) -> Void
    )
        async throws -> ExportSummary
    {
        let request = try Self.request(batch.options)
        let query = try await query(for: request, scope: batch.scope, store: engine.store)
        let (students, photos) = try await engine.store.photos(for: query)
        let blobs = engine.blobs
        let box = request.box
        let entries = photos.map { person, photo in
            GroupZip.Entry(
                person: person, values: [:], ext: "jpg",
                index: ["\(photo.width)", "\(photo.height)", "\(photo.version)"],
                bytes: {
                    guard let original = try blobs.get(photo.blobKey) else { return nil }
                    guard let box else { return original }
                    return try PhotoStorage.resized(original, maxWidth: box.width, maxHeight: box.height)
                })
        }
        let written = try GroupZip.write(
            entries, students: students, pattern: FileNamePattern(request.namePattern),
            folderPerClass: request.folderPerClass,
            indexColumns: ["originalWidth", "originalHeight", "version"], to: url, progress: progress)
        return ExportSummary(
            files: written.files, missing: written.missing, renamed: written.renamed, students: students.count,
            bytes: written.bytes, downloadName: "photos-\(Self.stamp(batch.createdAt)).zip")
    }

    /// `2026-12-01-2130` from a time in milliseconds (UTC), for the download's name.
    static func stamp(_ millis: Int64) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyy-MM-dd-HHmm"
        return formatter.string(from: Date(timeIntervalSince1970: Double(millis) / 1000))
    }
}
