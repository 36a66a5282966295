import BatchCore
import Foundation
import Testing

@Suite("FlatJSON: the cells and changes of batch items, written and read without Foundation's coder")
struct FlatJSONTests {
    let cells = ["userId": "000123", "lastName": "陳", "note": "a \"quoted\" \\ back\nslash\t\u{1}", "empty": ""]

    @Test("an object of strings round-trips, and JSONDecoder reads what it writes (and it reads JSONEncoder's)")
    func objects() throws {
        let text = FlatJSON.object(cells)
        #expect(FlatJSON.readObject(text) == cells)
        #expect(try JSONDecoder().decode([String: String].self, from: Data(text.utf8)) == cells)
        let encoded = String(decoding: try JSONEncoder().encode(cells), as: UTF8.self)
        #expect(FlatJSON.readObject(encoded) == cells)
        #expect(FlatJSON.readObject(#"{"a":"\u00e9\ud83d\ude00","b":"x\/y"}"#) == ["a": "é😀", "b": "x/y"])
        #expect(FlatJSON.readObject("{}") == [:])
        #expect(FlatJSON.readObject(FlatJSON.object(cells, sorted: false)) == cells)
        #expect(FlatJSON.readObject(text, keeping: ["userId", "empty", "absent"]) == ["userId": "000123", "empty": ""])
        #expect(FlatJSON.readObject(#"{"a":1}"#) == nil, "not a flat object of strings: the caller falls back to JSONDecoder")
        // Escapes first, last, next to each other and alone, between plain text.
        let edges = ["q": "\"", "b": "\\\"\n", "e": "\"edge\\", "c": "\u{1F}x\u{0}", "run": "plain 陳 text\tthen more"]
        let edgeText = FlatJSON.object(edges)
        #expect(try JSONDecoder().decode([String: String].self, from: Data(edgeText.utf8)) == edges)
        #expect(FlatJSON.readObject(edgeText) == edges)
        #expect(edgeText.contains(#""e":"\"edge\\""#) && edgeText.contains(#"\u001fx\u0000"#))
    }

    @Test("a byte to escape is found at any place of a text, in or across the eight-byte words it is read in")
    func escapesAtEveryPlace() throws {
        // Texts of 0 to 24 bytes (plain ASCII, and with a two-byte letter), each escapable byte put at every place.
        for special in ["\"", "\\", "\n", "\u{1F}", "\u{0}", "/", "é"] {
            for length in 0...24 {
                for place in 0...length {
                    let plain = String(repeating: "a", count: length)
                    let text = String(plain.prefix(place)) + special + String(plain.dropFirst(place))
                    let written = FlatJSON.array([text, plain])
                    #expect(try JSONDecoder().decode([String].self, from: Data(written.utf8)) == [text, plain], "\(written)")
                    // As JSONEncoder writes it (its `\/` included), byte for byte.
                    let issue = BatchIssue(.error, code: "x", message: text, fix: plain)
                    #expect(FlatJSON.issues([issue]) == String(decoding: try Self.sortedEncoder.encode([issue]), as: UTF8.self))
                    // A record whose string has the byte at that place: still one record, written as itself.
                    let record = FlatJSON.object(["k": text])
                    let changes = [FieldChange(entity: "person", key: "1", field: "*", before: nil, after: record)]
                    #expect(FlatJSON.changes(changes).hasSuffix("null,\(record)]]") && FlatJSON.readChanges(FlatJSON.changes(changes)) == changes)
                }
            }
        }
    }

    static let sortedEncoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()

    @Test("an array of strings is what JSONDecoder reads back, escapes and Chinese included")
    func arrays() throws {
        let texts = ["000123", "陳", "a \"quoted\" \\ back\nslash\t\u{1}", ""]
        #expect(try JSONDecoder().decode([String].self, from: Data(FlatJSON.array(texts).utf8)) == texts)
        #expect(FlatJSON.array([String]()) == "[]")
    }

