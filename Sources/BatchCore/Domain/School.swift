/// A school of the district. `schoolID` is the external identifier; it may be missing on a school that was
/// created without one, which closes the roster activation gate until it is filled in.
public struct School: Sendable, Hashable, Codable {
    public var key: SchoolKey
    public var schoolID: SchoolID?
    public var name: String

    public init(key: SchoolKey, schoolID: SchoolID?, name: String) {
        self.key = key
        self.schoolID = schoolID
        self.name = name
    }

    /// The school ID if present, for display.
    public var displayID: String { schoolID?.rawValue ?? "" }
}
