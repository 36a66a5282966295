/// Edit distance and "did you mean" suggestions, used for header names and unmatched file names.
public enum Similarity {
    /// Levenshtein distance between two strings, by Unicode scalar.
    public static func distance(_ a: String, _ b: String) -> Int {
        let a = Array(a.unicodeScalars), b = Array(b.unicodeScalars)
        if a.isEmpty { return b.count }
        if b.isEmpty { return a.count }
        var previous = Array(0...b.count)
        var current = Array(repeating: 0, count: b.count + 1)
        for i in 1...a.count {
            current[0] = i
            for j in 1...b.count {
                let cost = a[i - 1] == b[j - 1] ? 0 : 1
                current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            }
            swap(&previous, &current)
        }
        return previous[b.count]
    }

    /// The closest candidate (case-insensitive first, then by edit distance), if it is close enough to be a
    /// plausible typo: at most a third of the longer name.
    public static func nearest(to word: String, in candidates: [String]) -> String? {
        if let exact = candidates.first(where: { $0.lowercased() == word.lowercased() }) { return exact }
        let scored = candidates.map { ($0, distance($0.lowercased(), word.lowercased())) }
        guard let best = scored.min(by: { $0.1 < $1.1 }) else { return nil }
        let limit = max(2, max(word.count, best.0.count) / 3)
        return best.1 <= limit ? best.0 : nil
    }
}
