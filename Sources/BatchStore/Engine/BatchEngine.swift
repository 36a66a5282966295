import BatchCore
import Foundation
import Logging

/// The one road every batch walks: receive files → inspect → plan → preview and fix by hand → submit → apply in
/// a background job → report → undo. Kinds plug in a `BatchKindHandler`; everything else is here, once.
public final class BatchEngine: Sendable {
    public let store: Store
    public let blobs: any BlobStore
    public let timing: JobTiming
    public let progress = ProgressBoard()
    /// Plans kept in memory from receive to apply, for a caller that applies in this process (the command line).
    let keptPlans = KeptPlans()
    let handlers: [BatchKind: any BatchKindHandler]
    let exporters: [BatchKind: any BatchExporter]
    /// Where finished downloads wait to be fetched (`{batchId}.zip`).
    public let exportDirectory: URL
    let logger: Logger

    public init(
        store: Store, blobs: any BlobStore, handlers: [any BatchKindHandler], exporters: [any BatchExporter] = [],
        exportDirectory: URL = FileManager.default.temporaryDirectory.appendingPathComponent("schoolbatch-exports"),
        timing: JobTiming = JobTiming(), logger: Logger = Logger(label: "schoolbatch.engine")
    ) {
        self.store = store
        self.blobs = blobs
        self.timing = timing
        self.logger = logger
        self.handlers = Dictionary(handlers.map { ($0.kind, $0) }, uniquingKeysWith: { first, _ in first })
        self.exporters = Dictionary(exporters.map { ($0.kind, $0) }, uniquingKeysWith: { first, _ in first })
        self.exportDirectory = exportDirectory
        // Its items' rows are read from the files it keeps (`StoredInput`).
        KeptFiles.register(blobs)
    }

    /// The kinds this version can run.
    public var availableKinds: [BatchKind] { BatchKind.allCases.filter { handlers[$0] != nil } }

    public func handler(for kind: BatchKind) throws -> any BatchKindHandler {
        guard let handler = handlers[kind] else {
            throw StoreError.conflict("\(kind.label) batches are not available in this version of SchoolBatch yet.")
        }
        return handler
    }

    /// What a received file did to its batch.
    public struct Received: Sendable {
        public var file: BatchFile
        public var counts: ItemCounts
    }

    /// Adds one file (already on disk, within the kind's limits) to a draft batch: reads it, plans its items
    /// against the current data and stores both. A file that cannot be used throws `FileRejection` and nothing of
    /// it is kept.
    public func receive(fileName: String, contentsOf url: URL, into batch: Batch, by actor: Actor) async throws -> Received {
        try await receive(files: [(fileName, url)], into: batch, by: actor)[0]
    }

