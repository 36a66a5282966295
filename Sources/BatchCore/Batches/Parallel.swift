import Dispatch
import Foundation

/// Work over a large batch split across the machine's cores: the rows of a state-size roster are decoded, encoded
/// and checked in pieces at once, each piece's results kept in order.
public enum Parallel {
    /// `body` over `0..<count` cut into one piece a core (none smaller than `minimumPiece`); the pieces' results
    /// joined in order. With one core or few items, one piece on the calling thread.
    public static func map<T: Sendable>(_ count: Int, minimumPiece: Int = 4_000, _ body: @Sendable (Range<Int>) -> [T]) -> [T] {
        let pieces = max(1, min(ProcessInfo.processInfo.activeProcessorCount, count / max(1, minimumPiece)))
        guard pieces > 1 else { return body(0..<count) }
        let results = Results<T>(pieces)
        DispatchQueue.concurrentPerform(iterations: pieces) { piece in
            let start = count * piece / pieces, end = count * (piece + 1) / pieces
            results.set(piece, body(start..<end))
        }
        return results.joined()
    }

    /// `body` of every index of `0..<count` as a task of its own, each taken by the next core free (for a few large
    /// tasks that may take unequal times); the results in order.
    public static func tasks<T: Sendable>(_ count: Int, _ body: @Sendable (Int) -> T) -> [T] {
        Array(unsafeUninitializedCapacity: count) { buffer, initialized in
            let elements = Elements(buffer)
            DispatchQueue.concurrentPerform(iterations: count) { index in
                (elements.buffer.baseAddress! + index).initialize(to: body(index))
            }
            initialized = count
        }
    }

    /// `body` of every index of `0..<count`, on every core at once (pieces as `map`), each result written straight
    /// into its place in the array returned: no pieces to join (joining copies every element once more).
    /// `reserving`: room for that many more elements, appended later without the array being moved.
    public static func map<T: Sendable>(
        elements count: Int, minimumPiece: Int = 4_000, reserving extra: Int = 0, _ body: @Sendable (Int) -> T
    ) -> [T] {
        map(elements: count, minimumPiece: minimumPiece, reserving: extra, state: {}) { _, index in body(index) }
    }

    /// The same, each piece's indices in order with a `state` of the piece's own (made by `start`): for rows
    /// checked against the row before them (a person repeated on the next rows). Four pieces a core, each taken by
    /// the next core free: with one piece a core, a core slowed by another thread (or by the machine's neighbours)
    /// left the other idle at the end, a tenth of a second of checking a state-size users.csv.
    public static func map<S, T: Sendable>(
        elements count: Int, minimumPiece: Int = 4_000, reserving extra: Int = 0, state start: @Sendable () -> S,
        _ body: @Sendable (inout S, Int) -> T
    ) -> [T] {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let pieces = max(1, min(cores > 1 ? 4 * cores : 1, count / max(1, minimumPiece)))
        return Array(unsafeUninitializedCapacity: count + max(extra, 0)) { buffer, initialized in
            let elements = Elements(buffer)
            DispatchQueue.concurrentPerform(iterations: pieces) { piece in
                var state = start()
                for index in (count * piece / pieces)..<(count * (piece + 1) / pieces) {
                    (elements.buffer.baseAddress! + index).initialize(to: body(&state, index))
                }
            }
            initialized = count
        }
    }

    /// `side` on another thread while `main` runs on the calling thread (which may be the one a database connection
    /// belongs to); both results once both are done.
    public static func both<A: Sendable, B>(_ side: @escaping @Sendable () -> A, _ main: () throws -> B) rethrows -> (A, B) {
        try both(side, main) { DispatchQueue.global().async(execute: $0) }
    }

    /// `both` for a `side` that mostly waits on the disk (a synced write): it runs on a thread of its own. On one of
    /// the dispatch pool's, the pool counts it as busy while it waits, and the `map`s of `main` get a core less (a
    /// state-size users.csv was checked on one core for the two seconds its copy took to reach the disk).
    public static func both<A: Sendable, B>(waiting side: @escaping @Sendable () -> A, _ main: () throws -> B) rethrows -> (A, B) {
        try both(side, main) { Thread.detachNewThread($0) }
    }

    /// `both` for a `side` that only needs to be done when `main` is, where `main` is what takes longest (a database
    /// writer storing rows built on the other cores): `side` runs on a thread of its own at a lower priority, so it
    /// takes the cores' time that `main` and its helpers leave (at the same priority it took a third of the writer's
    /// core for two seconds of a state-size roster's storing).
    public static func both<A: Sendable, B>(yielding side: @escaping @Sendable () -> A, _ main: () throws -> B) rethrows -> (A, B) {
        try both(side, main, start: startYielding)
    }

    /// Starts `work` on a thread of its own at a lower priority (`both(yielding:_:)`).
    static func startYielding(_ work: @escaping @Sendable () -> Void) {
        Thread.detachNewThread {
            lowerThisThreadsPriority()
            work()
        }
    }

