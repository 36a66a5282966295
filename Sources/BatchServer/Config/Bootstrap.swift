import BatchCore
import BatchStore
import Foundation
import Vapor

/// Start-up work shared by `serve`, `worker` and `migrate`: open the database, migrate, make the first admin.
public enum Bootstrap {
    /// Opens the store and blob store the configuration names and brings the schema up to date.
    public static func services(_ config: AppConfig) async throws -> AppServices {
        let store = try Store.open(
            databaseURL: config.databaseURL, dataDirectory: config.dataDirectory, sqliteWriterCacheMB: config.sqliteWriterCacheMB)
        try await store.migrate()
        let blobs = try FileBlobStore(root: config.blobDirectory)
        return AppServices(config: config, store: store, blobs: blobs)
    }

    /// When no account exists, creates the `admin` system administrator with a random password and returns the
    /// password (to be printed once); nil when accounts already exist.
    public static func createFirstAdmin(_ services: AppServices) async throws -> String? {
        guard try await services.store.accountCount() == 0 else { return nil }
        let password = Secrets.readablePassword()
        let hash = try Bcrypt.hash(password, cost: services.config.bcryptCost)
        let account = Account(
            id: .generate(), username: "admin", displayName: "Administrator", role: .systemAdmin, scope: .district)
        do {
            try await services.store.createAccount(account, passwordHash: hash, by: .system)
        } catch StoreError.duplicate {
            return nil  // Another process made it first.
        }
        return password
    }

    /// The banner printed with the first admin's password.
    public static func passwordBanner(_ password: String, url: String) -> String {
        """

        ================================================================
          SchoolBatch is ready at \(url)
          First sign-in:  username  admin
                          password  \(password)
          This password is shown only once. Change it under Accounts.
        ================================================================

        """
    }
}