    /// Adds several files at once (a roster's users.csv and demographics.csv): each is read, then the batch is
    /// planned once with all of them. A file that cannot be used throws `FileRejection` and none of them is kept.
    /// `holdingPlan`: the caller will submit and apply the batch in this process (the command line): the plan's
    /// changes are also held in memory, and the apply takes them from there instead of reading them back while
    /// the stored plan is still that one.
    public func receive(files: [(fileName: String, url: URL)], into batch: Batch, by actor: Actor, holdingPlan: Bool = false) async throws
        -> [Received]
    {
        guard batch.status == .draft else {
            throw StoreError.conflict(
                "Files can only be added while a batch is a draft; this one is \(batch.status.words). Start a new batch.")
        }
        let handler = try handler(for: batch.kind)
        let existing = try await store.files(of: batch.id)
        guard existing.count + files.count <= handler.limits.maxFiles else {
            throw StoreError.conflict(
                "This batch already has \(existing.count) file\(existing.count == 1 ? "" : "s"), the most a "
                    + "\(batch.kind.label.lowercased()) batch takes is \(handler.limits.maxFiles). Cancel it and start a new batch to use another file.")
        }
        struct Read: Sendable {
            var name: String
            var size: Int64
            var blobKey: String
            var inspected: FileInspection
        }
        var reads: [Read] = []
        var clock = PhaseClock(logger, "receive \(batch.id)")
        for (fileName, url) in files {
            let name = SafeFileName.display(fileName)
            let ext = (name as NSString).pathExtension.lowercased()
            guard handler.limits.extensions.isEmpty || handler.limits.extensions.contains(ext) else {
                throw FileRejection(
                    fileName: name,
                    issues: [
                        .error(
                            "wrong_file_type",
                            "\(name) is not a .\(handler.limits.extensions.joined(separator: " or ."))) file.",
                            fix: "Upload a \(handler.limits.extensions.map { ".\($0)" }.joined(separator: " or ")) file.")
                    ])
            }
            let bytes = try Data(contentsOf: url, options: .alwaysMapped)
            let inspected: FileInspection, staged: StagedBlob?
            if handler.keepsUploadAsIs {
                // Its hash and synced write beside the checks; a file the checks refuse is not kept.
                let blobs = blobs
                let (written, checked) = Parallel.both(waiting: { Result { try blobs.stage(bytes) } }) {
                    Result { try handler.inspect(fileName: name, bytes: bytes, firstItemID: 1, batch: batch) }
                }
                do {
                    inspected = try checked.get()
                } catch {
                    if case .success(let unused) = written { blobs.discard(unused) }
                    throw error
                }
                staged = try written.get()
                clock.step("read and check \(name) while writing it")
            } else {
                inspected = try handler.inspect(fileName: name, bytes: bytes, firstItemID: 1, batch: batch)
                staged = nil
                clock.step("read and check \(name)")
            }
            let blobKey: String
            if let staged, inspected.kept == nil {
                blobKey = try blobs.commit(staged)
            } else {
                if let staged { blobs.discard(staged) }
                blobKey = try blobs.put(inspected.kept ?? bytes)
            }
            for extra in inspected.derived { _ = try blobs.put(extra) }
            reads.append(Read(name: name, size: Int64(bytes.count), blobKey: blobKey, inspected: inspected))
            clock.step("keep \(name)")
        }
        // The inspected rows go to the transaction below in a box it empties, so that once they are numbered into
        // the batch's items they are not kept beside them (at state size an array of 1.6 million items is a quarter
        // of a gigabyte, their cells shared).
        let inspectedItems = Handoff(reads.map(\.inspected.items))
        for index in reads.indices { reads[index].inspected.items = [] }
        let received = reads
        let logger = logger
        defer {
            // Whatever is left of the inspected rows is freed off the caller's path.
            Parallel.release(inBackground: inspectedItems.take())
            reads = []
        }
        let stored = try await store.backend.write { db -> [Received] in
            var clock = PhaseClock(logger, "receive \(batch.id)")
            guard try Store.lockedBatch(db, batchID: batch.id)?.status == .draft else {
                throw StoreError.conflict("The batch was submitted or cancelled while the file was uploading.")
            }
            // Before the plan reads anything: the version its plan holds at (`Store.markPlanned`).
            let version = try Store.dataVersion(db)
            // Whether the batch had no items before these (only then is a plan of these items a plan of it all).
            let firstFiles = try db.scalarInt("SELECT COUNT(*) FROM batch_files WHERE batch_id = ?", [.id(batch.id)]) == 0
            var next = try Store.nextItemID(db, batchID: batch.id)
            var items: [BatchItem] = []
            var ranges: [Range<Int>] = []
            // The whole batch as planned, when the kind plans it whole: its counts are then found in memory.
            var whole: [BatchItem]?
            // Several files' items go into one array: the first file's own, with room made once for the others'.
            var inspectedLists = inspectedItems.take() ?? []
            let total = inspectedLists.reduce(0) { $0 + $1.count }
            for position in inspectedLists.indices {
                let start = items.count
                let inspected = inspectedLists[position]
                inspectedLists[position] = []
                if position == 0, inspected.first?.id == next, inspected.last?.id == next + Int64(inspected.count) - 1 {
                    // Already numbered from here (the first file of a new batch): the same array, not a copy; made
                    // room in for the other files' items (a move of the items, not a copy of each).
                    items = consume inspected
                    items.reserveCapacity(total)
                    next += Int64(items.count)
                } else {
                    if items.isEmpty { items.reserveCapacity(total) }
                    for var item in inspected {
                        item.id = next
                        next += 1
                        items.append(item)
                    }
                    // (Copied into `items`: let go off the writer's path.)
                    Parallel.release(inBackground: consume inspected)
                }
                ranges.append(start..<items.count)
            }
            var columns: [String: [String]] = [:]
            for read in received { if let names = read.inspected.columns { columns[read.name] = names } }
            // The files kept as uploaded: their items whose rows are spans of them are stored as those spans. A name
            // received twice at once (two folders' users.csv) names no one file: those rows keep their cells.
            var asUploaded: [String: String] = [:]
            if handler.keepsUploadAsIs {
                let names = Dictionary(received.map { ($0.name, 1) }, uniquingKeysWith: +)
                for read in received where read.inspected.kept == nil && names[read.name] == 1 { asUploaded[read.name] = read.blobKey }
            }
            // The token of the plan whose changes are held for the apply in this process (`holdingPlan`).
            var keptToken: String?
            if handler.plansWholeBatch {
                // (In a block of its own: past it, `whole` holds the only reference to the planned items, which the
                // held plan then takes.)
                do {
                    // The earlier files are planned again with the new ones (two files for one student conflict).
                    let earlier = try Store.loadItems(db, batchID: batch.id)
                    clock.step("load \(earlier.count) earlier items")
                    // (Without earlier items, the new ones as they are: `earlier + items` would copy 1.6 million
                    // items.) The items are handed to the planner, which then plans them in place: no reference is
                    // kept here.
                    let toPlan = earlier.isEmpty ? items : earlier + items
                    items = []
                    // Which files' items are stored as spans of the file as uploaded is known before the plan, which
                    // then lets their cells go.
                    let saved = try Store.saveInputColumns(db, batchID: batch.id, columns, files: asUploaded)
                    let planned = try handler.planForStoring(consume toPlan, spanned: saved.spanned, batch: batch, on: db)
                    clock.step("plan \(planned.count) items")
                    try Store.storePlannedAgain(db, batchID: batch.id, stored: earlier, planned: planned)
                    items = earlier.isEmpty ? planned : Array(planned.dropFirst(earlier.count))
                    whole = planned
                    // The per-entity counts and the digest are counted beside the storing, in the time its writer and
                    // the building of its rows leave.
                    let counter = try handler.entityCounter(planned, on: db)
                    // The two on threads of their own, both below the writer: once it has stored the rows, the cores'
                    // time goes to both at once, not to the one left counting alone.
                    let (summary, _) = try Parallel.both(yielding: {
                        Parallel.both(yielding: { Self.digest(planned, handler, dataVersion: version) }) { counter() }
                    }) {
                        try Store.insertItems(db, batchID: batch.id, items: items, saved: saved)
                    }
                    try Store.saveEntityCounts(db, batchID: batch.id, summary.1)
                    try Store.saveIssueKinds(db, batchID: batch.id, IssueKind.tally(planned))
                    try Store.savePlanDigest(db, batchID: batch.id, summary.0)
                    if holdingPlan { keptToken = summary.0.token }
                    try Store.markPlanned(db, batchID: batch.id, version: version)
                    clock.step("store \(items.count) items, entity counts")
                }
            } else {
                items = try handler.plan(items, batch: batch, on: db)
                try Store.savePlanDigest(db, batchID: batch.id, nil)
                try Store.saveIssueKinds(db, batchID: batch.id, nil)
                clock.step("plan \(items.count) items")
                try Store.insertItems(db, batchID: batch.id, items: items, columns: columns, files: asUploaded)
                clock.step("store \(items.count) items")
                // Only the new files' items were planned: the batch counts as planned now only when they are all of it.
                if firstFiles { try Store.markPlanned(db, batchID: batch.id, version: version) }
            }
            let now = Clock.nowMillis()
            var files: [BatchFile] = []
            for (read, range) in zip(received, ranges) {
                let fileID = UUID().uuidString.lowercased()
                try db.execute(
                    """
                    INSERT INTO batch_files (file_id, batch_id, file_name, blob_key, byte_size, item_count, issues, created_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """,
                    [
                        .text(fileID), .id(batch.id), .text(read.name), .text(read.blobKey), .int(read.size),
                        .int(Int64(range.count)), .text(JSONText.encode(read.inspected.warnings)), .int(now),
                    ])
                try Store.appendAudit(
                    db, actor: actor, action: "batch.file_added", targetType: "batch", targetID: batch.id.rawValue,
                    batchID: batch.id, changes: [.init(field: "file", before: nil, after: "\(read.name) (\(range.count) rows)")])
                files.append(
                    BatchFile(
                        id: fileID, fileName: read.name, blobKey: read.blobKey, byteSize: read.size, itemCount: range.count,
                        issues: read.inspected.warnings, createdAt: now))
            }
            let counts = try whole.map { try Store.saveCounts(db, batchID: batch.id, ItemCounts($0)) } ?? Store.refreshCounts(db, batchID: batch.id)
            items = []
            if let keptToken, let planned = whole.take() {
                // The held plan takes the planned items, the only reference left to them: their changes are moved
                // out of them into one array (not copied beside them: at state size 2 million changes, 170 MB at
                // the apply's start, docs/decisions.md, round 27), on another thread while the receive commits,
                // and the rest of them freed there; the apply waits for the changes.
                let handoff = Handoff(consume planned)
                self.keptPlans.hold(batch.id, token: keptToken) { Self.readyChanges(taking: handoff.take() ?? []) }
            } else {
                // The planned items are freed off the writer's path.
                Parallel.release(inBackground: whole.take())
            }
            clock.step("files and counts")
            return files.map { Received(file: $0, counts: counts) }
        }
        // PostgreSQL plans each query of a batch's items by what its statistics say of the table, and until it
        // gathers them again (autovacuum, a minute or so later) they know nothing of a batch just stored: reading a
        // state-size batch's changes in pages of 20,000 (an undo) then sorted 800,000 rows on disk for each page, 0.7 s
        // a page instead of 10 ms (an undo 78–85 s instead of 32 s). A large batch has them gathered at once (0.3 s).
        if (stored.first?.counts.total ?? 0) >= Self.analyzeItemsFrom {
            var clock = PhaseClock(logger, "receive \(batch.id)")
            await analyzeOnPostgres("batch_items")
            clock.step("PostgreSQL's statistics of the items")
        }
        return stored
    }

