import Foundation

/// Texts told apart by their bytes, as a database compares keys (two IDs that differ in their bytes are two records,
/// even where Swift's `String` would call them equal: a letter written composed and decomposed), each kept once.
///
/// Looked up by a hash of the bytes: the table holds the hashes, so a lookup reads no stored text but the one whose
/// hash it found, and a text already seen costs no allocation and no reference counted. A `Set` of slices of the
/// texts looked up (the class of each of a state-size roster's 1.4 million new enrollments) read each slice's
/// storage at every key it passed, and counted a reference for every element made: most of gathering them.
public struct DistinctTexts: Sendable {
    /// Open addressing: a slot holds the position in `texts` of a text plus one (0: empty), found from the text's
    /// hash and, where that slot is another text's, in the slots after it. Swift's `Dictionary` keyed by the hash
    /// hashed that key again, and with the hash of the bytes was most of numbering the cells of a state-size
    /// users.csv (`CSVReader`, docs/decisions.md, round 27). At most half the slots are used.
    private var slots = [Int32](repeating: 0, count: 16)
    /// The hash of each text (`hash(of:)`), beside `texts`: a lookup reads no stored text but one whose hash is
    /// the same.
    private(set) var hashes: [Int] = []
    /// Each text once, in the order first given.
    public private(set) var texts: [String] = []

    private static let seed = UInt64.random(in: .min ... .max)

    /// The bits of the hash a lookup goes by (all of them; a test keeps none, so that every text collides with the
    /// first).
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
        let hash = Self.hash(of: bytes)
        let (slot, found) = find(bytes, hash: hash)
        if let found { return (found, false) }
        let position = texts.count
        texts.append(String(decoding: bytes, as: UTF8.self))
        hashes.append(hash)
        slots[slot] = Int32(truncatingIfNeeded: position + 1)
        if texts.count * 2 > slots.count { grow() }
        return (position, true)
    }

    public mutating func position(of text: String) -> (position: Int, inserted: Bool) { text.withUTF8Bytes { position(of: $0) } }

    public func contains(_ text: String) -> Bool { existingPosition(of: text) != nil }

    /// Where the text is in `texts`, or nil when it is not there (nothing added).
    public func existingPosition(of text: String) -> Int? {
        text.withUTF8Bytes { bytes in find(bytes, hash: Self.hash(of: bytes)).position }
    }

    /// The position of the text of `bytes`, or nil and the empty slot where it would go.
    @inline(__always)
    private func find(_ bytes: UnsafeBufferPointer<UInt8>, hash: Int) -> (slot: Int, position: Int?) {
        let mask = slots.count - 1, key = hash & hashBits
        var slot = key & mask
        while true {
            let held = Int(slots[slot])
            if held == 0 { return (slot, nil) }
            if hashes[held - 1] & hashBits == key && CSVReader.text(texts[held - 1], is: bytes) { return (slot, held - 1) }
            slot = (slot + 1) & mask
        }
    }

    private mutating func grow() {
        slots = [Int32](repeating: 0, count: slots.count * 2)
        let mask = slots.count - 1
        for (position, hash) in hashes.enumerated() {
            var slot = hash & hashBits & mask
            while slots[slot] != 0 { slot = (slot + 1) & mask }
            slots[slot] = Int32(truncatingIfNeeded: position + 1)
        }
    }

    /// A 64-bit hash of the bytes, 8 at a time, each word multiplied in and the result mixed (MurmurHash3's
    /// finaliser): the table's slots are picked by its low bits. Not `Hasher`: its SipHash was half of a lookup.
    /// Started from a number drawn for each run, as `Hasher` is, so that no file is made to put its cells in one run
    /// of slots (which would only make the table slower, never wrong: texts are compared by their bytes). The same
    /// for the same bytes everywhere in one run.
    @inline(__always)
    public static func hash(of bytes: UnsafeBufferPointer<UInt8>) -> Int {
        var hash: UInt64 = seed ^ UInt64(bytes.count)
        let raw = UnsafeRawBufferPointer(bytes)
        var offset = 0
        while offset + 8 <= raw.count {
            hash = (hash ^ raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) &* 0xFF51_AFD7_ED55_8CCD
            hash ^= hash >> 32
            offset += 8
        }
        if offset < raw.count {
            var last: UInt64 = 0
            for index in offset..<raw.count { last = last << 8 | UInt64(raw[index]) }
            hash = (hash ^ last) &* 0xFF51_AFD7_ED55_8CCD
        }
        hash ^= hash >> 33
        hash &*= 0xC4CE_B9FE_1A85_EC53
        hash ^= hash >> 33
        return Int(truncatingIfNeeded: hash)
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
