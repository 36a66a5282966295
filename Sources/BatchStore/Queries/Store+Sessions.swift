import BatchCore

/// A signed-in browser session.
public struct SessionRecord: Sendable {
    public var account: Account
    public var csrfToken: String
    public var expiresAt: Int64
}

extension Store {
    /// Stores a session under the hash of its cookie value.
    public func createSession(tokenHash: String, accountID: AccountID, csrfToken: String, expiresAt: Int64) async throws {
        try await backend.write { db in
            let now = Clock.nowMillis()
            try db.execute("DELETE FROM sessions WHERE expires_at < ?", [.int(now)])
            try db.execute(
                "INSERT INTO sessions (token_hash, account_id, csrf_token, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
                [.text(tokenHash), .id(accountID), .text(csrfToken), .int(now), .int(expiresAt)])
        }
    }

    /// The live session for a cookie's hash; nil when unknown, expired, or its account is disabled.
    public func session(tokenHash: String) async throws -> SessionRecord? {
        try await backend.read { db in
            guard
                let row = try db.first(
                    """
                    SELECT s.csrf_token, s.expires_at, a.account_id, a.username, a.display_name, a.role, a.district_wide,
                        a.disabled
                    FROM sessions s JOIN accounts a ON a.account_id = s.account_id WHERE s.token_hash = ?
                    """, [.text(tokenHash)])
            else { return nil }
            let expiresAt = try row.int("expires_at")
            let account = try Self.account(db, row)
            guard expiresAt > Clock.nowMillis(), !account.disabled else { return nil }
            return SessionRecord(account: account, csrfToken: try row.text("csrf_token"), expiresAt: expiresAt)
        }
    }

    public func deleteSession(tokenHash: String) async throws {
        try await backend.write { db in try db.execute("DELETE FROM sessions WHERE token_hash = ?", [.text(tokenHash)]) }
    }

    /// Stores an API token under its hash.
    public func createAPIToken(tokenHash: String, accountID: AccountID, name: String, by actor: Actor) async throws {
        try await backend.write { db in
            try db.execute(
                "INSERT INTO api_tokens (token_hash, account_id, name, created_at) VALUES (?, ?, ?, ?)",
                [.text(tokenHash), .id(accountID), .text(name), .int(Clock.nowMillis())])
            let username = try db.first("SELECT username FROM accounts WHERE account_id = ?", [.id(accountID)])?
                .optionalText("username") ?? accountID.rawValue
            try Self.appendAudit(
                db, actor: actor, action: "token.create", targetType: "account", targetID: username,
                changes: [.init(field: "token", before: nil, after: name)])
        }
    }

    /// The enabled account an API token belongs to.
    public func account(apiTokenHash: String) async throws -> Account? {
        try await backend.write { db in
            guard
                let row = try db.first(
                    """
                    SELECT a.account_id, a.username, a.display_name, a.role, a.district_wide, a.disabled
                    FROM api_tokens t JOIN accounts a ON a.account_id = t.account_id WHERE t.token_hash = ?
                    """, [.text(apiTokenHash)])
            else { return nil }
            let account = try Self.account(db, row)
            guard !account.disabled else { return nil }
            try db.execute("UPDATE api_tokens SET last_used_at = ? WHERE token_hash = ?", [.int(Clock.nowMillis()), .text(apiTokenHash)])
            return account
        }
    }

    /// Counts a failed sign-in and returns how many failures the username has had since `since`.
    public func recordSignInFailure(username: String, remoteAddress: String, since: Int64) async throws -> Int {
        try await backend.write { db in
            let now = Clock.nowMillis()
            try db.execute("DELETE FROM sign_in_failures WHERE at < ?", [.int(now - 86_400_000)])
            try db.execute(
                "INSERT INTO sign_in_failures (username, remote_address, at) VALUES (?, ?, ?)",
                [.text(username), .text(remoteAddress), .int(now)])
            return Int(try db.scalarInt(
                "SELECT COUNT(*) AS n FROM sign_in_failures WHERE username = ? AND at >= ?", [.text(username), .int(since)]))
        }
    }

    /// Failed sign-ins of a username since a time, and the newest one's time.
    public func signInFailures(username: String, since: Int64) async throws -> (count: Int, latest: Int64?) {
        try await backend.read { db in
            let row = try db.first(
                "SELECT COUNT(*) AS n, MAX(at) AS latest FROM sign_in_failures WHERE username = ? AND at >= ?",
                [.text(username), .int(since)])
            return (Int(row?["n"].int ?? 0), row?["latest"].int)
        }
    }

    public func clearSignInFailures(username: String) async throws {
        try await backend.write { db in try db.execute("DELETE FROM sign_in_failures WHERE username = ?", [.text(username)]) }
    }
}