    /// The batch size (items, or changes) from which PostgreSQL's statistics are gathered again after a receive and
    /// before an undo.
    static let analyzeItemsFrom = 10_000

    /// On PostgreSQL, gathers the statistics of `tables` again, in a transaction of its own. They only guide the
    /// planner: a failure is logged, and whatever asked goes on.
    func analyzeOnPostgres(_ tables: String) async {
        guard store.backend.dialect == .postgres else { return }
        do {
            try await store.backend.write { db in _ = try db.execute("ANALYZE \(tables)", []) }
        } catch {
            logger.warning("PostgreSQL's statistics of \(tables) could not be gathered: \(error)")
        }
    }

    /// Plans a draft batch again against the data as it is now: "Check the file again" on a preview made before the
    /// data last changed (`Store.previewIsStale`), and Process on such a draft.
    @discardableResult
    public func replan(_ batch: Batch, by actor: Actor) async throws -> ItemCounts {
        let handler = try handler(for: batch.kind)
        return try await store.backend.write { db in
            // Still a draft: not planned again under a submit that came first.
            let status = try Store.lockedBatch(db, batchID: batch.id)?.status ?? batch.status
            guard status == .draft else {
                throw StoreError.conflict("Only a draft's preview can be checked again; this batch is \(status.words).")
            }
            let version = try Store.dataVersion(db)
            let items = try Store.loadItems(db, batchID: batch.id)
            try Self.storeWholePlan(
                try handler.plan(items, batch: batch, on: db), of: items, batch: batch, handler: handler, version: version, on: db)
            try Store.appendAudit(
                db, actor: actor, action: "batch.rechecked", targetType: "batch", targetID: batch.id.rawValue, batchID: batch.id,
                changes: [])
            return try Store.refreshCounts(db, batchID: batch.id)
        }
    }

