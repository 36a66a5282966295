import BatchCore
import Foundation

/// The student assessment documents batch (SPEC §7) on the shared lifecycle: each uploaded PDF is one item,
/// matched to a student by its file name (or by hand), filed under the batch's document type, school year and
/// term. A student's earlier document in that slot stays as a version; undo makes it current again.
public struct DocumentsHandler: BatchKindHandler {
    public let kind = BatchKind.documents
    public let limits = UploadLimits(maxFileBytes: DocumentBatch.maxFileBytes, maxFiles: DocumentBatch.maxFiles, extensions: [])
    /// Two files for one student conflict: planning one item needs the others.
    public let plansWholeBatch = true

    public init() {}

    public func inspect(fileName: String, bytes: Data, firstItemID: Int64, batch: Batch) throws -> FileInspection {
        FileInspection(
            items: [DocumentBatch.item(fileName: fileName, sha256: FileBlobStore.key(for: bytes), bytes: bytes, id: firstItemID)],
            warnings: [])
    }

    static func options(of batch: Batch) throws -> DocumentBatch.Options {
        guard let options = JSONText.decode(DocumentBatch.Options.self, batch.options) else {
            throw StoreError.corrupt("document batch \(batch.id) has no document type and school year")
        }
        return options
    }

    /// The id the document of an item gets when the batch is applied.
    static func documentID(batch: Batch, item: BatchItem) -> String { "\(batch.id.rawValue)-\(item.id)" }

    static let matcher = FileMatcher(
        candidates: DocumentBatch.candidates(forFileName:),
        namingHint: "19chanw1.pdf, 19chanw1_T1.pdf or “19chanw1 - report.pdf”")

    public func plan(_ items: [BatchItem], batch: Batch, on db: any SQLConnection) throws -> [BatchItem] {
        let options = try Self.options(of: batch)
        var planned = try Self.matcher.match(items, batch: batch, oneOf: "\(options.summary) document", on: db)
        let targets = Set(planned.filter { $0.state == .ready }.compactMap(\.target))

        // What each ready file replaces.
        var current: [String: DocumentRecord] = [:]
        for row in try db.query(chunking: targets.sorted().map { .text($0) }, {
            "SELECT * FROM documents WHERE is_current = TRUE AND user_id IN (\($0))"
        }) {
            let document = try DocumentRecord(row: row)
            if document.documentType == options.documentType, document.schoolYear == options.schoolYear,
                document.term == options.termKey
            {
                current[document.userID.rawValue] = document
            }
        }
        for index in planned.indices where planned[index].state == .ready {
            let item = planned[index]
            let slot = DocumentSlot(
                userID: item.target!, documentType: options.documentType, schoolYear: options.schoolYear, term: options.termKey)
            let old = current[item.target!]
            if let old, old.blobKey == item.input["sha256"] {
                planned[index].state = .unchanged
                continue
            }
            if let old {
                planned[index].issues.append(
                    BatchIssue.warning(
                        "replaces",
                        "Replaces \(old.fileName) (\(old.summary), uploaded by \(old.uploadedByName)); the old one is kept as an earlier version.",
                        fix: "Nothing to do if this is the newer document; skip the file otherwise.",
                        column: "fileName", value: item.fileName
                    ).fromPlanning)
            }
            planned[index].changes = [
                FieldChange(
                    entity: "document", key: slot.key, field: "document", before: old?.documentID,
                    after: Self.documentID(batch: batch, item: item))
            ]
        }

        return planned
    }

    /// Stores the new documents (not yet current): applying the changes then makes them current.
    public func prepareApply(_ items: [BatchItem], batch: Batch, on db: any SQLConnection) throws {
        let options = try Self.options(of: batch)
        let now = Clock.nowMillis()
        for item in items where item.state == .ready {
            guard let target = item.target, let blobKey = item.input["sha256"] else { continue }
            let id = Self.documentID(batch: batch, item: item)
            if try db.first("SELECT document_id FROM documents WHERE document_id = ?", [.text(id)]) != nil { continue }
            try db.execute(
                """
                INSERT INTO documents (document_id, user_id, document_type, school_year, term, title, file_name, blob_key,
                    byte_size, encrypted, is_current, batch_id, uploaded_by, uploaded_by_name, created_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, FALSE, ?, ?, ?, ?)
                """,
                [
                    .text(id), .text(target), .text(options.documentType), .text(options.schoolYear), .text(options.termKey),
                    .optional(options.title), .text(item.fileName), .text(blobKey),
                    .int(Int64(item.input["byteSize"].flatMap(Int64.init) ?? 0)),
                    .bool(item.issues.contains { $0.code == "pdf_encrypted" }), .id(batch.id),
                    .optional(batch.createdBy?.rawValue), .text(batch.createdByName), .int(now),
                ])
        }
    }
}
