import Foundation

/// Texts told apart by their bytes, as a database compares keys (two IDs that differ in their bytes are two records,
/// even where Swift's `String` would call them equal: a letter written composed and decomposed), each kept once.
///
/// Looked up by a hash of the bytes: the table holds the hashes, so a lookup reads no stored text but the one whose
/// hash it found, and a text already seen costs no allocation and no reference counted. A `Set` of slices of the
/// texts looked up (the class of each of a state-size roster's 1.4 million new enrollments) read each slice's
/// storage at every key it passed, and counted a reference for every element made: most of gathering them.
public struct DistinctTexts: Sendable {
    /// The first text with each hash, and its position in `texts` (the text beside the hash: one read of memory
    /// finds and compares a text of up to 15 bytes, which Swift keeps inside the `String`).
    private var first: [Int: (text: String, position: Int)] = [:]
    /// Further texts with a hash an earlier, different text has (64-bit hashes: a case that does not happen in
    /// practice, kept right all the same).
    private var more: [Int: [Int]] = [:]
    /// Each text once, in the order first given.
    public private(set) var texts: [String] = []

    /// The bits of the hash kept (all of them; a test keeps none, so that every text collides with the first).
    let hashBits: Int

    public init() { hashBits = -1 }

    init(hashBits: Int) { self.hashBits = hashBits }

    public var count: Int { texts.count }

    /// Adds the text of `bytes` (UTF-8); false when it was there already.
    @discardableResult
    public mutating func insert(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool { position(of: bytes).inserted }

    @discardableResult
    public mutating func insert(_ text: String) -> Bool { position(of: text).inserted }

    /// Where the text of `bytes` (UTF-8) is in `texts`, added at the end if it was not there.
    public mutating func position(of bytes: UnsafeBufferPointer<UInt8>) -> (position: Int, inserted: Bool) {
        let hash = hashOf(bytes)
        guard let found = first[hash] else {
            let text = String(decoding: bytes, as: UTF8.self)
            first[hash] = (text, texts.count)
            texts.append(text)
            return (texts.count - 1, true)
        }
        if CSVReader.text(found.text, is: bytes) { return (found.position, false) }
        if let other = more[hash]?.first(where: { CSVReader.text(texts[$0], is: bytes) }) { return (other, false) }
        more[hash, default: []].append(texts.count)
        texts.append(String(decoding: bytes, as: UTF8.self))
        return (texts.count - 1, true)
    }

    public mutating func position(of text: String) -> (position: Int, inserted: Bool) { text.withUTF8Bytes { position(of: $0) } }

    public func contains(_ text: String) -> Bool {
        text.withUTF8Bytes { bytes in
            let hash = hashOf(bytes)
            guard let found = first[hash] else { return false }
            return CSVReader.text(found.text, is: bytes) || (more[hash] ?? []).contains { CSVReader.text(texts[$0], is: bytes) }
        }
    }

    func hashOf(_ bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: UnsafeRawBufferPointer(bytes))
        return hasher.finalize() & hashBits
    }
}

extension String {
    /// `body` over the text's UTF-8 bytes where the string keeps them (a native string keeps them together), or over
    /// a copy where it does not: `withUTF8` needs a `var` copy of the string, a reference counted each call.
    public func withUTF8Bytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        if let result = try utf8.withContiguousStorageIfAvailable(body) { return result }
        var copy = self
        return try copy.withUTF8(body)
    }
}