    /// Stores a draft's every item planned again (`planned`, from `items` as they were): the items whose plan
    /// changed (and `decided`, an item a person just decided on), the counts per entity, the kinds of issue, the
    /// digest Process reads, and the data version it was all planned at.
    static func storeWholePlan(
        _ planned: [BatchItem], of items: [BatchItem], batch: Batch, handler: any BatchKindHandler, decided: Int64? = nil,
        version: Int64, on db: any SQLConnection
    ) throws {
        try Store.storePlannedAgain(db, batchID: batch.id, stored: items, planned: planned, decided: decided)
        try Store.saveEntityCounts(db, batchID: batch.id, handler.entityCounts(planned, on: db))
        try Store.saveIssueKinds(db, batchID: batch.id, IssueKind.tally(planned))
        try Store.savePlanDigest(db, batchID: batch.id, digest(planned, handler, dataVersion: version))
        try Store.markPlanned(db, batchID: batch.id, version: version)
    }

    /// What a page's submit is refused with when the draft's preview, made before the data last changed, comes out
    /// different once planned again: the person confirmed a preview Process would no longer follow.
    public struct PreviewChanged: Error, Sendable {}

    /// Plans a draft again when its preview was made before the data last changed (`Store.previewIsStale`); returns
    /// whether its preview then differs (its counts of items or per entity).
    @discardableResult
    public func refreshIfStale(_ batch: Batch, by actor: Actor) async throws -> Bool {
        guard try await store.previewIsStale(batch) else { return false }
        do {
            try await replan(batch, by: actor)
        } catch StoreError.conflict {
            // Submitted meanwhile (a second press of Process): that submit's own check stands.
            return false
        }
        let now = try await store.batch(batch.id)
        return now.counts != batch.counts || now.entityCounts != batch.entityCounts
    }

