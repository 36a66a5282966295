import BatchCore
import BatchStore
import Foundation
import Vapor

/// Account work for the command line (`admin create`, `token create`), with the same checks as the pages.
public enum AccountAdmin {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public static func createAccount(
        username rawUsername: String, role rawRole: String, schoolIDs: [String], password: String, services: AppServices
    ) async throws -> Account {
        let username = Account.normalize(username: rawUsername)
        if let problem = Account.usernameProblem(username) { throw Failure(description: problem) }
        guard let role = AccountRole(rawValue: rawRole) else {
            throw Failure(description: "Unknown role “\(rawRole)”. Use one of: \(AccountRole.allCases.map(\.rawValue).joined(separator: ", ")).")
        }
        if let problem = Account.passwordProblem(password) { throw Failure(description: problem) }
        var scope = AccessScope.district
        if !schoolIDs.isEmpty {
            var keys: Set<SchoolKey> = []
            for id in schoolIDs {
                guard let school = try await services.store.school(id: SchoolID(rawValue: id)) else {
                    throw Failure(description: "No school has the ID “\(id)”. Check the Schools page or `GET /api/v1/schools`.")
                }
                keys.insert(school.key)
            }
            scope = .schools(keys)
        }
        let account = Account(id: .generate(), username: username, displayName: username, role: role, scope: scope)
        let hash = try Bcrypt.hash(password, cost: services.config.bcryptCost)
        do {
            try await services.store.createAccount(account, passwordHash: hash, by: .system)
        } catch let error as StoreError {
            throw Failure(description: error.userMessage)
        }
        return account
    }

    public static func createToken(username: String, services: AppServices) async throws -> String {
        guard let credentials = try await services.store.credentials(username: username) else {
            throw Failure(description: "No account is called “\(username)”.")
        }
        guard !credentials.account.disabled else { throw Failure(description: "The account “\(username)” is disabled.") }
        return try await AccessAPIController.issueToken(
            for: credentials.account, name: "command line", store: services.store, actor: .system)
    }
}