    /// Lowers the calling thread's scheduling priority to nice 10 (on Linux the nice value is a thread's own, and
    /// "process 0" the calling thread); not undone, so only for a thread made for the purpose.
    static func lowerThisThreadsPriority() {
        #if os(Linux)
            _ = setpriority(__priority_which_t(PRIO_PROCESS.rawValue), 0, 10)
        #endif
    }

    /// `side`, started by `start`, beside `main`; `main`'s error once `side` has ended too.
    private static func both<A: Sendable, B>(
        _ side: @escaping @Sendable () -> A, _ main: () throws -> B, start: (@escaping @Sendable () -> Void) -> Void
    ) rethrows -> (A, B) {
        let pending = InBackground(side, start: start)
        let value: B
        do {
            value = try main()
        } catch {
            pending.wait()
            throw error
        }
        return (pending.take()!, value)
    }

    /// `body` on every element of `array`, changed in place, on every core at once. Each call
    /// gets its element and its index and touches nothing else of the array.
    public static func update<T>(_ array: inout [T], minimumPiece: Int = 4_000, _ body: @Sendable (inout T, Int) -> Void) {
        update(&array, minimumPiece: minimumPiece, state: {}) { _, element, index in body(&element, index) }
    }

    /// The same, each piece's elements in order with a `state` of the piece's own (made by `start`). Cut into up to
    /// eight pieces a core, each taken by the next core free: elements that cost more in one part of the array (a
    /// roster's demographics rows, at its end, each planned as 15 fields) do not leave the other cores idle while the
    /// core with that part finishes (half a second of one core alone at the end of a state-size roster's plan).
    public static func update<S, T>(
        _ array: inout [T], minimumPiece: Int = 4_000, state start: @Sendable () -> S, _ body: @Sendable (inout S, inout T, Int) -> Void
    ) {
        let count = array.count
        let pieces = max(1, min(ProcessInfo.processInfo.activeProcessorCount * 8, count / max(1, minimumPiece)))
        array.withUnsafeMutableBufferPointer { buffer in
            let elements = Elements(buffer)
            guard pieces > 1 else {
                var state = start()
                for index in 0..<count { body(&state, &elements.buffer[index], index) }
                return
            }
            DispatchQueue.concurrentPerform(iterations: pieces) { piece in
                var state = start()
                for index in (count * piece / pieces)..<(count * (piece + 1) / pieces) { body(&state, &elements.buffer[index], index) }
            }
        }
    }

    /// `body` on every element of `array`, on every core at once (pieces and their `state` as `update`), each call
    /// changing its element in place and returning what it took out of it; the results in the elements' order.
    public static func take<S, T, U>(
        _ array: inout [T], minimumPiece: Int = 4_000, state start: @Sendable () -> S, _ body: @Sendable (inout S, inout T) -> U
    ) -> [U] {
        let count = array.count
        return [U](unsafeUninitializedCapacity: count) { results, initialized in
            let out = Elements(results)
            update(&array, minimumPiece: minimumPiece, state: start) { state, element, index in
                (out.buffer.baseAddress! + index).initialize(to: body(&state, &element))
            }
            initialized = count
        }
    }

    /// An array's storage shared by tasks that write disjoint elements (the pieces of `update`, the CSV reader's
    /// pieces joined, the rows' hashes made beside their checks).
    struct Elements<T>: @unchecked Sendable {
        let buffer: UnsafeMutableBufferPointer<T>
        init(_ buffer: UnsafeMutableBufferPointer<T>) { self.buffer = buffer }
    }

    /// Lets go of a large value on another thread (freeing 1.6 million planned items with their cells, labels and
    /// changes takes a second or two), beside whatever the caller does next. The value is moved into a box the other
    /// thread empties, so the last reference is that thread's: a copy captured by the closure left the caller's own
    /// reference the last one whenever the other thread was done first, and the caller freed it all (a re-import's
    /// snapshot of the district, 0.23 s on the receive's path in a profile).
    public static func release<T: Sendable>(inBackground value: consuming T) {
        let box = Handoff(consume value)
        DispatchQueue.global(qos: .utility).async { _ = box.take() }
    }

    /// Each piece writes only its own slot.
    private final class Results<T>: @unchecked Sendable {
        private var slots: [[T]]
        private let lock = NSLock()
        init(_ count: Int) { slots = Array(repeating: [], count: count) }
        func set(_ index: Int, _ value: [T]) {
            lock.lock()
            slots[index] = value
            lock.unlock()
        }
        func joined() -> [T] {
            var all: [T] = []
            all.reserveCapacity(slots.reduce(0) { $0 + $1.count })
            for slot in slots { all += slot }
            return all
        }
    }
}

/// A value made on another thread from the moment this is made; `take` waits for it. For work the caller would
/// otherwise wait for on its own path: the next slice of rows built while this one is written, the changes an apply
/// will need gathered while the receive commits.
public final class InBackground<T>: @unchecked Sendable {
    private var value: T?
    private var waited = false
    private let done = DispatchSemaphore(value: 0)