    @Test("changes round-trip as arrays without member names, a whole record's JSON unescaped; JSONEncoder's form is still read")
    func changes() throws {
        let changes = [
            FieldChange(entity: "person", key: "000123", field: "*", before: nil, after: #"{"firstName":"詠欣","note":"a \"[quoted]\" {x}"}"#),
            FieldChange(entity: "enrollment", key: "000123|N-5A", field: "*", before: "{}", after: nil),
            FieldChange(entity: "person", key: "000124", field: "lastName", before: "Lee", after: "Li"),
            FieldChange(entity: "person", key: "000125", field: "lastName", before: nil, after: #"{"not":"a record"}"#),
            // A whole record's value that is not one JSON object is written as a string.
            FieldChange(entity: "class", key: "N-5A", field: "*", before: #"{"a":"1"} {"#, after: "[1,"),
        ]
        let text = FlatJSON.changes(changes)
        #expect(FlatJSON.readChanges(text) == changes)
        #expect(text.hasPrefix(#"[["person","000123","*",null,{"firstName":"詠欣""#), "the record is written as itself")
        #expect(!text.contains(#""entity":"#), "no member names")
        #expect(text.contains(#""lastName",null,"{\"not\":\"a record\"}"]"#), "a field's value stays a string")
        // Still JSON any parser reads.
        let parsed = try #require(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[Any]])
        #expect(parsed.count == changes.count)
        #expect((parsed[0][4] as? [String: String])?["firstName"] == "詠欣")
        // Changes stored by an earlier version (JSONEncoder's objects) are read as they were.
        #expect(FlatJSON.readChanges(String(decoding: try JSONEncoder().encode(changes), as: UTF8.self)) == changes)
        #expect(FlatJSON.readChanges("[]") == [])
        #expect(FlatJSON.readChanges(#"[["person","1","*",null,{"a":"1"]"#) == nil, "an unclosed record is refused")
    }

    @Test("issues are written as JSONEncoder writes them with sorted keys, byte for byte, and read back; other forms fall back")
    func issues() throws {
        // Every ASCII byte, Chinese, an emoji, and each member set or absent.
        let every = String(decoding: (0..<128).map { UInt8($0) }, as: UTF8.self)
        var planned = BatchIssue.error("leading_zeros_lost", "zeros \(every) 陳 😀 1/2", fix: "Write 00000001 / \"text\"", column: "userId", value: "1")
        planned.file = "users.csv"
        planned.row = 1_433_601
        planned.planned = true
        var notPlanned = BatchIssue.warning("class_over_80", "", fix: every, column: nil, value: nil)
        notPlanned.planned = false
        notPlanned.row = -3
        let issues = [planned, notPlanned, BatchIssue.error("bad", "message", fix: "fix")]
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        for list in [issues, [issues[2]], []] {
            let written = FlatJSON.issues(list)
            #expect(written == String(decoding: try encoder.encode(list), as: UTF8.self))
            #expect(FlatJSON.readIssues(written) == list)
            #expect(try JSONDecoder().decode([BatchIssue].self, from: Data(written.utf8)) == list)
        }
        // JSONDecoder's readings of other forms: spaces, a null member, an escape \\u written in capitals.
        #expect(
            FlatJSON.readIssues(#"[ { "severity" : "warning", "code":"c", "message":"\u00E9", "fix":"", "column":null, "row": 7 } ]"#)
                == [BatchIssue(.warning, code: "c", message: "é", fix: "", row: 7)])
        // What it does not read is left to JSONDecoder: a member it does not know, a number that is not a whole one,
        // a severity that is not one, a missing member.
        for other in [
            #"[{"code":"c","fix":"","message":"","severity":"error","extra":"x"}]"#, #"[{"code":"c","fix":"","message":"","row":2.5,"severity":"error"}]"#,
            #"[{"code":"c","fix":"","message":"","severity":"fatal"}]"#, #"[{"code":"c","message":"","severity":"error"}]"#, "{}",
            #"[{"code":"c","fix":"","message":"","severity":"error"}]x"#,
        ] {
            #expect(FlatJSON.readIssues(other) == nil, "\(other)")
        }
    }

    @Test("a row's cells as values only round-trip with the file's columns, in any order; other cells are refused")
    func values() throws {
        let row = RowValues(cells)
        let columns = row.keys
        let names = RowValues.Columns(columns)
        let text = try #require(FlatJSON.values(row, columns: columns))
        #expect(!text.contains("userId"), "the column names are not in every row")
        #expect(FlatJSON.readValues(text, columns: names) == row)
        #expect(FlatJSON.readValues(text, columns: names)?.dictionary == cells)
        #expect(try JSONDecoder().decode([String].self, from: Data(text.utf8)).count == cells.count)
        // Columns in another order than the row's: looked up, still right.
        let reversed = Array(columns.reversed())
        let reversedText = try #require(FlatJSON.values(row, columns: reversed))
        #expect(reversedText != text)
        #expect(FlatJSON.readValues(reversedText, columns: RowValues.Columns(reversed)) == row)
        #expect(FlatJSON.readValues(text, columns: names, keeping: FlatJSON.Kept(["userId", "absent"], of: names)) == ["userId": "000123"])
        // Cells that are not exactly the columns are written as an object instead.
        #expect(FlatJSON.values(row, columns: columns + ["extra"]) == nil)
        #expect(FlatJSON.values(["other": "1", "userId": "2", "lastName": "3", "note": "4"], columns: columns) == nil)
        // A value count that does not match the columns is not read as a row.
        #expect(FlatJSON.readValues(text, columns: RowValues.Columns(Array(columns.dropLast()))) == nil)
        #expect(FlatJSON.readValues(#"["a"]"#, columns: RowValues.Columns(["a", "b"])) == nil)
        #expect(FlatJSON.readValues("[]", columns: RowValues.Columns([])) == [:])
    }

    @Test("a row's values read like a dictionary: equal and hashed alike whatever the columns' order, set and removed by name, coded as an object")
    func rowValues() throws {
        let shared = RowValues.Columns(["userId", "lastName"])
        let first = RowValues(columns: shared, values: ["000123", "Chan"])
        let other = RowValues(columns: RowValues.Columns(["lastName", "userId"]), values: ["Chan", "000123"])
        #expect(first == other)
        #expect(first.hashValue == other.hashValue)
        #expect(first["userId"] == "000123" && first["absent"] == nil)
        #expect(first != RowValues(columns: shared, values: ["000124", "Chan"]))
        #expect(first != ["userId": "000123"])
        var changed = first
        changed["firstName"] = "詠欣"
        changed["userId"] = "000999"
        #expect(changed == ["userId": "000999", "lastName": "Chan", "firstName": "詠欣"])
        #expect(first["userId"] == "000123", "a copy changed leaves the original as it was")
        changed["lastName"] = nil
        #expect(changed.keys == ["userId", "firstName"])
        #expect(Dictionary(uniqueKeysWithValues: changed.map { ($0.key, $0.value) }) == changed.dictionary)
        let coded = try JSONEncoder().encode(first)
        #expect(try JSONDecoder().decode([String: String].self, from: coded) == first.dictionary)
        #expect(try JSONDecoder().decode(RowValues.self, from: coded) == first)
    }

    @Test("a pack takes runs of plain items (one file, one state, numbers in a row, at most 256) and gives back each one's row, span, target and changes")
    func packs() throws {
        func item(_ id: Int64, _ file: String = "users.csv", _ state: ItemState = .ready, changes: Int = 2) -> BatchItem {
            var item = BatchItem(
                id: id, fileName: file, row: Int(id) + 1, input: [:], target: id % 3 == 0 ? nil : "t\"\(id)\\陳", state: state,
                changes: (0..<changes).map {
                    FieldChange(entity: $0 == 0 ? (id % 2 == 0 ? "class" : "person") : "enrollment", key: "\(id)", field: $0 == 1 ? "*" : "f\($0)", before: nil, after: $0 == 1 ? #"{"a":"[\"class\","}"# : "v\"\($0)")
                })
            item.source = FileSpan(offset: Int(id) * 100, length: 90 + Int(id % 7))
            return item
        }
        var items = (1...600).map { item(Int64($0)) }
        items[9].issues = [BatchIssue(.warning, code: "w", message: "m", fix: "f")]
        items[19].state = .error
        items[29].source = nil
        items[39].manualTarget = "x"
        items[49].suggestions = [Suggestion(userId: "1", label: "one")]
        for index in 60..<70 { items[index] = item(Int64(index + 1), "demographics.csv") }
        for index in 70..<75 { items[index] = item(Int64(index + 1), "users.csv", .unchanged, changes: 0) }
        items[80].id += 1000
        let units = items.withUnsafeBufferPointer { ItemPack.units($0) { _ in true } }
        #expect(units.first?.lowerBound == 0 && units.last?.upperBound == items.count)
        #expect(zip(units, units.dropFirst()).allSatisfy { $0.upperBound == $1.lowerBound }, "every item once, in order")
        let starts = Set(units.map(\.lowerBound))
        for single in [9, 19, 29, 39, 49] { #expect(units.contains(single..<(single + 1)), "\(single) stays a row of its own") }
        for start in [60, 70, 75, 80, 81] { #expect(starts.contains(start), "a run starts at \(start)") }
        #expect(units.allSatisfy { $0.count <= ItemPack.capacity } && units.contains { $0.count == ItemPack.capacity })
        #expect(items.withUnsafeBufferPointer { ItemPack.units($0) { $0 != "users.csv" } }.filter { $0.count > 1 } == [60..<70])
        for unit in units where unit.count > 1 {
            var entries: [UInt8] = [], changes: [UInt8] = []
            items.withUnsafeBufferPointer {
                ItemPack.appendEntries($0, unit, to: &entries)
                ItemPack.appendChanges($0, unit, to: &changes)
            }
            let read = try #require(ItemPack.readEntries(String(decoding: entries, as: UTF8.self)))
            #expect(read == items[unit].map { ItemPack.Entry(row: $0.row!, span: $0.source!, target: $0.target, changeCount: $0.changes.count) })
            let all = try #require(FlatJSON.readChanges(String(decoding: changes, as: UTF8.self)))
            #expect(ItemPack.split(all, among: read) == items[unit].map(\.changes))
            #expect(ItemPack.split(Array(all.dropLast()), among: read) == nil || all.isEmpty)
            for entity in ["class", "person", "enrollment", "demographics", "clas"] {
                let touching = changes.withUnsafeBufferPointer { ItemPack.touching(entity, changes: $0, entries: read) }
                #expect(touching == items[unit].map { $0.changes.contains { $0.entity == entity } }, "\(entity)")
            }
            let short = Array(FlatJSON.changes(Array(all.dropLast())).utf8)
            #expect(short.withUnsafeBufferPointer { ItemPack.touching("class", changes: $0, entries: read) } == nil || all.isEmpty)
        }
        #expect(ItemPack.readEntries("[[2,0,0,null,1]]") == nil, "a span of no bytes")
        #expect(ItemPack.readEntries("[[2,0,5,null,1]") == nil && ItemPack.readEntries("[]") == [])
    }
}
