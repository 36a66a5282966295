import Foundation

/// Time as the store records it: milliseconds since 1970.
public enum Clock {
    public static func nowMillis() -> Int64 { Int64((Date().timeIntervalSince1970 * 1000).rounded()) }
}
