import BatchCore

/// An account with the hash of its password, for signing in.
public struct AccountCredentials: Sendable {
    public var account: Account
    public var passwordHash: String
}

extension Store {
    static let accountColumns = "account_id, username, display_name, role, district_wide, disabled"

    public func accountCount() async throws -> Int {
        try await backend.read { db in Int(try db.scalarInt("SELECT COUNT(*) AS n FROM accounts")) }
    }

    public func accounts() async throws -> [Account] {
        try await backend.read { db in
            try db.query("SELECT \(Self.accountColumns) FROM accounts ORDER BY username").map { try Self.account(db, $0) }
        }
    }

    public func account(id: AccountID) async throws -> Account? {
        try await backend.read { db in
            try db.first("SELECT \(Self.accountColumns) FROM accounts WHERE account_id = ?", [.id(id)])
                .map { try Self.account(db, $0) }
        }
    }

    /// The account and password hash for a username (compared case-insensitively).
    public func credentials(username: String) async throws -> AccountCredentials? {
        try await backend.read { db in
            guard
                let row = try db.first(
                    "SELECT \(Self.accountColumns), password_hash FROM accounts WHERE username = ?",
                    [.text(Account.normalize(username: username))])
            else { return nil }
            return AccountCredentials(account: try Self.account(db, row), passwordHash: try row.text("password_hash"))
        }
    }

    /// Creates an account. A username in use is refused.
    public func createAccount(_ account: Account, passwordHash: String, by actor: Actor) async throws {
        try await backend.write { db in
            if try db.first("SELECT account_id FROM accounts WHERE username = ?", [.text(account.username)]) != nil {
                throw StoreError.duplicate("The username “\(account.username)” is already taken. Choose another.")
            }
            try db.execute(
                """
                INSERT INTO accounts (account_id, username, display_name, role, district_wide, password_hash, disabled,
                    created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """,
                [
                    .id(account.id), .text(account.username), .text(account.displayName), .text(account.role.rawValue),
                    .bool(account.scope.schoolKeys == nil), .text(passwordHash), .bool(account.disabled),
                    .int(Clock.nowMillis()),
                ])
            try Self.replaceScope(db, account)
            try Self.appendAudit(
                db, actor: actor, action: "account.create", targetType: "account", targetID: account.username,
                changes: AuditEntry.diff(before: [:], after: try Self.auditFields(db, account)))
        }
    }

    /// Changes an account's name, role, scope and whether it is disabled (and its password when given).
    public func updateAccount(_ account: Account, passwordHash: String?, by actor: Actor) async throws {
        try await backend.write { db in
            guard
                let row = try db.first("SELECT \(Self.accountColumns) FROM accounts WHERE account_id = ?", [.id(account.id)])
            else { throw StoreError.notFound("That account does not exist.") }
            let before = try Self.account(db, row)
            try db.execute(
                "UPDATE accounts SET display_name = ?, role = ?, district_wide = ?, disabled = ? WHERE account_id = ?",
                [
                    .text(account.displayName), .text(account.role.rawValue), .bool(account.scope.schoolKeys == nil),
                    .bool(account.disabled), .id(account.id),
                ])
            try Self.replaceScope(db, account)
            var changes = AuditEntry.diff(
                before: try Self.auditFields(db, before), after: try Self.auditFields(db, account))
            if let passwordHash {
                try db.execute("UPDATE accounts SET password_hash = ? WHERE account_id = ?", [.text(passwordHash), .id(account.id)])
                try db.execute("DELETE FROM sessions WHERE account_id = ?", [.id(account.id)])
                changes.append(.init(field: "password", before: nil, after: "changed"))
            }
            if account.disabled {
                // A disabled account is signed out everywhere at once.
                try db.execute("DELETE FROM sessions WHERE account_id = ?", [.id(account.id)])
            }
            if !changes.isEmpty {
                try Self.appendAudit(
                    db, actor: actor, action: "account.update", targetType: "account", targetID: account.username,
                    changes: changes)
            }
        }
    }

    public func recordSignIn(_ id: AccountID) async throws {
        try await backend.write { db in
            try db.execute("UPDATE accounts SET last_sign_in_at = ? WHERE account_id = ?", [.int(Clock.nowMillis()), .id(id)])
        }
    }

    private static func replaceScope(_ db: any SQLConnection, _ account: Account) throws {
        try db.execute("DELETE FROM account_schools WHERE account_id = ?", [.id(account.id)])
        for key in (account.scope.schoolKeys ?? []).sorted() {
            try db.execute("INSERT INTO account_schools (account_id, school_key) VALUES (?, ?)", [.id(account.id), .id(key)])
        }
    }

    private static func auditFields(_ db: any SQLConnection, _ account: Account) throws -> [String: String?] {
        let scope: String
        if let keys = account.scope.schoolKeys {
            let names = try keys.sorted().compactMap { key in
                try db.first("SELECT school_id, name FROM schools WHERE school_key = ?", [.id(key)])
                    .map { row in try row.optionalText("school_id") ?? row.text("name") }
            }
            scope = names.sorted().joined(separator: ",")
        } else {
            scope = "district"
        }
        return [
            "displayName": account.displayName, "role": account.role.rawValue, "scope": scope,
            "disabled": String(account.disabled),
        ]
    }

    static func account(_ db: any SQLConnection, _ row: SQLRow) throws -> Account {
        let id = AccountID(rawValue: try row.text("account_id"))
        let scope: AccessScope
        if row.bool("district_wide") {
            scope = .district
        } else {
            let keys = try db.query("SELECT school_key FROM account_schools WHERE account_id = ?", [.id(id)])
                .map { SchoolKey(rawValue: try $0.text("school_key")) }
            scope = .schools(Set(keys))
        }
        return Account(
            id: id, username: try row.text("username"), displayName: try row.text("display_name"),
            role: AccountRole(rawValue: try row.text("role")) ?? .viewer, scope: scope, disabled: row.bool("disabled"))
    }
}
