/// What the records a batch touches are locked by: the schools its rows name and the people its changes are about.
/// Batches whose lock keys (the schools' keys) overlap are applied one after the other.
public struct LockScope: Sendable, Hashable, Codable {
    /// School IDs the rows name (a school the batch creates has no key yet).
    public var schoolIDs: [String]
    /// userIds of the people the batch changes.
    public var people: [String]

    public init(schoolIDs: some Sequence<String> = [], people: some Sequence<String>) {
        self.schoolIDs = Set(schoolIDs).sorted()
        self.people = Set(people).sorted()
    }

    private enum CodingKeys: String, CodingKey { case schoolIDs, people }

    /// The people are written as one text, their userIds a line each, where none holds a line break or is empty
    /// (userIds never do): a state-size roster's 206,000 people as a JSON array took JSONEncoder and JSONDecoder a
    /// fifth of a second at each of the receive, the submit and the apply, on their paths. Read either way.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(schoolIDs, forKey: .schoolIDs)
        if people.contains(where: { $0.isEmpty || $0.utf8.contains(0x0A) }) {
            try container.encode(people, forKey: .people)
        } else {
            try container.encode(people.joined(separator: "\n"), forKey: .people)
        }
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        schoolIDs = try container.decode([String].self, forKey: .schoolIDs)
        if let lines = try? container.decode(String.self, forKey: .people) {
            people = lines.isEmpty ? [] : lines.utf8.split(separator: 0x0A, omittingEmptySubsequences: false).map { String(decoding: $0, as: UTF8.self) }
        } else {
            people = try container.decode([String].self, forKey: .people)
        }
    }
}

/// What Process needs of a planned batch's ready items, kept with the plan when the whole batch was planned at once
/// (receive of a roster, Refresh, a decision on one item): submitting then reads this instead of every item again —
/// 13 s of a 1.4-million-row roster's submit went into loading its items only to find these.
public struct PlanDigest: Sendable, Hashable, Codable {
    /// Entity → how many existing records (a change with a `before`) the ready items change or remove; the
    /// mass-change guard compares these with the district's totals.
    public var changedExisting: [String: Int]
    public var lockScope: LockScope
    /// The data version the plan was made at (`Store.dataVersion`): while the data is still at that version, the
    /// plan still holds and the apply writes it as it is. Nil for digests kept by earlier versions.
    public var dataVersion: Int64?
    /// New each time a plan is made: a copy of the plan's changes held in memory (`BatchEngine.KeptPlans`) is the
    /// stored plan's only while the stored digest has the same token (any later plan stores another).
    public var token: String?

    public init(changedExisting: [String: Int], lockScope: LockScope, dataVersion: Int64? = nil, token: String? = nil) {
        self.changedExisting = changedExisting
        self.lockScope = lockScope
        self.dataVersion = dataVersion
        self.token = token
    }

    /// What an apply needs of a kept digest: which plan it is and the data version it was made at, read without the
    /// rest (a state-size roster's lock scope names 206,000 people, and decoding them was most of the apply's first
    /// 30–70 ms, round 42).
    public struct Stamp: Sendable, Hashable, Decodable {
        public var dataVersion: Int64?
        public var token: String?
    }

    /// The distinct existing records of each entity the items' changes touch.
    public static func changedExisting(_ items: [BatchItem]) -> [String: Int] {
        var touched: [String: Set<String>] = [:]
        // Read in place, not from a copy of each item or change (a first import's two million changes, none of them
        // touching an existing record, were each copied to be looked at).
        items.withUnsafeBufferPointer { items in
            for index in items.indices {
                items[index].changes.withUnsafeBufferPointer { changes in
                    for position in changes.indices where changes[position].before != nil {
                        touched[changes[position].entity, default: []].insert(changes[position].key)
                    }
                }
            }
        }
        return touched.mapValues(\.count)
    }
}
