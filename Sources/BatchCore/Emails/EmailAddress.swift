/// Checks an e-mail address the way a school's mail system will: one `@`, a local part and a domain, no spaces
/// or line breaks, an ASCII domain (international domains in their `xn--` form), at most 254 characters.
public enum EmailAddress {
    public struct Problem: Sendable, Hashable {
        public var code: String
        public var reason: String
    }

    /// Why the address cannot be used, or nil when it is fine.
    public static func problem(with address: String) -> Problem? {
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
    public static func key(_ address: String) -> String { address.lowercased() }
}
