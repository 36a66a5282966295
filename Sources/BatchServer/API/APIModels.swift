import BatchCore
import BatchStore
import Vapor

/// The JSON shapes of the API (documented in Resources/openapi.json).
struct PersonJSON: Content {
    var userId: String
    var userRole: String
    var loginId: String?
    var firstName: String
    var middleName: String?
    var lastName: String
    var preferredFirstName: String?
    var userEmail: String?
    var userGrade: String?
    var userStatus: String
    var userDistrictId: String?
    var userStateId: String?
    var schoolIds: [String]
    var classNames: [String]?
    var hasPhoto: Bool?

    init(_ person: Person, schoolIDs: [String], classNames: [String]? = nil, hasPhoto: Bool? = nil) {
        userId = person.userID.rawValue
        userRole = person.role.rawValue
        loginId = person.loginID?.rawValue
        firstName = person.firstName
        middleName = person.middleName
        lastName = person.lastName
        preferredFirstName = person.preferredFirstName
        userEmail = person.email
        userGrade = person.grade
        userStatus = person.status.rawValue
        userDistrictId = person.districtID
        userStateId = person.stateID
        self.schoolIds = schoolIDs
        self.classNames = classNames
        self.hasPhoto = hasPhoto
    }
}

struct PageJSON<Item: Content>: Content {
    var items: [Item]
    var total: Int
    var limit: Int
    var offset: Int
}

struct SchoolJSON: Content {
    var schoolId: String?
    var name: String
    var students: Int
    var staff: Int
    var classes: Int
}

struct ClassJSON: Content {
    var classId: String
    var schoolId: String?
    var className: String
    var classGrade: String?
    var classSubject: String?
    var students: Int
}

struct StudentDetailJSON: Content {
    struct Enrollment: Content {
        var classId: String
        var className: String
        var role: String
        var primaryTeacher: Bool
    }
    struct Photo: Content {
        var width: Int
        var height: Int
        var byteSize: Int
        var version: Int
        var contentHash: String
    }
    var person: PersonJSON
    var classes: [Enrollment]
    var demographics: [String: String]?
    var photo: Photo?
}

struct SettingsJSON: Content {
    var districtName: String
    var batchUploadEnabled: Bool
    var gradeLevels: [String]
    var documentTypes: [String]
    var changeThreshold: Int
    var activation: ActivationJSON
}

struct ActivationJSON: Content {
    var open: Bool
    var explanation: String
    var schoolsNeedingAttention: [String]
}

struct SettingsPatch: Content {
    var districtName: String?
    var batchUploadEnabled: Bool?
    var gradeLevels: [String]?
    var documentTypes: [String]?
    var changeThreshold: Int?
}
