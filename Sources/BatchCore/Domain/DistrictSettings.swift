/// District-wide settings (SPEC §2, §10).
public struct DistrictSettings: Sendable, Hashable, Codable {
    public var districtName: String
    /// The roster batch upload switch of the activation gate.
    public var batchUploadEnabled: Bool
    public var gradeLevels: [String]
    public var documentTypes: [String]
    /// Percentage of existing records a batch may remove or change before it needs explicit approval.
    public var changeThreshold: Int

    public init(
        districtName: String = "School District", batchUploadEnabled: Bool = true,
        gradeLevels: [String] = GradeLevels.oneRoster,
        documentTypes: [String] = ["Assessment Report", "Report Card"], changeThreshold: Int = 10
    ) {
        self.districtName = districtName
        self.batchUploadEnabled = batchUploadEnabled
        self.gradeLevels = gradeLevels
        self.documentTypes = documentTypes
        self.changeThreshold = changeThreshold
    }
}

/// Why roster batch upload is open or closed (SPEC §2's activation gate).
public struct ActivationGate: Sendable, Hashable, Codable {
    public struct Problem: Sendable, Hashable, Codable {
        public var schoolName: String
        public var schoolKey: SchoolKey
        public var message: String
    }

    public var switchedOn: Bool
    public var problems: [Problem]
    public var isOpen: Bool { switchedOn && problems.isEmpty }

    enum CodingKeys: String, CodingKey { case switchedOn, problems, isOpen, explanation }

    public init(switchedOn: Bool, problems: [Problem]) {
        self.switchedOn = switchedOn
        self.problems = problems
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        switchedOn = try container.decode(Bool.self, forKey: .switchedOn)
        problems = try container.decode([Problem].self, forKey: .problems)
    }

    /// Pages and the API read the verdict and its sentence too, so they are encoded with the facts.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(switchedOn, forKey: .switchedOn)
        try container.encode(problems, forKey: .problems)
        try container.encode(isOpen, forKey: .isOpen)
        try container.encode(explanation, forKey: .explanation)
    }

    /// Judges the gate: the switch must be on and every school must have a non-empty ID that no other school
    /// shares, also not in a different letter case (which a person would read as the same ID).
    public static func evaluate(settings: DistrictSettings, schools: [School]) -> ActivationGate {
        var problems: [Problem] = []
        var byFolded: [String: [School]] = [:]
        for school in schools {
            guard let id = school.schoolID, !id.rawValue.isEmpty else {
                problems.append(Problem(schoolName: school.name, schoolKey: school.key, message: "has no school ID"))
                continue
            }
            byFolded[id.rawValue.lowercased(), default: []].append(school)
        }
        for (_, group) in byFolded where group.count > 1 {
            let ids = group.map { "“\($0.displayID)”" }.joined(separator: ", ")
            for school in group {
                problems.append(
                    Problem(
                        schoolName: school.name, schoolKey: school.key,
                        message: "has a school ID that differs only in letter case from another school (\(ids))"))
            }
        }
        problems.sort { ($0.schoolName, $0.message) < ($1.schoolName, $1.message) }
        return ActivationGate(switchedOn: settings.batchUploadEnabled, problems: problems)
    }

    /// One sentence for a page or an API error.
    public var explanation: String {
        if isOpen { return "Roster batch upload is switched on and every school has a unique school ID." }
        var parts: [String] = []
        if !switchedOn {
            parts.append("Roster batch upload is switched off for the district (a system administrator can switch it on under Schools).")
        }
        if !problems.isEmpty {
            parts.append("\(problems.count) school\(problems.count == 1 ? "" : "s") need\(problems.count == 1 ? "s" : "") attention before rosters can be uploaded.")
        }
        return parts.joined(separator: " ")
    }
}
