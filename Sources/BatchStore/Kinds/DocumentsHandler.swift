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

    public func plan(_ items: [BatchItem], batch: Batch, on db: any SQLConnection) throws -> [BatchItem] {
        let options = try Self.options(of: batch)
        // Students named by file names (every candidate) or chosen by hand.
        var loginIDs: Set<String> = [], userIDs: Set<String> = []
        for item in items {
            if let manual = item.manualTarget { userIDs.insert(UserID(rawValue: manual).rawValue) }
            for candidate in DocumentBatch.candidates(forFileName: item.fileName) { loginIDs.insert(LoginID(rawValue: candidate).rawValue) }
        }
        let lookup = try StudentLookup.find(userIDs: userIDs, loginIDs: loginIDs, on: db)
        func student(for item: BatchItem) -> Person? {
            let found: Person?
            if let manual = item.manualTarget {
                found = lookup.student(userID: UserID(rawValue: manual).rawValue)
            } else {
                found = DocumentBatch.candidates(forFileName: item.fileName).lazy
                    .compactMap { candidate in
                        lookup.student(loginID: LoginID(rawValue: candidate).rawValue).flatMap {
                            batch.scope.allows(anyOf: $0.schoolKeys) ? $0 : nil
                        }
                    }.first
            }
            guard let found, batch.scope.allows(anyOf: found.schoolKeys) else { return nil }
            return found
        }

        var planned = items.map { item -> BatchItem in
            var item = item
            item.issues.removeAll { $0.planned == true }
            item.changes = []
            if item.state == .skipped { return item }
            if item.hasErrors {
                item.state = .error
                return item
            }
            guard let person = student(for: item) else {
                item.target = nil
                item.state = .unmatched
                item.label = DocumentBatch.stem(of: item.fileName)
                let wanted = item.manualTarget.map { "the userId “\($0)”" }
                    ?? "the login ID “\(DocumentBatch.candidates(forFileName: item.fileName).last ?? item.fileName)”"
                item.issues.append(
                    BatchIssue.error(
                        "unmatched",
                        "\(item.fileName): no student in your schools has \(wanted).",
                        fix: "Choose the student it belongs to, or skip the file. Name files after the student's login ID "
                            + "(19chanw1.pdf, 19chanw1_T1.pdf or “19chanw1 - report.pdf”) to match them automatically.",
                        column: "fileName", value: item.fileName
                    ).fromPlanning)
                return item
            }
            item.target = person.userID.rawValue
            item.label = "\(person.loginID?.rawValue ?? person.userID.rawValue) · \(person.displayName)"
            item.state = .ready
            return item
        }

        // Two files for one student would fight over one slot.
        var byTarget: [String: [Int]] = [:]
        for (index, item) in planned.enumerated() where item.state == .ready { byTarget[item.target!, default: []].append(index) }
        for (_, indices) in byTarget where indices.count > 1 {
            let names = indices.map { planned[$0].fileName }
            for index in indices {
                planned[index].state = .error
                planned[index].issues.append(
                    BatchIssue.error(
                        "conflict",
                        "\(names.count) files are for \(planned[index].label): \(names.joined(separator: ", ")). A student has one "
                            + "\(options.summary) document.",
                        fix: "Skip the files you don't want, or match them to the right students.",
                        column: "fileName", value: planned[index].fileName
                    ).fromPlanning)
            }
        }

        // What each ready file replaces.
        let targets = Array(byTarget.keys)
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

        // Up to three students an unmatched file may be about (kept from an earlier plan: they cost queries).
        for index in planned.indices {
            if planned[index].state != .unmatched {
                planned[index].suggestions = []
            } else if planned[index].suggestions.isEmpty {
                planned[index].suggestions = try Self.suggestions(for: planned[index].fileName, scope: batch.scope, on: db)
            }
        }
        return planned
    }

    /// Students whose login IDs are closest to the file name, found by ever shorter login ID prefixes.
    static func suggestions(for fileName: String, scope: AccessScope, on db: any SQLConnection) throws -> [Suggestion] {
        guard let wanted = DocumentBatch.candidates(forFileName: fileName).last, wanted.count >= 3 else { return [] }
        var found: [String: PersonListRow] = [:]
        let characters = Array(wanted)
        for length in Set([characters.count, max(characters.count - 2, 3), 3]).sorted(by: >) where found.count < 3 {
            var query = PersonQuery(kind: .students, scope: scope, limit: 25)
            query.loginIDPrefix = String(characters.prefix(length))
            for row in try Store.people(db, query).items { found[row.person.userID.rawValue] = row }
        }
        return found.values
            .map { row in (row, Similarity.distance(row.person.loginID?.rawValue ?? "", wanted)) }
            .sorted { ($0.1, $0.0.person.userID.rawValue) < ($1.1, $1.0.person.userID.rawValue) }
            .prefix(3)
            .map { row, _ in
                Suggestion(
                    userId: row.person.userID.rawValue,
                    label: ([row.person.loginID?.rawValue ?? row.person.userID.rawValue, row.person.displayName]
                        + row.classNames.prefix(2)).joined(separator: " · "))
            }
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

    public func lockKeys(_ items: [BatchItem], on db: any SQLConnection) throws -> Set<String> {
        try StudentLookup.schoolKeys(ofPeople: items.compactMap(\.target), on: db)
    }
}