    /// A person's decision on one item of a draft batch: match it to a student, or skip it.
    public func resolve(itemID: Int64, of batch: Batch, target: String?, skip: Bool, by actor: Actor) async throws
        -> BatchItem
    {
        guard batch.status == .draft else {
            throw StoreError.conflict("Items can only be changed while the batch is a draft; this one is \(batch.status.words).")
        }
        let handler = try handler(for: batch.kind)
        return try await store.backend.write { db in
            guard try Store.lockedBatch(db, batchID: batch.id)?.status == .draft else {
                throw StoreError.conflict("Items can only be changed while the batch is a draft; this one has been submitted.")
            }
            let version = try Store.dataVersion(db)
            guard var item = try Store.item(db, batchID: batch.id, itemID: itemID, inputs: StoredInput(db, batchID: batch.id)) else {
                throw StoreError.notFound("This batch has no item \(itemID).")
            }
            let before = item.manualTarget
            if skip {
                item.manualTarget = nil
                item.state = .skipped
            } else {
                item.manualTarget = target
                if item.state == .skipped { item.state = .ready }
            }
            if handler.plansWholeBatch {
                var items = try Store.loadItems(db, batchID: batch.id)
                if let index = items.firstIndex(where: { $0.id == itemID }) { items[index] = item }
                let planned = try handler.plan(items, batch: batch, on: db)
                try Self.storeWholePlan(planned, of: items, batch: batch, handler: handler, decided: itemID, version: version, on: db)
                item = planned.first { $0.id == itemID } ?? item
            } else {
                item = try handler.plan([item], batch: batch, on: db).first ?? item
                try Store.updateItem(db, batchID: batch.id, item: item)
                try Store.savePlanDigest(db, batchID: batch.id, nil)
                try Store.saveIssueKinds(db, batchID: batch.id, nil)
            }
            try Store.refreshCounts(db, batchID: batch.id)
            try Store.appendAudit(
                db, actor: actor, action: skip ? "batch.item_skipped" : "batch.item_matched", targetType: "batch_item",
                targetID: "\(batch.id.rawValue)/\(itemID)", batchID: batch.id,
                changes: [.init(field: "match", before: before, after: skip ? "skip" : target)])
            return item
        }
    }