    public convenience init(_ make: @escaping @Sendable () -> T) {
        self.init(make) { DispatchQueue.global().async(execute: $0) }
    }

    /// Made on a thread of its own at a lower priority, as the side of `Parallel.both(yielding:_:)`: it takes the
    /// cores' time that the caller and its helpers leave.
    public static func yielding(_ make: @escaping @Sendable () -> T) -> InBackground {
        InBackground(make, start: Parallel.startYielding)
    }

    /// `start`: runs the making on the thread it chooses.
    init(_ make: @escaping @Sendable () -> T, start: (@escaping @Sendable () -> Void) -> Void) {
        start {
            self.value = make()
            self.done.signal()
        }
    }

    /// Waits until the value is made.
    public func wait() {
        if !waited { done.wait() }
        waited = true
    }

    /// The value, once made, handed over (nothing here keeps it); nil when it was taken already.
    public func take() -> T? {
        wait()
        defer { value = nil }
        return value
    }
}

/// A value handed to a closure that takes it out, so that the closure holds the only reference and can let it go
/// while it still runs (a captured `let` lives as long as the closure).
public final class Handoff<T>: @unchecked Sendable {
    private var value: T?
    private let lock = NSLock()

    public init(_ value: T) { self.value = value }

    /// The value, the first time; nil after.
    public func take() -> T? {
        lock.lock()
        defer { lock.unlock() }
        let taken = value
        value = nil
        return taken
    }
}

extension Array {
    /// The elements of `lists`, in order, in one array of exactly their number, moved out of the lists rather than
    /// copied (a copy counted up each element's references, and freeing the lists then counted them down again:
    /// millions of changes or items at state size). Each list is emptied from `lists`, its places filled with
    /// `filler` before it is freed: a value holding no memory of its own, so that freeing the list releases nothing.
    /// A list still referenced elsewhere is copied once by the move (so hand over lists no one else holds).
    ///
    /// On every core at once, each core moving the lists of a run of elements into their place: moved on one core,
    /// the two million changes of a state-size first import took 0.4–0.5 s that the apply waited for, with the other
    /// core idle (round 42). `filler` makes each core's filler: a filler holding a reference (an item's column list)
    /// copied into millions of places from both cores at once would have its count changed from both.
    public static func joined(moving lists: inout [[Element]], filler: @Sendable () -> Element) -> [Element] where Element: Sendable {
        // (Each list's length read on every core too: reading 1.6 million lists' lengths one after the other was a
        // tenth of a second.)
        let counts = lists.withUnsafeMutableBufferPointer { lists in
            let shared = Parallel.Elements(lists)
            return Parallel.map(elements: lists.count, minimumPiece: 50_000) { shared.buffer[$0].count }
        }
        let count = counts.reduce(0, +)
        let pieces = Swift.max(1, Swift.min(ProcessInfo.processInfo.activeProcessorCount, count / 50_000))
        // Piece `p` moves lists `bounds[p]..<bounds[p + 1]` to `joined[offsets[p]...]`: lists cut where a piece's
        // share of the elements is reached.
        var bounds = [0], offsets = [0], seen = 0
        for index in counts.indices {
            if bounds.count < pieces, seen >= count * bounds.count / pieces, index > bounds.last! {
                bounds.append(index)
                offsets.append(seen)
            }
            seen += counts[index]
        }
        bounds.append(lists.count)
        let (pieceBounds, pieceOffsets) = (bounds, offsets)
        return [Element](unsafeUninitializedCapacity: count) { joined, initialized in
            lists.withUnsafeMutableBufferPointer { lists in
                let sources = Parallel.Elements(lists), target = Parallel.Elements(joined)
                DispatchQueue.concurrentPerform(iterations: pieceOffsets.count) { piece in
                    let filler = filler()
                    var next = pieceOffsets[piece]
                    // (An empty list is passed over without being moved: a re-import's 1.6 million items give 54,000
                    // changes, and moving each item's empty list was 0.17 s of one core.)
                    for index in pieceBounds[piece]..<pieceBounds[piece + 1] where !sources.buffer[index].isEmpty {
                        var list: [Element] = []
                        swap(&list, &sources.buffer[index])
                        next += list.move(to: target.buffer.baseAddress! + next, filler: filler)
                    }
                }
            }
            initialized = count
        }
    }

    /// Moves the elements to `target` (uninitialized memory for `count` of them), leaving `filler` in their places
    /// here (see `joined(moving:filler:)`); their number.
    @discardableResult
    public mutating func move(to target: UnsafeMutablePointer<Element>, filler: Element) -> Int {
        withUnsafeMutableBufferPointer { list in
            guard let from = list.baseAddress, !list.isEmpty else { return 0 }
            target.moveInitialize(from: from, count: list.count)
            from.initialize(repeating: filler, count: list.count)
            return list.count
        }
    }
}
