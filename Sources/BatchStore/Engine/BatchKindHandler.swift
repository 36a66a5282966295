import BatchCore
import Foundation

/// What one kind of batch plugs into the shared lifecycle: how to read its files, how to plan its items against
/// the current data, and how to write them. Receiving files, the job queue, progress, reports, the audit log and
/// undo are the engine's, written once for every kind.
public protocol BatchKindHandler: Sendable {
    var kind: BatchKind { get }
    var limits: UploadLimits { get }

    /// Reads one received file into items, with every problem a row has on its own. A file that cannot be used
    /// at all (bad headers, not a CSV) is a `FileRejection` and is not kept.
    func inspect(fileName: String, bytes: Data, firstItemID: Int64, batch: Batch) throws -> FileInspection

    /// Plans items against the database as it is now: finds their targets, checks scope and uniqueness, and
    /// works out each field's before and after. Runs for the preview and again inside the apply transaction.
    func plan(_ items: consuming [BatchItem], batch: Batch, on db: any SQLConnection) throws -> [BatchItem]

    /// `plan`, for items about to be stored: the items of `spanned`'s files that have a `source` are stored as
    /// where their rows are in the file as uploaded, so their cells may be let go once planned, keeping only those
    /// `lockScope` and `entityCounter` read. By default `plan`.
    func planForStoring(_ items: consuming [BatchItem], spanned: Set<String>, batch: Batch, on db: any SQLConnection) throws -> [BatchItem]

    /// What the ready items lock (`BatchEngine.lockKeys` turns it into school keys): batches with overlapping keys
    /// are applied one after the other. By default the people the items are matched to.
    func lockScope(_ items: [BatchItem]) -> LockScope

    /// Whether planning one item needs the batch's other items (two files for one student): a person's decision
    /// on one item then plans the whole batch again.
    var plansWholeBatch: Bool { get }

    /// Runs inside the apply transaction before the planned changes are written: creates what the changes point
    /// at (a new document version). Most kinds need nothing.
    func prepareApply(_ items: [BatchItem], batch: Batch, on db: any SQLConnection) throws

    /// Per-entity counts of a whole planned batch (created, updated, unchanged, removed, errors), for kinds whose
    /// rows write several kinds of record; nil for the others. In two parts: what needs the database is read now,
    /// the counting itself is returned, so it may run on another thread while the items are stored.
    func entityCounter(_ planned: [BatchItem], on db: any SQLConnection) throws -> @Sendable () -> [EntityCounts]?
    /// The input columns `lockScope` reads, when it reads only some: submit then decodes only those of each item
    /// (nil: all).
    var lockKeyColumns: Set<String>? { get }
    /// Whether the apply may write the plan kept with the preview, without planning again, when no record has been
    /// written since it was made (`PlanDigest.dataVersion`): the plan then depends on nothing but the items and the
    /// data. Kinds that `prepareApply` from planned items say no.
    var appliesKeptPlan: Bool { get }
    /// Whether `inspect` keeps an accepted upload as it came (`FileInspection.kept` nil): the upload is then written
    /// to the blob store while it is checked, and kept once the checks pass.
    var keepsUploadAsIs: Bool { get }
    /// Whether the apply of `batch` may run with the database's row-by-row key checks off
    /// (`DatabaseBackend.writeCheckingOwnKeys`), its writer checking the parents of what it creates itself. Decided
    /// from the preview, before the apply's transaction: if the changes written turn out to need the keys after
    /// all (`RosterWriter.checksOwnKeys`), the apply runs again with them.
    func checksOwnKeys(applying batch: Batch) -> Bool
    /// The tables a large batch of this kind may fill or empty, whose statistics PostgreSQL gathers again before
    /// undoing one (`BatchEngine.undo`); none by default.
    var tablesWritten: [String] { get }
}

extension BatchKindHandler {
    public var plansWholeBatch: Bool { false }
    public func planForStoring(_ items: consuming [BatchItem], spanned: Set<String>, batch: Batch, on db: any SQLConnection) throws
        -> [BatchItem]
    { try plan(items, batch: batch, on: db) }
    public func prepareApply(_ items: [BatchItem], batch: Batch, on db: any SQLConnection) throws {}
    public func entityCounter(_ planned: [BatchItem], on db: any SQLConnection) throws -> @Sendable () -> [EntityCounts]? {
        { nil }
    }
    /// `entityCounter`'s counts, counted here.
    public func entityCounts(_ planned: [BatchItem], on db: any SQLConnection) throws -> [EntityCounts]? {
        try entityCounter(planned, on: db)()
    }
    public var lockKeyColumns: Set<String>? { nil }
    public var appliesKeptPlan: Bool { false }
    public var keepsUploadAsIs: Bool { false }
    public func checksOwnKeys(applying batch: Batch) -> Bool { false }
    public var tablesWritten: [String] { [] }
    public func lockScope(_ items: [BatchItem]) -> LockScope { LockScope(people: items.compactMap(\.target)) }
}

/// How much a batch of one kind may receive. Enforced while the bytes stream in.
public struct UploadLimits: Sendable, Hashable, Codable {
    public var maxFileBytes: Int64
    public var maxFiles: Int
    /// File name endings accepted, lower-case, without the dot; empty = any name (the content is judged).
    public var extensions: [String]

    public init(maxFileBytes: Int64, maxFiles: Int, extensions: [String]) {
        self.maxFileBytes = maxFileBytes
        self.maxFiles = maxFiles
        self.extensions = extensions
    }

    public var maxFileDescription: String { ByteCountFormatter.string(fromByteCount: maxFileBytes, countStyle: .binary) }
}
