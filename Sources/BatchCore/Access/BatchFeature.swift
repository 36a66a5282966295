/// One row of the home page's *Batch Data Update* table.
public struct BatchFeature: Sendable, Hashable, Encodable {
    public let name: String
    public let description: String
    public let path: String
    public let capability: Capability

    enum CodingKeys: String, CodingKey { case name, description, path }

    /// Every batch feature, in the order the seed product lists them.
    public static let all: [BatchFeature] = [
        BatchFeature(
            name: "Roster batch upload",
            description: "Create and update schools, staff, students, classes and enrollments from users.csv and demographics.csv.",
            path: "/roster", capability: .rosterUpload),
        BatchFeature(
            name: "Student Photo",
            description: "Upload student photos named by loginId, compare old and new, and download photos as a ZIP.",
            path: "/photos", capability: .photoBatch),
        BatchFeature(
            name: "Student Email",
            description: "Update student e-mail addresses from a CSV of loginId (or userId) and userEmail.",
            path: "/emails", capability: .emailBatch),
        BatchFeature(
            name: "Student Assessment Documents",
            description: "Upload assessment reports and report cards as PDF files named by loginId.",
            path: "/documents", capability: .documentBatch),
    ]

    /// The features a role may use; the others are not shown.
    public static func available(to role: AccountRole) -> [BatchFeature] {
        all.filter { role.can($0.capability) }
    }
}
