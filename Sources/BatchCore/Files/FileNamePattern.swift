/// File names for downloads from a pattern of `{token}`s and literal text (SPEC §5.2): `{loginId}` gives
/// `19chanw1`. Unsafe characters are replaced; names that come out the same get `_2`, `_3`, and are listed.
public struct FileNamePattern: Sendable, Hashable {
    public static let personTokens = [
        "loginId", "userId", "firstName", "lastName", "preferredFirstName", "schoolId", "classId", "className", "grade",
    ]

    public let pattern: String
    public let tokens: [String]

    /// An empty pattern is `{loginId}`.
    public init(_ pattern: String, tokens: [String] = Self.personTokens) {
        let trimmed = pattern.trimmingCharacters(in: .whitespaces)
        self.pattern = trimmed.isEmpty ? "{loginId}" : trimmed
        self.tokens = tokens
    }

    /// Tokens in the pattern that are not known, for a clear message.
    public var unknownTokens: [String] {
        var unknown: [String] = []
        var rest = Substring(pattern)
        while let open = rest.firstIndex(of: "{"), let close = rest[open...].firstIndex(of: "}") {
            let name = String(rest[rest.index(after: open)..<close])
            if !tokens.contains(name) && !unknown.contains(name) { unknown.append(name) }
            rest = rest[rest.index(after: close)...]
        }
        return unknown
    }

    /// The name (without extension) for one set of values; an empty result falls back to `fallback`.
    public func name(_ values: [String: String], fallback: String) -> String {
        var result = pattern
        for token in tokens { result = result.replacingOccurrences(of: "{\(token)}", with: values[token] ?? "") }
        let safe = Self.safe(result)
        return safe.isEmpty ? Self.safe(fallback) : safe
    }

    /// Letters, digits, space, `.`, `_`, `-` and `(`/`)` stay; anything else (slashes, colons, control characters)
    /// becomes `_`; leading dots and surrounding spaces go; at most 120 characters.
    public static func safe(_ text: String) -> String {
        let mapped = String(
            text.map { character -> Character in
                if character.isLetter || character.isNumber || " ._-()".contains(character) { return character }
                return "_"
            })
        var trimmed = Substring(mapped.trimmingCharacters(in: .whitespaces))
        while trimmed.hasPrefix(".") { trimmed = trimmed.dropFirst() }
        return String(trimmed.prefix(120)).trimmingCharacters(in: .whitespaces)
    }

    /// Hands out unique paths: the second `a.pdf` becomes `a_2.pdf`. Case-insensitive, as Windows and macOS see names.
    public struct Namer: Sendable {
        private var used: Set<String> = []
        public private(set) var collisions: [(wanted: String, given: String)] = []
        public init() {}

        public mutating func unique(_ stem: String, ext: String, folder: String? = nil) -> String {
            let prefix = folder.map { $0 + "/" } ?? ""
            var candidate = "\(prefix)\(stem).\(ext)"
            var counter = 2
            while used.contains(candidate.lowercased()) {
                candidate = "\(prefix)\(stem)_\(counter).\(ext)"
                counter += 1
            }
            if counter > 2 { collisions.append(("\(prefix)\(stem).\(ext)", candidate)) }
            used.insert(candidate.lowercased())
            return candidate
        }
    }
}
