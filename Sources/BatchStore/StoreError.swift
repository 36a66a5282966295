/// Errors of the storage layer. `userMessage` is what a school administrator reads; the description is for logs.
public enum StoreError: Error, Sendable, CustomStringConvertible {
    /// A unique rule was broken (an ID or address already in use).
    case duplicate(String)
    /// The object does not exist (or is outside the account's scope).
    case notFound(String)
    /// A request that the current state does not allow.
    case conflict(String)
    /// A request whose values cannot be used; `details` names each problem.
    case invalid(String, details: [String])
    /// The database holds something it should not.
    case corrupt(String)
    /// The database could not be reached or failed.
    case unavailable(String)

    public var userMessage: String {
        switch self {
        case .duplicate(let m), .notFound(let m), .conflict(let m): m
        case .invalid(let m, let details): ([m] + details).joined(separator: " ")
        case .corrupt: "The database holds an unexpected value. Ask your system administrator to check the server log."
        case .unavailable: "The database cannot be reached right now. Try again in a minute."
        }
    }

    public var description: String {
        switch self {
        case .duplicate(let m): "duplicate: \(m)"
        case .notFound(let m): "not found: \(m)"
        case .conflict(let m): "conflict: \(m)"
        case .invalid(let m, let details): "invalid: \(m) \(details)"
        case .corrupt(let m): "corrupt: \(m)"
        case .unavailable(let m): "unavailable: \(m)"
        }
    }
}
