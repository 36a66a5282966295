/// What a batch changes.
public enum BatchKind: String, Sendable, Codable, CaseIterable, Hashable {
    case roster, photos, emails, documents
    /// A photo group download (SPEC §5.2): no data changes; its job writes a ZIP.
    case photoExport = "photo_export"

    /// The capability needed to create and run a batch of this kind.
    public var capability: Capability {
        switch self {
        case .roster: .rosterUpload
        case .photos: .photoBatch
        case .emails: .emailBatch
        case .documents: .documentBatch
        case .photoExport: .photoExport
        }
    }

    public var label: String {
        switch self {
        case .roster: "Roster"
        case .photos: "Student photos"
        case .emails: "Student e-mails"
        case .documents: "Assessment documents"
        case .photoExport: "Photo download"
        }
    }

    /// Downloads write a file and change no data: nothing to preview, confirm or undo.
    public var isExport: Bool { self == .photoExport }
}

/// A batch's place in its lifecycle (SPEC §8). Every change of status goes through `transition(to:)`.
public enum BatchStatus: String, Sendable, Codable, CaseIterable, Hashable {
    case draft, queued, processing, completed
    case completedWithErrors = "completed_with_errors"
    case failed, cancelled, undoing, undone

    /// The statuses a batch may move to from this one.
    public var allowedNext: Set<BatchStatus> {
        switch self {
        case .draft: [.queued, .cancelled]
        case .queued: [.processing, .cancelled]
        // A worker that dies mid-apply hands the batch back to the queue.
        case .processing: [.completed, .completedWithErrors, .failed, .queued]
        case .completed, .completedWithErrors: [.undoing]
        case .failed: [.queued, .cancelled]
        case .cancelled, .undone: []
        case .undoing: [.undone, .completed, .completedWithErrors]
        }
    }

    /// The new status, or a reason a person can read when the move is not allowed.
    public func transition(to next: BatchStatus) -> Result<BatchStatus, BatchTransitionError> {
        allowedNext.contains(next) ? .success(next) : .failure(BatchTransitionError(from: self, to: next))
    }

    public var isFinal: Bool { allowedNext.isEmpty }
}

/// A refused status change, with words for the person who asked.
public struct BatchTransitionError: Error, Sendable, Hashable {
    public var from: BatchStatus
    public var to: BatchStatus

    public init(from: BatchStatus, to: BatchStatus) {
        self.from = from
        self.to = to
    }

    public var message: String {
        switch (from, to) {
        case (_, .cancelled) where from == .processing:
            "This batch is being applied right now and cannot be cancelled; wait for it to finish, then undo it."
        case (_, .cancelled):
            "This batch is \(from.rawValue.replacingOccurrences(of: "_", with: " ")) and can no longer be cancelled."
        case (_, .queued) where from != .draft && from != .failed:
            "This batch is already \(from.rawValue.replacingOccurrences(of: "_", with: " ")); it cannot be submitted again."
        case (_, .undoing):
            "Only a completed batch can be undone; this one is \(from.rawValue.replacingOccurrences(of: "_", with: " "))."
        default:
            "A batch that is \(from.rawValue.replacingOccurrences(of: "_", with: " ")) cannot become \(to.rawValue.replacingOccurrences(of: "_", with: " "))."
        }
    }
}

/// A batch as stored.
public struct Batch: Sendable, Hashable {
    public var id: BatchID
    public var kind: BatchKind
    public var status: BatchStatus
    /// The kind's options as JSON text (for example the roster `mode`).
    public var options: String
    public var createdBy: AccountID?
    public var createdByName: String
    public var createdAt: Int64
    public var updatedAt: Int64
    /// The schools the creating account could see when it made the batch; nil = district-wide.
    public var scope: AccessScope
    /// Work done and to do in the current step (planning, applying, undoing), for the progress bar.
    public var progressDone: Int64 = 0
    public var progressTotal: Int64 = 0
    /// Items by state, as of the last plan or apply.
    public var counts = ItemCounts()
    /// What applying (and undoing) did; nil until the batch has run.
    public var report: BatchReport?
    /// Why the batch failed, in words for the person who submitted it.
    public var failure: String?
    public var submittedAt: Int64?
    public var finishedAt: Int64?
    /// Per entity (roster batches): created, updated, unchanged, removed, errors, as of the last plan or apply.
    public var entityCounts: [EntityCounts] = []
    /// The data version its items were last planned at, all at once (nil before that, or for a batch made by an
    /// earlier version of the program).
    public var plannedVersion: Int64?

    /// Whether this draft's preview was planned before the data reached `dataVersion` (its current version): what the
    /// preview promises may no longer be what Process would do.
    public func previewIsStale(dataVersion: Int64) -> Bool {
        status == .draft && plannedVersion.map { $0 != dataVersion } == true
    }

    public init(
        id: BatchID, kind: BatchKind, status: BatchStatus, options: String, createdBy: AccountID?, createdByName: String,
        createdAt: Int64, updatedAt: Int64, scope: AccessScope
    ) {
        self.id = id
        self.kind = kind
        self.status = status
        self.options = options
        self.createdBy = createdBy
        self.createdByName = createdByName
        self.createdAt = createdAt
        self.updatedAt = updatedAt
        self.scope = scope
    }
}

/// What a batch did when it was applied, and what its undo could not restore.
public struct BatchReport: Sendable, Hashable, Codable {
    /// Items by state after applying.
    public var counts: ItemCounts
    /// Fields written, by field name ("userEmail": 812).
    public var changedFields: [String: Int]
    public var appliedAt: Int64?
    /// Fields undo restored.
    public var restored: Int?
    /// Fields undo left alone because someone changed them after the batch.
    public var changedSince: [FieldChangeSince]
    public var undoneAt: Int64?
    /// A download's contents (exports only).
    public var export: ExportSummary?

    public init(counts: ItemCounts, changedFields: [String: Int], appliedAt: Int64?) {
        self.counts = counts
        self.changedFields = changedFields
        self.appliedAt = appliedAt
        self.changedSince = []
    }
}

/// A field undo did not restore: it no longer holds what the batch wrote.
public struct FieldChangeSince: Sendable, Hashable, Codable {
    public var entity: String
    public var key: String
    public var field: String
    /// What the batch wrote.
    public var batchValue: String?
    /// What the field holds now.
    public var currentValue: String?
    /// What undo would have restored.
    public var beforeBatch: String?

    public init(entity: String, key: String, field: String, batchValue: String?, currentValue: String?, beforeBatch: String?) {
        self.entity = entity
        self.key = key
        self.field = field
        self.batchValue = batchValue
        self.currentValue = currentValue
        self.beforeBatch = beforeBatch
    }
}
