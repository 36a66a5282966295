import Crypto
import Foundation
import Vapor

/// Random tokens and their hashes. Session cookies and API tokens are stored only as SHA-256 hashes, so a copy of
/// the database does not let anyone sign in.
enum Secrets {
    /// 32 random bytes, URL-safe base64, with a readable prefix.
    static func token(prefix: String = "") -> String {
        let bytes = [UInt8].random(count: 32)
        return prefix + Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }

    static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// A password a person can read out and type: 4 groups of 4 from an alphabet without look-alikes.
    static func readablePassword() -> String {
        let alphabet = Array("abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789")
        let groups = (0..<4).map { _ in String((0..<4).map { _ in alphabet.randomElement()! }) }
        return groups.joined(separator: "-")
    }

    /// Compares two secrets in time that does not depend on where they differ.
    static func equal(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8), y = Array(b.utf8)
        guard x.count == y.count else { return false }
        var difference: UInt8 = 0
        for index in x.indices { difference |= x[index] ^ y[index] }
        return difference == 0
    }
}

/// bcrypt, run off the event loops.
struct Passwords {
    let cost: Int

    func hash(_ password: String, on application: Application) async throws -> String {
        let cost = self.cost
        return try await application.threadPool.runIfActive { try Bcrypt.hash(password, cost: cost) }
    }

    func verify(_ password: String, hash: String, on application: Application) async throws -> Bool {
        try await application.threadPool.runIfActive { (try? Bcrypt.verify(password, created: hash)) ?? false }
    }
}
