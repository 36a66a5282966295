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
}
