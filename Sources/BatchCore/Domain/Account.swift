import Foundation

/// A sign-in account of SchoolBatch itself (not a person of the roster).
public struct Account: Sendable, Hashable, Codable {
    public var id: AccountID
    public var username: String
    public var displayName: String
    public var role: AccountRole
    public var scope: AccessScope
    public var disabled: Bool

    public init(
        id: AccountID, username: String, displayName: String, role: AccountRole, scope: AccessScope,
        disabled: Bool = false
    ) {
        self.id = id
        self.username = username
        self.displayName = displayName
        self.role = role
        self.scope = scope
        self.disabled = disabled
    }

    public func can(_ capability: Capability) -> Bool { !disabled && role.can(capability) }

    /// Usernames are compared case-insensitively and stored lower-case.
    public static func normalize(username: String) -> String {
        username.trimmingCharacters(in: .whitespacesAndNewlines).nfc.lowercased()
    }

    /// 2–64 of `a–z 0–9 . _ - @`.
    public static func usernameProblem(_ username: String) -> String? {
        guard (2...64).contains(username.count) else { return "A username has 2 to 64 characters." }
        let ok = username.unicodeScalars.allSatisfy { s in
            switch s {
            case "a"..."z", "0"..."9", ".", "_", "-", "@": true
            default: false
            }
        }
        return ok ? nil : "A username may use only letters a–z, digits and . _ - @ (no spaces)."
    }

    /// At least 10 characters: long enough to resist guessing, short enough to type.
    public static func passwordProblem(_ password: String) -> String? {
        password.count < 10 ? "Choose a password of at least 10 characters." : nil
    }
}
