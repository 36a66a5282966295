import Foundation

/// A typed external identifier. External identifiers are always text (leading zeros are kept) and are
/// compared after Unicode NFC normalisation so that visually identical ids are the same id.
public protocol ExternalIdentifier: RawRepresentable, Hashable, Sendable, Codable, Comparable,
    CustomStringConvertible, ExpressibleByStringLiteral where RawValue == String
{
    init(rawValue: String)
}

extension ExternalIdentifier {
    public init(stringLiteral value: String) { self.init(rawValue: value) }
    public var description: String { rawValue }
    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
    public init(from decoder: any Decoder) throws {
        self.init(rawValue: try decoder.singleValueContainer().decode(String.self))
    }
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }
}

/// A person's `userId`: unique in the district, case-sensitive.
public struct UserID: ExternalIdentifier {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue.nfc }
}

/// A school's external `schoolId`: unique, case-sensitive.
public struct SchoolID: ExternalIdentifier {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue.nfc }
}

/// A class's `classId`: unique in the district.
public struct ClassID: ExternalIdentifier {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue.nfc }
}

/// A student's `loginId` (the seed's WebloginID). Always stored lower-case.
public struct LoginID: ExternalIdentifier {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue.nfc.lowercased() }
}

/// The internal key of a school row. A school's external ID can be edited, so references use this.
public struct SchoolKey: ExternalIdentifier {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static func generate() -> SchoolKey { SchoolKey(rawValue: UUID().uuidString.lowercased()) }
}

/// The key of a sign-in account.
public struct AccountID: ExternalIdentifier {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static func generate() -> AccountID { AccountID(rawValue: UUID().uuidString.lowercased()) }
}

/// The key of a batch (upload or export).
public struct BatchID: ExternalIdentifier {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public static func generate() -> BatchID { BatchID(rawValue: UUID().uuidString.lowercased()) }
}

extension String {
    /// Unicode canonical composition (NFC), so that `é` typed two ways is one value. ASCII text is already NFC:
    /// it is returned as it is, without the (slow) Foundation round trip.
    public var nfc: String {
        utf8.allSatisfy { $0 < 0x80 } ? self : precomposedStringWithCanonicalMapping
    }
}
