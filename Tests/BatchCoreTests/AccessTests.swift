import BatchCore
import Testing

@Suite("Roles, scope and the home page table")
struct AccessTests {
    @Test(
        "each role sees only the batch features it may use",
        arguments: [
            (AccountRole.systemAdmin, ["Roster batch upload", "Student Photo", "Student Email", "Student Assessment Documents"]),
            (.enrollmentAdmin, ["Roster batch upload"]),
            (.studentRecords, ["Student Photo", "Student Email", "Student Assessment Documents"]),
            (.viewer, []),
        ])
    func featuresByRole(role: AccountRole, expected: [String]) {
        #expect(BatchFeature.available(to: role).map(\.name) == expected)
    }

    @Test("a viewer may read lists but change nothing")
    func viewerIsReadOnly() {
        let viewer = AccountRole.viewer
        #expect(viewer.can(.viewStudents) && viewer.can(.viewStaff) && viewer.can(.viewClasses))
        for capability in [Capability.rosterUpload, .photoBatch, .emailBatch, .documentBatch, .manageAccounts, .manageSchools] {
            #expect(!viewer.can(capability))
        }
    }

    @Test("only system admins manage accounts, schools and settings")
    func adminOnly() {
        for role in AccountRole.allCases where role != .systemAdmin {
            #expect(!role.can(.manageAccounts) && !role.can(.manageSchools) && !role.can(.manageSettings))
        }
        #expect(AccountRole.systemAdmin.capabilities == Set(Capability.allCases))
    }

    @Test("a disabled account can do nothing")
    func disabled() {
        let account = Account(id: "a", username: "x", displayName: "X", role: .systemAdmin, scope: .district, disabled: true)
        #expect(!account.can(.viewStudents))
    }

    @Test("a school-scoped account sees only its schools")
    func scope() {
        let scope = AccessScope.schools(["a", "b"])
        #expect(scope.allows("a"))
        #expect(!scope.allows("c"))
        #expect(scope.allows(anyOf: ["c", "b"]))
        #expect(!scope.allows(anyOf: []))
        #expect(AccessScope.district.allows("anything"))
    }

    @Test("usernames are folded to lower case and checked")
    func usernames() {
        #expect(Account.normalize(username: "  Sara.Lee ") == "sara.lee")
        #expect(Account.usernameProblem("sara.lee") == nil)
        #expect(Account.usernameProblem("sara lee") != nil)
        #expect(Account.usernameProblem("s") != nil)
        #expect(Account.passwordProblem("short") != nil)
        #expect(Account.passwordProblem("long enough!") == nil)
    }
}

@Suite("The roster activation gate")
struct ActivationGateTests {
    let a = School(key: "k1", schoolID: "001", name: "Alpha")
    let b = School(key: "k2", schoolID: "002", name: "Beta")

    @Test("open when switched on and every school has a unique ID")
    func open() {
        let gate = ActivationGate.evaluate(settings: DistrictSettings(), schools: [a, b])
        #expect(gate.isOpen)
    }

    @Test("closed when switched off, and says so")
    func switchedOff() {
        let gate = ActivationGate.evaluate(settings: DistrictSettings(batchUploadEnabled: false), schools: [a, b])
        #expect(!gate.isOpen)
        #expect(gate.explanation.contains("switched off"))
    }

    @Test("closed when a school has no ID, naming the school")
    func missingID() {
        let c = School(key: "k3", schoolID: nil, name: "Gamma")
        let gate = ActivationGate.evaluate(settings: DistrictSettings(), schools: [a, c])
        #expect(!gate.isOpen)
        #expect(gate.problems.map(\.schoolName) == ["Gamma"])
        #expect(gate.problems[0].message == "has no school ID")
    }

    @Test("closed when two IDs differ only in letter case")
    func caseCollision() {
        let c = School(key: "k3", schoolID: "ab1", name: "Gamma")
        let d = School(key: "k4", schoolID: "AB1", name: "Delta")
        let gate = ActivationGate.evaluate(settings: DistrictSettings(), schools: [a, c, d])
        #expect(Set(gate.problems.map(\.schoolName)) == ["Gamma", "Delta"])
    }
}
