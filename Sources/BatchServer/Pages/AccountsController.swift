import BatchCore
import BatchStore
import Vapor

/// Accounts: list, create (role and school scope), edit, disable, reset password.
struct AccountsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let accounts = routes.grouped("accounts")
        accounts.get(use: list)
        accounts.post(use: create)
        accounts.get(":id", use: edit)
        accounts.post(":id", use: update)
    }

    struct AccountRow: Encodable {
        var id: String
        var username: String
        var displayName: String
        var role: String
        var scope: String
        var disabled: Bool
    }

    struct Option: Encodable {
        var value: String
        var label: String
        var selected: Bool
    }

    struct AccountForm: Content {
        var username: String?
        var displayName: String
        var role: String
        var scope: String
        var schools: [String]?
        var password: String?
        var disabled: String?
    }

    struct AccountsPage: Encodable {
        var layout: LayoutContext
        var accounts: [AccountRow]
        var roles: [Option]
        var schools: [Option]
        var districtWide: Bool
        var form: AccountForm
        var notice: String?
        var error: String?
    }

    struct EditPage: Encodable {
        var layout: LayoutContext
        var id: String
        var username: String
        var roles: [Option]
        var schools: [Option]
        var districtWide: Bool
        var form: AccountForm
        var error: String?
    }

    static func roleOptions(selected: String) -> [Option] {
        AccountRole.allCases.map { Option(value: $0.rawValue, label: "\($0.label) — \($0.summary)", selected: $0.rawValue == selected) }
    }

    static func schoolOptions(_ schools: [School], selected: Set<String>) -> [Option] {
        schools.map { Option(value: $0.key.rawValue, label: "\($0.name) (\($0.displayID.isEmpty ? "no ID" : $0.displayID))", selected: selected.contains($0.key.rawValue)) }
    }

    static func scopeLabel(_ scope: AccessScope, schools: [School]) -> String {
        guard let keys = scope.schoolKeys else { return "Whole district" }
        let names = schools.filter { keys.contains($0.key) }.map(\.name)
        return names.isEmpty ? "No schools" : names.joined(separator: ", ")
    }

    func list(req: Request) async throws -> View {
        _ = try req.account(with: .manageAccounts)
        let blank = AccountForm(username: "", displayName: "", role: AccountRole.viewer.rawValue, scope: "district")
        return try await render(req, form: blank, notice: Notice.text(req.query[String.self, at: "done"]), error: nil)
    }

    private func render(_ req: Request, form: AccountForm, notice: String?, error: String?) async throws -> View {
        let accounts = try await req.store.accounts()
        let schools = try await req.store.schools()
        let rows = accounts.map { account in
            AccountRow(
                id: account.id.rawValue, username: account.username, displayName: account.displayName,
                role: account.role.label, scope: Self.scopeLabel(account.scope, schools: schools), disabled: account.disabled)
        }
        return try await req.view.render(
            "accounts",
            AccountsPage(
                layout: LayoutContext(request: req, title: "Accounts"), accounts: rows, roles: Self.roleOptions(selected: form.role),
                schools: Self.schoolOptions(schools, selected: Set(form.schools ?? [])), districtWide: form.scope != "schools",
                form: form, notice: notice, error: error))
    }

    /// Checks a submitted form into an account (without password).
    static func account(from form: AccountForm, id: AccountID, username: String, schools: [School]) throws -> Account {
        guard let role = AccountRole(rawValue: form.role) else { throw AppError.invalid("Choose a role.") }
        let displayName = form.displayName.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !displayName.isEmpty else { throw AppError.invalid("Enter the person's name.") }
        let scope: AccessScope
        if form.scope == "schools" {
            let known = Set(schools.map(\.key.rawValue))
            let chosen = Set((form.schools ?? []).filter(known.contains).map(SchoolKey.init(rawValue:)))
            guard !chosen.isEmpty else {
                throw AppError.invalid("Tick at least one school, or choose “Whole district”.")
            }
            scope = .schools(chosen)
        } else {
            scope = .district
        }
        return Account(
            id: id, username: username, displayName: displayName, role: role, scope: scope,
            disabled: form.disabled == "on")
    }

    func create(req: Request) async throws -> Response {
        let admin = try req.account(with: .manageAccounts)
        let form = try req.content.decode(AccountForm.self)
        do {
            let username = Account.normalize(username: form.username ?? "")
            if let problem = Account.usernameProblem(username) { throw AppError.invalid(problem) }
            let password = form.password ?? ""
            if let problem = Account.passwordProblem(password) { throw AppError.invalid(problem) }
            let account = try Self.account(from: form, id: .generate(), username: username, schools: try await req.store.schools())
            let hash = try await Passwords(cost: req.schoolBatch.config.bcryptCost).hash(password, on: req.application)
            try await req.store.createAccount(account, passwordHash: hash, by: Actor(admin))
            return req.redirect(to: "/accounts?done=account-created")
        } catch let error as AppError {
            return try await render(req, form: form, notice: nil, error: error.message).encodeResponse(status: error.status, for: req)
        } catch let error as StoreError {
            return try await render(req, form: form, notice: nil, error: error.userMessage).encodeResponse(status: .conflict, for: req)
        }
    }

    func edit(req: Request) async throws -> View {
        _ = try req.account(with: .manageAccounts)
        guard let id = req.parameters.get("id"), let account = try await req.store.account(id: AccountID(rawValue: id))
        else { throw AppError.notFound() }
        let form = AccountForm(
            username: account.username, displayName: account.displayName, role: account.role.rawValue,
            scope: account.scope.schoolKeys == nil ? "district" : "schools",
            schools: account.scope.schoolKeys?.map(\.rawValue), disabled: account.disabled ? "on" : nil)
        return try await renderEdit(req, account: account, form: form, error: nil)
    }

    private func renderEdit(_ req: Request, account: Account, form: AccountForm, error: String?) async throws -> View {
        let schools = try await req.store.schools()
        return try await req.view.render(
            "account_edit",
            EditPage(
                layout: LayoutContext(request: req, title: "Account \(account.username)"), id: account.id.rawValue,
                username: account.username, roles: Self.roleOptions(selected: form.role),
                schools: Self.schoolOptions(schools, selected: Set(form.schools ?? [])),
                districtWide: form.scope != "schools", form: form, error: error))
    }

    func update(req: Request) async throws -> Response {
        let admin = try req.account(with: .manageAccounts)
        guard let id = req.parameters.get("id"), let existing = try await req.store.account(id: AccountID(rawValue: id))
        else { throw AppError.notFound() }
        let form = try req.content.decode(AccountForm.self)
        do {
            let account = try Self.account(from: form, id: existing.id, username: existing.username, schools: try await req.store.schools())
            if account.id == admin.id && (account.disabled || account.role != .systemAdmin) {
                throw AppError.invalid("You cannot disable your own account or take away your own system administrator role.")
            }
            var hash: String?
            if let password = form.password, !password.isEmpty {
                if let problem = Account.passwordProblem(password) { throw AppError.invalid(problem) }
                hash = try await Passwords(cost: req.schoolBatch.config.bcryptCost).hash(password, on: req.application)
            }
            try await req.store.updateAccount(account, passwordHash: hash, by: Actor(admin))
            return req.redirect(to: "/accounts?done=account-saved")
        } catch let error as AppError {
            return try await renderEdit(req, account: existing, form: form, error: error.message).encodeResponse(status: error.status, for: req)
        }
    }
}