    /// Submits a draft (or failed) batch for applying. Submitting a batch that is already queued, running or done
    /// changes nothing and answers with the batch as it is.
    /// `refuseChangedPreview`: a person confirmed the preview they saw (the page): when the draft, planned again
    /// because the data changed after it was made, previews differently, nothing is queued (`PreviewChanged`).
    public func submit(
        _ batchID: BatchID, confirm: Bool, allowMassChanges: Bool, refuseChangedPreview: Bool = false, by actor: Actor
    ) async throws -> Batch {
        guard confirm else {
            throw StoreError.conflict("Confirm that you want to apply this batch (send \"confirm\": true).")
        }
        let current = try await store.batch(batchID)
        // A download is queued when it is made.
        if current.kind.isExport { return current }
        // A preview made before the data last changed is planned again first, so that the mass-change guard and
        // "nothing would change" below judge the batch as it would now apply. Otherwise it is not planned again
        // here: the apply writes the kept plan while the data is still at its version, and plans every item again
        // inside its transaction when not (a batch queued behind another).
        if try await refreshIfStale(current, by: actor), refuseChangedPreview { throw PreviewChanged() }
        let handler = try handler(for: current.kind)
        let maxAttempts = timing.maxAttempts
        let logger = logger
        return try await store.backend.write { db in
            guard let batch = try Store.lockedBatch(db, batchID: batchID) else {
                throw StoreError.notFound("That batch does not exist.")
            }
            switch batch.status {
            case .queued, .processing, .completed, .completedWithErrors: return batch
            case .draft, .failed: break
            default:
                throw StoreError.conflict(BatchTransitionError(from: batch.status, to: .queued).message)
            }
            var clock = PhaseClock(logger, "submit \(batchID)")
            // The counts stored with the items: every change of the items stores them in its own transaction. Counted
            // again only for a batch stored without them (a state-size roster's 1.6 million items counted took 0.7 s
            // on PostgreSQL).
            let counts = batch.counts.total > 0 ? batch.counts : try Store.refreshCounts(db, batchID: batchID)
            clock.step("counts")
            if counts.unmatched > 0 {
                throw StoreError.conflict(
                    "\(counts.unmatched) item\(counts.unmatched == 1 ? " is" : "s are") not matched to a student yet. "
                        + "Match \(counts.unmatched == 1 ? "it" : "them") by hand or skip \(counts.unmatched == 1 ? "it" : "them"), then submit again.")
            }
            guard counts.ready > 0 else {
                throw StoreError.conflict(
                    "Nothing in this batch would change anything (\(counts.unchanged) unchanged, \(counts.error) with "
                        + "errors). Correct the errors and upload the file again, or cancel the batch.")
            }
            // Kept with the whole batch's plan; otherwise found from the ready items.
            let digest: PlanDigest
            if let kept = try Store.planDigest(db, batchID: batchID) {
                digest = kept
                clock.step("read the plan's digest")
            } else {
                let items = try Store.loadItems(db, batchID: batchID, state: .ready, columns: handler.lockKeyColumns)
                digest = PlanDigest(changedExisting: PlanDigest.changedExisting(items), lockScope: handler.lockScope(items))
                clock.step("load \(items.count) ready items")
            }
            if !allowMassChanges, let warning = try Self.massChange(digest.changedExisting, on: db) {
                throw StoreError.conflict(warning)
            }
            clock.step("mass-change guard")
            let keys = try Self.lockKeys(digest.lockScope, on: db)
            clock.step("lock keys")
            try Store.enqueue(db, batchID: batchID, action: .apply, lockKeys: keys, maxAttempts: maxAttempts)
            let now = Clock.nowMillis()
            try db.execute(
                """
                UPDATE batches SET status = 'queued', submitted_at = ?, failure = NULL, progress_done = 0,
                    progress_total = ?, updated_at = ? WHERE batch_id = ?
                """, [.int(now), .int(Int64(counts.ready)), .int(now), .id(batchID)])
            try Store.appendAudit(
                db, actor: actor, action: "batch.queued", targetType: "batch", targetID: batchID.rawValue,
                batchID: batchID, changes: [.init(field: "status", before: batch.status.rawValue, after: "queued")])
            var queued = batch
            queued.status = .queued
            queued.submittedAt = now
            queued.counts = counts
            return queued
        }
    }

    /// The mass-change guard (SPEC §4.4): a batch that removes, or changes a field of, more than `changeThreshold`
    /// percent of the existing records of any entity needs explicit approval.
    static func massChange(_ changedExisting: [String: Int], on db: any SQLConnection) throws -> String? {
        let threshold = try db.scalarInt("SELECT change_threshold FROM district_settings WHERE id = 1")
        let tables: [(entity: String, table: String, words: String)] = [
            ("person", "people", "people"), ("school", "schools", "schools"), ("class", "classes", "classes"),
            ("enrollment", "enrollments", "enrollments"), ("demographics", "demographics", "students' demographics"),
        ]
        for (entity, table, words) in tables {
            let changed = changedExisting[entity] ?? 0
            guard changed > 0 else { continue }
            let existing = try db.scalarInt("SELECT COUNT(*) FROM \(table)")
            guard existing > 0, Int64(changed) * 100 > threshold * existing else { continue }
            return "This batch changes or removes \(changed) of the district's \(existing) \(words), more than the \(threshold)% "
                + "the district allows without a second look. Check the preview, then confirm again with "
                + "\"Allow mass changes\" (API: allowMassChanges: true; command line: --allow-mass-changes)."
        }
        return nil
    }

