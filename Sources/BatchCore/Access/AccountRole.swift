/// What a signed-in account may do (SPEC §1). The API name is the raw value.
public enum AccountRole: String, Sendable, Codable, CaseIterable, Hashable {
    case systemAdmin = "system-admin"
    case enrollmentAdmin = "enrollment-admin"
    case studentRecords = "student-records"
    case viewer

    public var label: String {
        switch self {
        case .systemAdmin: "System administrator"
        case .enrollmentAdmin: "Enrollment administrator"
        case .studentRecords: "Student records (CR Form Management – Student)"
        case .viewer: "Viewer (read-only)"
        }
    }

    public var summary: String {
        switch self {
        case .systemAdmin: "Everything, including accounts, schools and settings."
        case .enrollmentAdmin: "Roster batch upload and processing, roster download, staff and student lists."
        case .studentRecords: "Photo, e-mail and document batches, photo download, student lists."
        case .viewer: "Read-only student, staff and class lists."
        }
    }

    /// The capabilities this role grants.
    public var capabilities: Set<Capability> {
        switch self {
        case .systemAdmin:
            Set(Capability.allCases)
        case .enrollmentAdmin:
            [.rosterUpload, .rosterExport, .viewStudents, .viewStaff, .viewClasses, .viewBatches]
        case .studentRecords:
            [.photoBatch, .emailBatch, .documentBatch, .photoExport, .viewStudents, .viewClasses, .viewBatches]
        case .viewer:
            [.viewStudents, .viewStaff, .viewClasses]
        }
    }

    public func can(_ capability: Capability) -> Bool { capabilities.contains(capability) }
}

/// One thing an account may be allowed to do.
public enum Capability: String, Sendable, CaseIterable, Hashable {
    case manageAccounts, manageSchools, manageSettings, viewAudit
    case rosterUpload, rosterExport
    case photoBatch, emailBatch, documentBatch, photoExport
    case viewStudents, viewStaff, viewClasses, viewBatches
}
