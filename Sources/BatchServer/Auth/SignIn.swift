import BatchCore
import BatchStore
import Vapor

/// Checks a username and password with throttling: after `signInFailureLimit` failures within the window, further
/// tries for that username are refused until the window has passed, and every failure is answered slowly.
struct SignIn {
    let request: Request

    /// A bcrypt hash of a random string, checked when the username does not exist so the answer takes as long.
    private static let decoyHash = try! Bcrypt.hash("decoy-\(UUID().uuidString)", cost: 4)

    func authenticate(username rawUsername: String, password: String) async throws -> Account {
        let config = request.schoolBatch.config
        let username = Account.normalize(username: rawUsername)
        let windowStart = Clock.nowMillis() - Int64(config.signInWindowMinutes) * 60_000
        let failures = try await request.store.signInFailures(username: username, since: windowStart)
        if failures.count >= config.signInFailureLimit {
            let unlock = (failures.latest ?? Clock.nowMillis()) + Int64(config.signInWindowMinutes) * 60_000
            let minutes = max(1, Int((unlock - Clock.nowMillis() + 59_999) / 60_000))
            throw AppError(
                .tooManyRequests, "too_many_attempts",
                "Too many failed sign-ins for “\(username)”. Wait \(minutes) minute\(minutes == 1 ? "" : "s") and try again, or ask a system administrator to reset the password.")
        }
        let passwords = Passwords(cost: config.bcryptCost)
        let credentials = try await request.store.credentials(username: username)
        let valid = try await passwords.verify(
            password, hash: credentials?.passwordHash ?? Self.decoyHash, on: request.application)
        guard let credentials, valid, !credentials.account.disabled else {
            _ = try await request.store.recordSignInFailure(
                username: username, remoteAddress: request.remoteAddress?.ipAddress ?? "unknown", since: windowStart)
            if config.signInFailureDelayMilliseconds > 0 {
                try await Task.sleep(for: .milliseconds(config.signInFailureDelayMilliseconds))
            }
            if let credentials, valid, credentials.account.disabled {
                throw AppError(.unauthorized, "account_disabled", "This account has been disabled. Ask a system administrator.")
            }
            throw AppError(.unauthorized, "wrong_credentials", "The username or password is not right. Check both and try again.")
        }
        try await request.store.clearSignInFailures(username: username)
        try await request.store.recordSignIn(credentials.account.id)
        return credentials.account
    }
}