    /// What Process keeps of a whole planned batch: its ready items' changed records and lock scope.
    /// The data version it was planned at lets the apply write the kept plan while nothing has changed since.
    static func digest(_ planned: [BatchItem], _ handler: any BatchKindHandler, dataVersion: Int64) -> PlanDigest {
        // Not copied when every item is ready (a first import): a copy of 1.6 million items is seconds of retains.
        // Otherwise only the ready ones are copied: `filter` copied each item to ask it (a re-import's 1.6 million
        // items retained and released once more, for 50,000 kept).
        let ready =
            planned.indices.allSatisfy { planned[$0].state == .ready }
            ? planned : planned.indices.filter { planned[$0].state == .ready }.map { planned[$0] }
        return PlanDigest(
            changedExisting: PlanDigest.changedExisting(ready), lockScope: handler.lockScope(ready), dataVersion: dataVersion,
            token: UUID().uuidString)
    }

    /// The changes of the ready items in item order: what an apply of the plan writes. The items are the caller's
    /// last reference to them: each item's list of changes is taken out of it, the items are freed (at state size 1.6
    /// million, 300 MB for their array alone), and the lists are then joined into one array of exactly their number
    /// (one grown by appending has room for up to twice as many), each freed once joined. This runs on a thread of
    /// its own while the receive commits (`KeptPlans.hold`).
    static func readyChanges(taking planned: consuming [BatchItem]) -> [FieldChange] {
        // What the items hold is freed here, before the joined array is made: freed on another thread meanwhile,
        // they were still held while the joined array (170 MB at state size) was filled, the peak of a first import
        // (its peak, alternate runs: 1,307 / 1,254 / 1,278 → 1,206 / 1,218 / 1,176 MB; the apply then waits
        // 0.27–0.30 s for the changes instead of 0.07–0.19 s, docs/decisions.md round 37). Each item gives up its
        // changes and is freed in its place, on every core, and only the emptied array is let go of on another
        // thread: the items freed one after the other, then their array, were 0.3 s the apply waited for with the
        // other core idle (round 42). Each piece's filler has a column list of its own (one list counted from both
        // cores at once costs many times more).
        // Where few items change (a re-import: 54,000 changes among 1.6 million items), the joined array is small:
        // only the ready items' lists are taken, and the items let go of whole on another thread (freed in place,
        // with a list taken from each item, the apply waited 0.13–0.19 s for the changes; 0.03–0.05 s now).
        var items = consume planned
        let freeInPlace = items.withUnsafeBufferPointer { items in
            var ready = 0
            for index in items.indices where items[index].state == .ready { ready += 1 }
            return ready >= items.count / 8
        }
        var lists: [[FieldChange]] = []
        if freeInPlace {
            lists = Parallel.take(&items, state: { BatchItem.newFiller() }) { filler, item -> [FieldChange] in
                var changes: [FieldChange] = []
                if item.state == .ready { swap(&changes, &item.changes) }
                item = filler
                return changes
            }
        } else {
            for index in items.indices where items[index].state == .ready {
                lists.append([])
                swap(&lists[lists.count - 1], &items[index].changes)
            }
        }
        Parallel.release(inBackground: items)
        // Each list's changes are moved, not copied (four million counts of references changed for a state-size
        // first import).
        return .joined(moving: &lists) { FieldChange(entity: "", key: "", field: "", before: nil, after: nil) }
    }

    /// At most one batch's planned changes, held from its receive to its apply in the same process.
    final class KeptPlans: @unchecked Sendable {
        private let lock = NSLock()
        private var held: (batchID: BatchID, token: String, changes: InBackground<[FieldChange]>)?

        /// Holds the changes `gather` makes, gathered on another thread from now on.
        func hold(_ batchID: BatchID, token: String, gathering gather: @escaping @Sendable () -> [FieldChange]) {
            let changes = InBackground(gather)
            lock.lock()
            held = (batchID, token, changes)
            lock.unlock()
        }

        /// The changes held for the batch if they are those of the plan with `token`; whatever is held for the
        /// batch is let go either way.
        func take(_ batchID: BatchID, token: String?) -> [FieldChange]? {
            lock.lock()
            defer { lock.unlock() }
            guard let kept = held, kept.batchID == batchID else { return nil }
            held = nil
            return kept.token == token ? kept.changes.take() : nil
        }
    }

