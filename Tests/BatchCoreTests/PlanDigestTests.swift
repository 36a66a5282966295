import BatchCore
import Foundation
import Testing

@Suite("The plan digest kept with a planned batch: its lock scope as written and read back")
struct PlanDigestTests {
    func roundTrip(_ scope: LockScope) throws -> (text: String, back: LockScope) {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let text = String(decoding: try encoder.encode(PlanDigest(changedExisting: ["person": 2], lockScope: scope, token: "t")), as: UTF8.self)
        return (text, try JSONDecoder().decode(PlanDigest.self, from: Data(text.utf8)).lockScope)
    }

    @Test("a scope's people are one text of a line each, read back as the same people in the same order")
    func people() throws {
        let scope = LockScope(schoolIDs: ["SCH0002", "SCH0001"], people: ["00000002", "00000001", "a.b-c_9", "00000002"])
        let (text, back) = try roundTrip(scope)
        #expect(text.contains(#""people":"00000001\n00000002\na.b-c_9""#))
        #expect(back == scope)
        #expect(back.people == ["00000001", "00000002", "a.b-c_9"] && back.schoolIDs == ["SCH0001", "SCH0002"])
        #expect(try roundTrip(LockScope(people: [])).back == LockScope(people: []))
        #expect(try roundTrip(LockScope(people: ["only"])).back.people == ["only"])
    }

    @Test("people that a line each could not hold (an empty ID, a line break) are written as a list, and a list written before is read")
    func lists() throws {
        for people in [["", "x"], ["two\nlines", "y"]] {
            let scope = LockScope(schoolIDs: ["S"], people: people)
            let (text, back) = try roundTrip(scope)
            #expect(text.contains(#""people":["#))
            #expect(back == scope)
        }
        let earlier = #"{"changedExisting":{},"lockScope":{"people":["p1","p2"],"schoolIDs":["S1"]}}"#
        let digest = try JSONDecoder().decode(PlanDigest.self, from: Data(earlier.utf8))
        #expect(digest.lockScope.people == ["p1", "p2"] && digest.lockScope.schoolIDs == ["S1"])
    }

    @Test("a digest's stamp, read alone, is its token and data version; a digest kept before them has neither")
    func stamp() throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        let digest = PlanDigest(
            changedExisting: ["person": 2], lockScope: LockScope(schoolIDs: ["S"], people: (0..<5_000).map { String(format: "%08d", $0) }),
            dataVersion: 41, token: "plan-token")
        let stamp = try JSONDecoder().decode(PlanDigest.Stamp.self, from: encoder.encode(digest))
        #expect(stamp.token == "plan-token" && stamp.dataVersion == 41)
        let earlier = #"{"changedExisting":{},"lockScope":{"people":["p1","p2"],"schoolIDs":["S1"]}}"#
        let old = try JSONDecoder().decode(PlanDigest.Stamp.self, from: Data(earlier.utf8))
        #expect(old.token == nil && old.dataVersion == nil)
    }
}
