/// Checks an e-mail address the way a school's mail system will: one `@`, a local part and a domain, no spaces
/// or line breaks, an ASCII domain (international domains in their `xn--` form), at most 254 characters.
public enum EmailAddress {
    public struct Problem: Sendable, Hashable {
        public var code: String
        public var reason: String
    }

    /// Why the address cannot be used, or nil when it is fine.
    /// One pass over the bytes for the common case: true only for an address every rule below accepts (it is
    /// stricter than they are, never looser), so `problem(with:)` judges the rest by characters and names the
    /// problem. Judging a million addresses by characters was a tenth of a state-size roster's checks.
    static func isPlainlyValid(_ address: String) -> Bool {
        var bytes = 0, at = -1, labelStart = 0, labels = 0
        var previous: UInt8 = 0
        for byte in address.utf8 {
            defer {
                previous = byte
                bytes += 1
            }
            switch byte {
            case 0x0D, 0x0A, 0x20, 0x09: return false
            case UInt8(ascii: "@"):
                guard at < 0, bytes > 0, bytes <= 64, previous != UInt8(ascii: ".") else { return false }
                at = bytes
                labelStart = bytes + 1
            case UInt8(ascii: "."):
                if at < 0 {
                    guard bytes > 0, previous != UInt8(ascii: ".") else { return false }
                } else {
                    guard bytes > labelStart, previous != UInt8(ascii: "-") else { return false }
                    labels += 1
                    labelStart = bytes + 1
                }
            default:
                guard at >= 0 else { continue }
                let allowed = (0x61...0x7A).contains(byte) || (0x41...0x5A).contains(byte) || (0x30...0x39).contains(byte)
                    || (byte == UInt8(ascii: "-") && bytes > labelStart)
                guard allowed else { return false }
            }
        }
        return at > 0 && bytes <= 254 && labels >= 1 && bytes > labelStart && previous != UInt8(ascii: "-")
    }

    public static func problem(with address: String) -> Problem? {
        if isPlainlyValid(address) { return nil }
        if address.contains("\r") || address.contains("\n") {
            return Problem(code: "email_line_break", reason: "it contains a line break")
        }
        if address.contains(where: { $0 == " " || $0 == "\t" }) {
            return Problem(code: "email_space", reason: "it contains a space")
        }
        if address.utf8.count > 254 {
            return Problem(code: "email_too_long", reason: "it is longer than 254 characters")
        }
        let parts = address.split(separator: "@", omittingEmptySubsequences: false)
        guard parts.count == 2 else {
            return parts.count < 2
                ? Problem(code: "email_missing_at", reason: "it has no @")
                : Problem(code: "email_many_at", reason: "it has more than one @")
        }
        let local = parts[0], domain = parts[1]
        if local.isEmpty { return Problem(code: "email_no_local_part", reason: "nothing comes before the @") }
        if local.utf8.count > 64 {
            return Problem(code: "email_too_long", reason: "the part before the @ is longer than 64 characters")
        }
        if domain.isEmpty { return Problem(code: "email_no_domain", reason: "nothing comes after the @") }
        if !domain.allSatisfy(\.isASCII) {
            return Problem(
                code: "email_domain_not_ascii",
                reason: "the domain \"\(domain)\" has non-ASCII letters (write an international domain in its xn-- form)")
        }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        if labels.count < 2 || labels.contains(where: \.isEmpty) {
            return Problem(code: "email_bad_domain", reason: "the domain \"\(domain)\" is not a full domain like school.edu")
        }
        func allowed(_ byte: UInt8) -> Bool {
            (0x61...0x7A).contains(byte) || (0x41...0x5A).contains(byte) || (0x30...0x39).contains(byte) || byte == 0x2D
        }
        if labels.contains(where: { label in !label.utf8.allSatisfy(allowed) || label.hasPrefix("-") || label.hasSuffix("-") }) {
            return Problem(code: "email_bad_domain", reason: "the domain \"\(domain)\" has characters a domain cannot have")
        }
        if local.hasPrefix(".") || local.hasSuffix(".") || local.contains("..") {
            return Problem(code: "email_bad_local_part", reason: "the part before the @ has a misplaced dot")
        }
        return nil
    }

    /// The key two addresses are compared by: the same address in any capitalisation is the same address.
    public static func key(_ address: String) -> String { RosterPlanner.lowercased(address) }
}