    /// The lock keys of a scope: the keys of the schools it names (a school not created yet locks its ID: two
    /// batches creating it wait for each other) and of the schools of the people it changes.
    static func lockKeys(_ scope: LockScope, on db: any SQLConnection) throws -> Set<String> {
        var keys: Set<String> = [], found: Set<String> = []
        for row in try db.query(chunking: scope.schoolIDs.map { .text($0) }, { "SELECT school_key, school_id FROM schools WHERE school_id IN (\($0))" }) {
            keys.insert(try row.text("school_key"))
            found.insert(try row.text("school_id"))
        }
        for id in scope.schoolIDs where !found.contains(id) { keys.insert("new-school:" + id) }
        // (When nobody belongs to a school yet, a district's first roster, its 206,000 people are not asked about.)
        if !scope.people.isEmpty, try !db.query("SELECT 1 FROM person_schools LIMIT 1").isEmpty {
            keys.formUnion(try StudentLookup.schoolKeys(ofPeople: scope.people, on: db))
        }
        return keys
    }

    /// Cancels a draft or queued batch.
    /// `reason`: why, kept as the batch's failure for its page (a file refused at upload leaves a batch with nothing in it).
    public func cancel(_ batchID: BatchID, by actor: Actor, reason: String? = nil) async throws -> Batch {
        var batch = try await store.transition(batchID, to: .cancelled, by: actor)
        try await store.backend.write { db in
            try db.execute(
                "UPDATE jobs SET status = 'cancelled', updated_at = ? WHERE batch_id = ? AND status = 'queued'",
                [.int(Clock.nowMillis()), .id(batchID)])
            if let reason { try db.execute("UPDATE batches SET failure = ? WHERE batch_id = ?", [.text(reason), .id(batchID)]) }
        }
        if let reason { batch.failure = reason }
        return batch
    }

    /// Queues the undo of a completed batch.
    public func requestUndo(_ batchID: BatchID, by actor: Actor) async throws -> Batch {
        let maxAttempts = timing.maxAttempts
        return try await store.backend.write { db in
            guard let row = try db.first("SELECT * FROM batches WHERE batch_id = ?", [.id(batchID)]) else {
                throw StoreError.notFound("That batch does not exist.")
            }
            var batch = try Batch(row: row)
            if batch.kind.isExport {
                throw StoreError.conflict("A download changes no data, so there is nothing to undo.")
            }
            if batch.status == .undoing || batch.status == .undone { return batch }
            if case .failure(let error) = batch.status.transition(to: .undoing) {
                throw StoreError.conflict(error.message)
            }
            let keys = try db.query(
                "SELECT DISTINCT lock_key FROM job_locks l JOIN jobs j ON j.job_id = l.job_id WHERE j.batch_id = ?",
                [.id(batchID)]
            ).compactMap { $0.optionalText("lock_key") }
            try Store.enqueue(db, batchID: batchID, action: .undo, lockKeys: Set(keys), maxAttempts: maxAttempts)
            let now = Clock.nowMillis()
            try db.execute(
                "UPDATE batches SET status = 'undoing', updated_at = ? WHERE batch_id = ?", [.int(now), .id(batchID)])
            try Store.appendAudit(
                db, actor: actor, action: "batch.undo_requested", targetType: "batch", targetID: batchID.rawValue,
                batchID: batchID, changes: [.init(field: "status", before: batch.status.rawValue, after: "undoing")])
            batch.status = .undoing
            return batch
        }
    }
}

extension BatchStatus {
    /// The status as words ("completed with errors").
    public var words: String { rawValue.replacingOccurrences(of: "_", with: " ") }
}

/// File names from clients are shown, never used as paths.
public enum SafeFileName {
    /// The last path component, without control characters, at most 200 characters; "file" when nothing is left.
    public static func display(_ name: String) -> String {
        let last = name.split(whereSeparator: { $0 == "/" || $0 == "\\" }).last.map(String.init) ?? ""
        let clean = String(last.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.map(Character.init))
            .trimmingCharacters(in: .whitespaces)
        let short = clean.count > 200 ? String(clean.prefix(100)) + "…" + String(clean.suffix(99)) : clean
        return short.isEmpty || short == "." || short == ".." ? "file" : short
    }
}
