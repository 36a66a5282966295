/// Which schools an account may see and change (SPEC §1).
public enum AccessScope: Sendable, Hashable, Codable {
    /// The whole district.
    case district
    /// Only these schools (internal keys).
    case schools(Set<SchoolKey>)

    /// Whether an object belonging to the given schools is visible. An object with no school is visible only
    /// to district-wide accounts.
    public func allows(anyOf keys: some Sequence<SchoolKey>) -> Bool {
        switch self {
        case .district: true
        case .schools(let allowed): keys.contains(where: allowed.contains)
        }
    }

    public func allows(_ key: SchoolKey) -> Bool { allows(anyOf: [key]) }

    /// The schools the scope is limited to, or nil for the whole district.
    public var schoolKeys: Set<SchoolKey>? {
        switch self {
        case .district: nil
        case .schools(let keys): keys
        }
    }
}
