import BatchCore
import BatchStore
import Vapor

/// `/api/v1/auth/token` and `/api/v1/settings`.
struct AccessAPIController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.post("auth", "token", use: token)
        routes.get("settings", use: settings)
        routes.patch("settings", use: updateSettings)
    }

    struct Credentials: Content {
        var username: String
        var password: String
    }

    struct TokenJSON: Content {
        var token: String
    }

    func token(req: Request) async throws -> Response {
        let credentials = try req.content.decode(Credentials.self)
        let account = try await SignIn(request: req).authenticate(username: credentials.username, password: credentials.password)
        let token = try await Self.issueToken(for: account, name: "API sign-in", store: req.store, actor: Actor(account))
        return try await TokenJSON(token: token).encodeResponse(status: .created, for: req)
    }

    /// Makes a new API token; only its hash is kept.
    static func issueToken(for account: Account, name: String, store: Store, actor: Actor) async throws -> String {
        let token = Secrets.token(prefix: "sb_")
        try await store.createAPIToken(tokenHash: Secrets.hash(token), accountID: account.id, name: name, by: actor)
        return token
    }

    static func json(_ settings: DistrictSettings, gate: ActivationGate) -> SettingsJSON {
        SettingsJSON(
            districtName: settings.districtName, batchUploadEnabled: settings.batchUploadEnabled,
            gradeLevels: settings.gradeLevels, documentTypes: settings.documentTypes,
            changeThreshold: settings.changeThreshold,
            activation: ActivationJSON(
                open: gate.isOpen, explanation: gate.explanation,
                schoolsNeedingAttention: gate.problems.map { "\($0.schoolName) \($0.message)" }))
    }

    func settings(req: Request) async throws -> SettingsJSON {
        _ = try req.account()
        return Self.json(try await req.store.settings(), gate: try await req.store.activationGate())
    }

    func updateSettings(req: Request) async throws -> SettingsJSON {
        let account = try req.account(with: .manageSettings)
        let patch = try req.content.decode(SettingsPatch.self)
        var settings = try await req.store.settings()
        var problems: [String] = []
        if let name = patch.districtName {
            let trimmed = name.trimmingCharacters(in: .whitespacesAndNewlines)
            if trimmed.isEmpty { problems.append("districtName: must not be empty.") } else { settings.districtName = trimmed }
        }
        if let enabled = patch.batchUploadEnabled { settings.batchUploadEnabled = enabled }
        if let grades = patch.gradeLevels {
            let cleaned = grades.map { $0.trimmingCharacters(in: .whitespaces) }
            if cleaned.isEmpty || cleaned.contains(where: \.isEmpty) {
                problems.append("gradeLevels: give at least one grade and no empty ones, e.g. [\"P1\",\"P2\"].")
            } else if Set(cleaned).count != cleaned.count {
                problems.append("gradeLevels: each grade may appear only once.")
            } else {
                settings.gradeLevels = cleaned
            }
        }
        if let types = patch.documentTypes {
            switch DocumentBatch.cleanTypes(types) {
            case .success(let cleaned): settings.documentTypes = cleaned
            case .failure(let error): problems += error.problems.map { "documentTypes: \($0)" }
            }
        }
        if let threshold = patch.changeThreshold {
            if (0...100).contains(threshold) { settings.changeThreshold = threshold } else {
                problems.append("changeThreshold: a percentage from 0 to 100 (got \(threshold)).")
            }
        }
        guard problems.isEmpty else { throw AppError.invalid("The settings were not changed.", details: problems) }
        try await req.store.updateSettings(settings, by: Actor(account))
        return Self.json(settings, gate: try await req.store.activationGate())
    }
}
