import BatchCore
import BatchImaging
import Foundation

/// The student photo batch (SPEC §5.1) on the shared lifecycle: each uploaded JPEG is one item, judged by its
/// content (type, size, dimensions as displayed), matched to a student by its file name (the login ID) or by
/// hand. What is kept is the photo with its orientation applied and without its metadata, plus a thumbnail; the
/// upload itself is not kept. A student's earlier photo stays as a version; undo makes it current again.
public struct PhotosHandler: BatchKindHandler {
    public let kind = BatchKind.photos
    public let limits = UploadLimits(maxFileBytes: Int64(PhotoRules.maxBytes), maxFiles: PhotoRules.maxFiles, extensions: [])
    /// Two files for one student conflict: planning one item needs the others.
    public let plansWholeBatch = true

    public init() {}

    /// The login ID a photo's file name stands for: `19ChanW1.JPG` → `19chanw1` (case, extension, Unicode form and
    /// surrounding spaces ignored).
    public static func loginID(forFileName fileName: String) -> String {
        DocumentBatch.stem(of: fileName).trimmingCharacters(in: .whitespaces).lowercased().nfc
    }

    static let matcher = FileMatcher(candidates: { [PhotosHandler.loginID(forFileName: $0)] }, namingHint: "19chanw1.jpg")

    public func inspect(fileName: String, bytes: Data, firstItemID: Int64, batch: Batch) throws -> FileInspection {
        var input: RowValues = ["fileName": fileName, "sha256": FileBlobStore.key(for: bytes), "byteSize": String(bytes.count)]
        let label = DocumentBatch.stem(of: fileName)
        switch PhotoRules.check(bytes) {
        case .failure(let problems):
            let issues = problems.map {
                BatchIssue.error($0.code, "\(fileName): \($0.message)", fix: $0.fix, column: "fileName", value: fileName)
            }
            let item = BatchItem(id: firstItemID, fileName: fileName, row: nil, input: input, label: label, state: .error, issues: issues)
            // Nothing of an invalid file is kept.
            return FileInspection(items: [item], warnings: [], kept: Data())
        case .success(let info):
            let prepared: PreparedPhoto
            do {
                prepared = try PhotoStorage.prepare(bytes, info: info)
            } catch {
                let issue = BatchIssue.error(
                    "corrupt", "\(fileName): the photo could not be read (\(error)).",
                    fix: "Open it in a photo program and save it again as a JPEG, or copy it again from the source.",
                    column: "fileName", value: fileName)
                let item = BatchItem(id: firstItemID, fileName: fileName, row: nil, input: input, label: label, state: .error, issues: [issue])
                return FileInspection(items: [item], warnings: [], kept: Data())
            }
            input["photoKey"] = FileBlobStore.key(for: prepared.jpeg)
            input["thumbnailKey"] = FileBlobStore.key(for: prepared.thumbnail)
            input["storedBytes"] = String(prepared.jpeg.count)
            input["width"] = String(prepared.width)
            input["height"] = String(prepared.height)
            if info.orientation != 1 { input["orientation"] = String(info.orientation) }
            let item = BatchItem(id: firstItemID, fileName: fileName, row: nil, input: input, label: label, state: .ready)
            return FileInspection(items: [item], warnings: [], kept: prepared.jpeg, derived: [prepared.thumbnail])
        }
    }

    /// The id the photo of an item gets when the batch is applied.
    static func photoID(batch: Batch, item: BatchItem) -> String { "\(batch.id.rawValue)-\(item.id)" }

    public func plan(_ items: [BatchItem], batch: Batch, on db: any SQLConnection) throws -> [BatchItem] {
        var planned = try Self.matcher.match(items, batch: batch, oneOf: "photo", on: db)
        let targets = Set(planned.filter { $0.state == .ready }.compactMap(\.target))
        var current: [String: PhotoRecord] = [:]
        for row in try db.query(chunking: targets.sorted().map { .text($0) }, {
            "SELECT * FROM photos WHERE is_current = TRUE AND user_id IN (\($0))"
        }) {
            let photo = try PhotoRecord(row: row)
            current[photo.userID.rawValue] = photo
        }
        for index in planned.indices where planned[index].state == .ready {
            let item = planned[index]
            let old = current[item.target!]
            if let old, old.blobKey == item.input["photoKey"] {
                planned[index].state = .unchanged
                continue
            }
            planned[index].changes = [
                FieldChange(entity: "photo", key: item.target!, field: "photo", before: old?.photoID, after: Self.photoID(batch: batch, item: item))
            ]
        }
        return planned
    }

    /// Stores the new photo versions (not yet current): applying the changes then makes them current.
    public func prepareApply(_ items: [BatchItem], batch: Batch, on db: any SQLConnection) throws {
        let now = Clock.nowMillis()
        for item in items where item.state == .ready {
            guard let target = item.target, let photoKey = item.input["photoKey"], let thumbnailKey = item.input["thumbnailKey"]
            else { continue }
            let id = Self.photoID(batch: batch, item: item)
            if try db.first("SELECT photo_id FROM photos WHERE photo_id = ?", [.text(id)]) != nil { continue }
            let version = try db.scalarInt("SELECT COALESCE(MAX(version), 0) FROM photos WHERE user_id = ?", [.text(target)]) + 1
            try db.execute(
                """
                INSERT INTO photos (photo_id, user_id, version, is_current, blob_key, thumbnail_key, content_hash, width,
                    height, byte_size, uploaded_by, batch_id, created_at) VALUES (?, ?, ?, FALSE, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    .text(id), .text(target), .int(version), .text(photoKey), .text(thumbnailKey),
                    .text(item.input["sha256"] ?? photoKey), .int(Int64(item.input["width"].flatMap(Int.init) ?? 0)),
                    .int(Int64(item.input["height"].flatMap(Int.init) ?? 0)),
                    .int(Int64(item.input["storedBytes"].flatMap(Int.init) ?? 0)), .text(batch.createdByName), .id(batch.id),
                    .int(now),
                ])
        }
    }
}
