/// JSON for the shapes a batch stores millions of — a row's cells (an object of strings) and its planned changes
/// (an array of changes, each an array of strings or nulls) — written and read by hand. Foundation's JSONEncoder and
/// JSONDecoder cost tens of microseconds a call on Linux; a 1.4-million-row roster makes several million of these.
/// The output is ordinary JSON (keys sorted) that any JSON parser reads, and these read what JSONEncoder writes.
public enum FlatJSON {
    /// An integer's decimal digits, without a `String` made for it.
    public static func appendDecimal(_ number: Int64, to bytes: inout [UInt8]) {
        if number < 0 { bytes.append(UInt8(ascii: "-")) }
        var magnitude = number.magnitude
        var digits: (UInt64, UInt64, UInt64) = (0, 0, 0)  // room for the 20 digits of the largest, written from the end
        withUnsafeMutableBytes(of: &digits) { room in
            var start = room.count
            repeat {
                start -= 1
                room[start] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            bytes.append(contentsOf: room[start...])
        }
    }

    // MARK: Writing

    /// `likeEncoder`: also the escapes JSONEncoder writes and JSON does not need (`\/`, `\b`, `\f`), for text that
    /// must be JSONEncoder's byte for byte (`issues`).
    static func appendString(_ text: String, to out: inout [UInt8], likeEncoder: Bool = false) {
        out.append(0x22)
        // Most values need no escape: copied whole, from the string's own bytes (a native string's are contiguous).
        // The others (a change's record is JSON inside JSON: every quote escaped) are copied in runs between the bytes
        // to escape, not a byte at a time.
        var text = text
        text.withUTF8 { bytes in
            var start = 0
            for index in bytes.indices {
                let byte = bytes[index]
                guard byte == 0x22 || byte == 0x5C || byte < 0x20 || likeEncoder && byte == 0x2F else { continue }
                out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start..<index]))
                start = index + 1
                switch byte {
                case 0x22, 0x5C, 0x2F: out += [0x5C, byte]
                case 0x0A: out += [0x5C, 0x6E]
                case 0x0D: out += [0x5C, 0x72]
                case 0x09: out += [0x5C, 0x74]
                case 0x08 where likeEncoder: out += [0x5C, 0x62]
                case 0x0C where likeEncoder: out += [0x5C, 0x66]
                default:
                    let hex: StaticString = "0123456789abcdef"
                    out += [0x5C, 0x75, 0x30, 0x30, hex.utf8Start[Int(byte >> 4)], hex.utf8Start[Int(byte & 0xF)]]
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: bytes[start...]))
        }
        out.append(0x22)
    }

    static func appendObject(_ pairs: some Sequence<(String, String?)>, to out: inout [UInt8], skipNil: Bool) {
        out.append(0x7B)
        var first = true
        for (key, value) in pairs {
            if value == nil && skipNil { continue }
            if !first { out.append(0x2C) }
            first = false
            appendString(key, to: &out)
            out.append(0x3A)
            if let value { appendString(value, to: &out) } else { out += Array("null".utf8) }
        }
        out.append(0x7D)
    }

    /// An array of strings, in their order (an `IN` list of 200,000 IDs bound as one JSON text).
    public static func array(_ texts: some Sequence<String>) -> String {
        var out: [UInt8] = [0x5B]
        for text in texts {
            if out.count > 1 { out.append(0x2C) }
            appendString(text, to: &out)
        }
        out.append(0x5D)
        return String(decoding: out, as: UTF8.self)
    }

    /// `{"a":"1","b":"2"}`, keys sorted; `sorted: false` writes them in the dictionary's order (an item's cells,
    /// which are only ever read back whole: sorting twenty keys a row was most of writing them).
    public static func object(_ fields: RowValues, sorted: Bool = true) -> String { object(fields.dictionary, sorted: sorted) }

    public static func object(_ fields: [String: String], sorted: Bool = true) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(fields.count * 24 + 2)
        if sorted {
            // Sorted by UTF-8 bytes (the same as by characters for the ASCII column names; cheaper a row).
            appendObject(fields.sorted { $0.key.utf8.lexicographicallyPrecedes($1.key.utf8) }.map { ($0.key, $0.value) }, to: &out, skipNil: true)
        } else {
            appendObject(fields.lazy.map { ($0.key, $0.value) }, to: &out, skipNil: true)
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// An object of the given keys, in the given order, with each key's value beside it (`values[i]` is `keys[i]`'s),
    /// leaving out those whose value is nil or empty: for records whose field list is known and sorted beforehand (no
    /// dictionary and no sort a record).
    public static func object(keys: [String], values: [String?]) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(keys.count * 24 + 2)
        appendObject(zip(keys, values).lazy.map { ($0, $1.flatMap { $0.isEmpty ? nil : $0 }) }, to: &out, skipNil: true)
        return String(decoding: out, as: UTF8.self)
    }

    /// A row's cells as an array of values in the order of `columns` (`["1","2"]`): a file's column names are kept
    /// once (`Store.saveInputColumns`) instead of in every row, a third of a roster item's bytes. nil when the cells
    /// are not exactly those columns (the row is then written as an object).
    public static func values(_ fields: RowValues, columns: [String]) -> String? {
        guard fields.count == columns.count else { return nil }
        var out: [UInt8] = [0x5B]
        out.reserveCapacity(fields.count * 12 + 2)
        // The cells of a file's rows are in the file's columns' order already.
        let same = fields.keys == columns
        for (position, column) in columns.enumerated() {
            guard let value = same ? fields.values[position] : fields[column] else { return nil }
            if position > 0 { out.append(0x2C) }
            appendString(value, to: &out)
        }
        out.append(0x5D)
        return String(decoding: out, as: UTF8.self)
    }

    /// An array of changes, each an array `["entity","key","field",before,after]` (nil as `null`): the member names
    /// JSONEncoder would write for `[FieldChange]` were a fifth of a roster item's bytes. A whole record's JSON (field
    /// `*`) is written as itself, not as a string holding it, where every quote would be escaped. `readChanges`
    /// reads this and JSONEncoder's form.
    public static func changes(_ changes: [FieldChange]) -> String {
        guard !changes.isEmpty else { return "[]" }
        var out: [UInt8] = []
        out.reserveCapacity(changes.count * 80 + 2)
        appendChanges(changes, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `changes`, written at the end of `out` (a bulk insert's bytes: no text of its own made for each item).
    public static func appendChanges(_ changes: [FieldChange], to out: inout [UInt8]) {
        out.append(0x5B)
        var first = true
        appendChangeElements(changes, to: &out, first: &first)
        out.append(0x5D)
    }

    /// The changes as `appendChanges` writes them, without the array's brackets: each preceded by a comma unless it
    /// is the `first` of the array (several items' changes written as one array, `ItemPack`).
    public static func appendChangeElements(_ changes: [FieldChange], to out: inout [UInt8], first: inout Bool) {
        // Each change written straight from the array's storage (no copy of the change, nor list of pairs, made for
        // it), through functions given the output (a nested one capturing it had each of its writes checked for
        // exclusive access as the program ran).
        changes.withUnsafeBufferPointer { buffer in
            for index in buffer.indices {
                if !first { out.append(0x2C) }
                first = false
                out.append(0x5B)
                appendString(buffer[index].entity, to: &out)
                out.append(0x2C)
                appendString(buffer[index].key, to: &out)
                out.append(0x2C)
                appendString(buffer[index].field, to: &out)
                let whole = buffer[index].field == "*"
                out.append(0x2C)
                appendValue(buffer[index].before, record: whole, to: &out)
                out.append(0x2C)
                appendValue(buffer[index].after, record: whole, to: &out)
                out.append(0x5D)
            }
        }
    }

    /// An item's issues as JSONEncoder writes them with sorted keys, byte for byte (its escapes too: `\/`, `\b`,
    /// `\f`): the stored issues are searched by their text (`IssueFilter`), and those written before were written by
    /// JSONEncoder. A state-size users.csv whose every row has an error (a spreadsheet took every userId's leading
    /// zeros) spent 5 of its items' 10 s of storing in 1.6 million JSONEncoder calls.
    public static func issues(_ issues: [BatchIssue]) -> String {
        guard !issues.isEmpty else { return "[]" }
        var out: [UInt8] = []
        out.reserveCapacity(issues.count * 240 + 2)
        appendIssues(issues, to: &out)
        return String(decoding: out, as: UTF8.self)
    }

    /// `issues`, written at the end of `out`.
    public static func appendIssues(_ issues: [BatchIssue], to out: inout [UInt8]) {
        out.append(0x5B)
        for (index, issue) in issues.enumerated() {
            if index > 0 { out.append(0x2C) }
            var first = true
            func key(_ name: StaticString) {
                out.append(first ? 0x7B : 0x2C)
                first = false
                out.append(0x22)
                out.append(contentsOf: UnsafeBufferPointer(start: name.utf8Start, count: name.utf8CodeUnitCount))
                out += [0x22, 0x3A]
            }
            key("code")
            appendString(issue.code, to: &out, likeEncoder: true)
            if let column = issue.column { key("column"); appendString(column, to: &out, likeEncoder: true) }
            if let file = issue.file { key("file"); appendString(file, to: &out, likeEncoder: true) }
            key("fix")
            appendString(issue.fix, to: &out, likeEncoder: true)
            key("message")
            appendString(issue.message, to: &out, likeEncoder: true)
            if let planned = issue.planned { key("planned"); out += Array((planned ? "true" : "false").utf8) }
            if let row = issue.row { key("row"); appendDecimal(Int64(row), to: &out) }
            key("severity")
            appendString(issue.severity.rawValue, to: &out, likeEncoder: true)
            if let value = issue.value { key("value"); appendString(value, to: &out, likeEncoder: true) }
            out.append(0x7D)
        }
        out.append(0x5D)
    }

    /// `null`, a string, or — a whole record's value that is one JSON object or array from its first byte to its last
    /// — the JSON itself, which the reader takes back byte for byte.
    private static func appendValue(_ value: String?, record: Bool, to out: inout [UInt8]) {
        guard let value else {
            out += [0x6E, 0x75, 0x6C, 0x6C]
            return
        }
        if record {
            var value = value
            let written = value.withUTF8 { bytes in
                guard compositeEnd(bytes, from: 0) == bytes.count else { return false }
                out.append(contentsOf: bytes)
                return true
            }
            if written { return }
        }
        appendString(value, to: &out)
    }

    /// Where the object or array opening at `start` ends (the index after its closing bracket), skipping what is
    /// inside its strings; nil when `start` opens neither or it never closes.
    static func compositeEnd(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int) -> Int? {
        guard start < bytes.count, bytes[start] == 0x7B || bytes[start] == 0x5B else { return nil }
        var depth = 0, inString = false, index = start
        while index < bytes.count {
            let byte = bytes[index]
            index += 1
            if inString {
                if byte == 0x5C { index += 1 } else if byte == 0x22 { inString = false }
                continue
            }
            switch byte {
            case 0x22: inString = true
            case 0x7B, 0x5B: depth += 1
            case 0x7D, 0x5D:
                depth -= 1
                if depth == 0 { return index }
            default: break
            }
        }
        return nil
    }

    // MARK: Reading

    struct Reader {
        let bytes: [UInt8]
        var at = 0

        mutating func skipSpace() {
            while at < bytes.count, bytes[at] == 0x20 || bytes[at] == 0x0A || bytes[at] == 0x0D || bytes[at] == 0x09 { at += 1 }
        }

        mutating func expect(_ byte: UInt8) -> Bool {
            skipSpace()
            guard at < bytes.count, bytes[at] == byte else { return false }
            at += 1
            return true
        }

        mutating func peek() -> UInt8? {
            skipSpace()
            return at < bytes.count ? bytes[at] : nil
        }

        mutating func hex4() -> UInt32? {
            guard at + 4 <= bytes.count else { return nil }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[at]
                at += 1
                value <<= 4
                switch byte {
                case 0x30...0x39: value |= UInt32(byte - 0x30)
                case 0x41...0x46: value |= UInt32(byte - 0x41 + 10)
                case 0x61...0x66: value |= UInt32(byte - 0x61 + 10)
                default: return nil
                }
            }
            return value
        }

        mutating func string() -> String? {
            guard expect(0x22) else { return nil }
            let start = at
            // Fast path: no escapes.
            while at < bytes.count, bytes[at] != 0x22, bytes[at] != 0x5C { at += 1 }
            guard at < bytes.count else { return nil }
            if bytes[at] == 0x22 {
                defer { at += 1 }
                return String(decoding: bytes[start..<at], as: UTF8.self)
            }
            var out = Array(bytes[start..<at])
            while at < bytes.count {
                let byte = bytes[at]
                at += 1
                switch byte {
                case 0x22: return String(decoding: out, as: UTF8.self)
                case 0x5C:
                    guard at < bytes.count else { return nil }
                    let escape = bytes[at]
                    at += 1
                    switch escape {
                    case 0x22, 0x5C, 0x2F: out.append(escape)
                    case 0x62: out.append(0x08)
                    case 0x66: out.append(0x0C)
                    case 0x6E: out.append(0x0A)
                    case 0x72: out.append(0x0D)
                    case 0x74: out.append(0x09)
                    case 0x75:
                        guard var scalar = hex4() else { return nil }
                        if (0xD800..<0xDC00).contains(scalar), at + 6 <= bytes.count, bytes[at] == 0x5C, bytes[at + 1] == 0x75 {
                            at += 2
                            guard let low = hex4() else { return nil }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        }
                        out += Array(String(Character(Unicode.Scalar(scalar) ?? "\u{FFFD}")).utf8)
                    default: return nil
                    }
                default: out.append(byte)
                }
            }
            return nil
        }

        /// `null`, taken; false (nothing taken) for anything else.
        mutating func null() -> Bool {
            guard peek() == 0x6E, at + 4 <= bytes.count, bytes[at + 1] == 0x75, bytes[at + 2] == 0x6C, bytes[at + 3] == 0x6C else {
                return false
            }
            at += 4
            return true
        }

        /// `true` or `false`.
        mutating func boolean() -> Bool? {
            if peek() == 0x74, at + 4 <= bytes.count, bytes[(at + 1)..<(at + 4)].elementsEqual("rue".utf8) {
                at += 4
                return true
            }
            if peek() == 0x66, at + 5 <= bytes.count, bytes[(at + 1)..<(at + 5)].elementsEqual("alse".utf8) {
                at += 5
                return false
            }
            return nil
        }

        /// A whole number, optionally negative, of at most 18 digits.
        mutating func integer() -> Int? {
            guard let first = peek() else { return nil }
            let negative = first == 0x2D
            if negative { at += 1 }
            var value = 0, digits = 0
            while at < bytes.count, (0x30...0x39).contains(bytes[at]), digits < 18 {
                value = value * 10 + Int(bytes[at] - 0x30)
                at += 1
                digits += 1
            }
            // (A fraction, an exponent or a longer number: not one of ours.)
            guard digits > 0, at == bytes.count || !(0x30...0x39).contains(bytes[at]) && bytes[at] != 0x2E && bytes[at] | 0x20 != 0x65 else {
                return nil
            }
            return negative ? -value : value
        }

        /// A change's value as `changes(_:)` writes it: null (→ .some(nil)), a string, or an object or array (its
        /// text as written); nil when it is none of these.
        mutating func value() -> String?? {
            switch peek() {
            case 0x6E:
                guard at + 4 <= bytes.count, bytes[at + 1] == 0x75, bytes[at + 2] == 0x6C, bytes[at + 3] == 0x6C else { return nil }
                at += 4
                return .some(nil)
            case 0x7B, 0x5B:
                let start = at
                guard let end = bytes.withUnsafeBufferPointer({ FlatJSON.compositeEnd($0, from: start) }) else { return nil }
                at = end
                return .some(String(decoding: bytes[start..<end], as: UTF8.self))
            default:
                return string().map { .some($0) }
            }
        }

        /// An object whose values are strings or null (null → nil), each pair handed to `pair`; false when the
        /// text is not such an object.
        mutating func object(_ pair: (String, String?) -> Void) -> Bool {
            guard expect(0x7B) else { return false }
            if peek() == 0x7D { at += 1; return true }
            while true {
                guard let key = string(), expect(0x3A) else { return false }
                if peek() == 0x6E {
                    guard at + 4 <= bytes.count else { return false }
                    at += 4
                    pair(key, nil)
                } else {
                    guard let value = string() else { return false }
                    pair(key, value)
                }
                if expect(0x2C) { continue }
                return expect(0x7D)
            }
        }
    }

    /// `{"a":"1"}` → ["a": "1"]; nil when the text is not such an object. `keeping`: only these keys (nil: all).
    public static func readObject(_ text: String, keeping: Set<String>? = nil) -> [String: String]? {
        var reader = Reader(bytes: Array(text.utf8))
        var result: [String: String] = [:]
        if let keeping {
            result.reserveCapacity(keeping.count)
            guard reader.object({ key, value in if keeping.contains(key) { result[key] = value ?? "" } }) else { return nil }
        } else {
            result.reserveCapacity(24)
            guard reader.object({ result[$0] = $1 ?? "" }) else { return nil }
        }
        return result
    }

    /// `["1","2"]` as `values(_:columns:)` wrote it → the row of those columns; nil when the text is something else
    /// or has another number of values. `keeping`: where each kept column is among `columns`, and the kept columns
    /// (nil: all).
    public static func readValues(_ text: String, columns: RowValues.Columns, keeping: Kept? = nil) -> RowValues? {
        var reader = Reader(bytes: Array(text.utf8))
        guard reader.expect(0x5B) else { return nil }
        let count = columns.names.count
        var values: [String] = []
        values.reserveCapacity(count)
        if reader.peek() == 0x5D {
            guard count == 0 else { return nil }
            return RowValues(columns: keeping?.columns ?? columns, values: [])
        }
        while true {
            guard values.count < count, let value = reader.string() else { return nil }
            values.append(value)
            if reader.expect(0x2C) { continue }
            guard reader.expect(0x5D), values.count == count else { return nil }
            guard let keeping else { return RowValues(columns: columns, values: values) }
            return RowValues(columns: keeping.columns, values: keeping.positions.map { values[$0] })
        }
    }

    /// Some of a file's columns: which, and where each is among all of them.
    public struct Kept: Sendable {
        public let columns: RowValues.Columns
        public let positions: [Int]

        public init(_ wanted: Set<String>, of all: RowValues.Columns) {
            let kept = all.names.enumerated().filter { wanted.contains($0.element) }
            columns = RowValues.Columns(kept.map(\.element))
            positions = kept.map(\.offset)
        }
    }

    /// An item's issues as `issues(_:)` or JSONEncoder wrote them; nil when the text is something else (a member this
    /// does not know, a value of another kind), which the caller then gives to JSONDecoder.
    public static func readIssues(_ text: String) -> [BatchIssue]? {
        if text == "[]" { return [] }
        var reader = Reader(bytes: Array(text.utf8))
        guard reader.expect(0x5B) else { return nil }
        var result: [BatchIssue] = []
        if reader.peek() == 0x5D { return [] }
        while true {
            guard reader.expect(0x7B) else { return nil }
            var severity: BatchIssue.Severity?, code: String?, message: String?, fix: String?
            var file: String?, row: Int?, column: String?, value: String?, planned: Bool?
            if reader.peek() != 0x7D {
                while true {
                    guard let name = reader.string(), reader.expect(0x3A) else { return nil }
                    switch name {
                    case "row":
                        guard let number = reader.integer() else { return nil }
                        row = number
                    case "planned":
                        guard let flag = reader.boolean() else { return nil }
                        planned = flag
                    default:
                        // (A member written as null is absent, as JSONDecoder reads it.)
                        if reader.null() { break }
                        guard let text = reader.string() else { return nil }
                        switch name {
                        case "severity":
                            guard let read = BatchIssue.Severity(rawValue: text) else { return nil }
                            severity = read
                        case "code": code = text
                        case "message": message = text
                        case "fix": fix = text
                        case "file": file = text
                        case "column": column = text
                        case "value": value = text
                        default: return nil
                        }
                    }
                    if reader.expect(0x2C) { continue }
                    break
                }
            }
            guard reader.expect(0x7D), let severity, let code, let message, let fix else { return nil }
            var issue = BatchIssue(severity, code: code, message: message, fix: fix, file: file, row: row, column: column, value: value)
            issue.planned = planned
            result.append(issue)
            if reader.expect(0x2C) { continue }
            guard reader.expect(0x5D), reader.peek() == nil else { return nil }
            return result
        }
    }

    /// An array of changes as `changes(_:)` or JSONEncoder wrote it (each change an array or an object); nil when
    /// the text is something else.
    public static func readChanges(_ text: String) -> [FieldChange]? {
        if text == "[]" { return [] }
        var reader = Reader(bytes: Array(text.utf8))
        guard reader.expect(0x5B) else { return nil }
        var result: [FieldChange] = []
        if reader.peek() == 0x5D { return [] }
        while true {
            if reader.expect(0x5B) {
                guard let entity = reader.string(), reader.expect(0x2C), let key = reader.string(), reader.expect(0x2C),
                    let field = reader.string(), reader.expect(0x2C), let before = reader.value(), reader.expect(0x2C),
                    let after = reader.value(), reader.expect(0x5D)
                else { return nil }
                result.append(FieldChange(entity: entity, key: key, field: field, before: before, after: after))
            } else {
                var entity: String?, key: String?, field: String?, before: String?, after: String?
                let read = reader.object { name, value in
                    switch name {
                    case "entity": entity = value
                    case "key": key = value
                    case "field": field = value
                    case "before": before = value
                    case "after": after = value
                    default: break
                    }
                }
                guard read, let entity, let key, let field else { return nil }
                result.append(FieldChange(entity: entity, key: key, field: field, before: before, after: after))
            }
            if reader.expect(0x2C) { continue }
            guard reader.expect(0x5D) else { return nil }
            return result
        }
    }
}
