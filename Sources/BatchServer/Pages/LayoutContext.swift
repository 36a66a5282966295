import BatchCore
import Vapor

/// What every page's frame shows: title, navigation for the account's role, who is signed in, the CSRF token.
struct LayoutContext: Encodable {
    struct NavItem: Encodable {
        var label: String
        var path: String
        var current: Bool
    }

    var title: String
    var districtName: String
    var signedIn: Bool
    var username: String
    var roleLabel: String
    var scopeLabel: String
    var csrf: String
    var nav: [NavItem]
    /// The account may change district settings (links to settings pages).
    var isAdmin: Bool

    init(request: Request, title: String, districtName: String = "") {
        self.title = title
        self.districtName = districtName
        let account = request.auth.get(Account.self)
        signedIn = account != nil
        username = account?.displayName ?? ""
        roleLabel = account?.role.label ?? ""
        switch account?.scope {
        case .schools(let keys)?: scopeLabel = "\(keys.count) school\(keys.count == 1 ? "" : "s")"
        default: scopeLabel = "Whole district"
        }
        csrf = request.csrfToken
        isAdmin = account?.can(.manageSettings) ?? false
        var items: [(String, String, Capability?)] = [("Batch Data Update", "/", nil)]
        items.append(("Upload Status", "/uploads", .viewBatches))
        items.append(("Students", "/students", .viewStudents))
        items.append(("Staff", "/staff", .viewStaff))
        items.append(("Schools", "/schools", .manageSchools))
        items.append(("Accounts", "/accounts", .manageAccounts))
        items.append(("Audit log", "/audit", .viewAudit))
        let path = request.url.path
        nav = items.compactMap { label, target, capability in
            guard let account else { return nil }
            if let capability, !account.can(capability) { return nil }
            let current = target == "/" ? path == "/" : path.hasPrefix(target)
            return NavItem(label: label, path: target, current: current)
        }
    }
}

/// A short message shown at the top of a page after a change (`?done=…`).
enum Notice {
    /// A notice that says something did not happen, shown as a warning rather than as a success.
    static func isWarning(_ code: String?) -> Bool { code == "preview-changed" }

    static func text(_ code: String?) -> String? {
        switch code {
        case "school-created": "The school was added."
        case "school-saved": "The school was saved."
        case "account-created": "The account was created."
        case "account-saved": "The account was saved."
        case "settings-saved": "The settings were saved."
        case "item-matched": "The file is matched to the student you chose."
        case "item-skipped": "The file will be skipped."
        case "signed-out": "You have signed out."
        case "batch-queued": "The batch is queued. This page follows it until it is done; you may also leave and come back."
        case "preview-changed":
            "Nothing was processed: the data changed after this preview was made (another batch was applied or undone, "
                + "or a record was edited), and the file, checked again, gives the preview below: what Process would do now. Look at it before you go on."
        case "batch-rechecked": "The file was checked again against the data as it is now: the preview below is up to date."
        case "batch-cancelled": "The batch was cancelled. Nothing of it was applied."
        case "export-queued": "The ZIP is being made. This page follows it and offers the download when it is ready; it is also listed on Upload Status."
        case "batch-undo-queued": "Undo is queued. Fields changed by someone else since the batch will be listed, not overwritten."
        default: nil
        }
    }
}
