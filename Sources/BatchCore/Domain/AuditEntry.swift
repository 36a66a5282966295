/// One line of the audit log: who did what, when, in which batch, with before → after for changed fields.
public struct AuditEntry: Sendable, Hashable, Codable {
    public struct Change: Sendable, Hashable, Codable {
        public var field: String
        public var before: String?
        public var after: String?
        public init(field: String, before: String?, after: String?) {
            self.field = field
            self.before = before
            self.after = after
        }
    }

    public var id: Int64?
    public var at: Int64
    public var actorID: AccountID?
    public var actorName: String
    public var action: String
    public var targetType: String
    public var targetID: String
    public var batchID: BatchID?
    public var changes: [Change]

    public init(
        id: Int64? = nil, at: Int64, actorID: AccountID?, actorName: String, action: String, targetType: String,
        targetID: String, batchID: BatchID? = nil, changes: [Change] = []
    ) {
        self.id = id
        self.at = at
        self.actorID = actorID
        self.actorName = actorName
        self.action = action
        self.targetType = targetType
        self.targetID = targetID
        self.batchID = batchID
        self.changes = changes
    }

    /// The changes between two field maps, in key order; fields equal on both sides are left out.
    public static func diff(before: [String: String?], after: [String: String?]) -> [Change] {
        Set(before.keys).union(after.keys).sorted().compactMap { key in
            let old = before[key] ?? nil, new = after[key] ?? nil
            return old == new ? nil : Change(field: key, before: old, after: new)
        }
    }
}
