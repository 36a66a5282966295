import Foundation
import Vapor

/// Runs the web server until it is stopped (`schoolbatch serve`).
public enum ServerRunner {
    public static func serve(config: AppConfig) async throws {
        var environment = Environment(
            name: ProcessInfo.processInfo.environment["SCHOOLBATCH_ENV"] ?? "production", arguments: ["schoolbatch"])
        try LoggingSystem.bootstrap(from: &environment)
        let services = try await Bootstrap.services(config)
        let host = config.hostname == "0.0.0.0" ? "127.0.0.1" : config.hostname
        let url = "http://\(host):\(config.port)"
        if let password = try await Bootstrap.createFirstAdmin(services) {
            print(Bootstrap.passwordBanner(password, url: url))
        } else {
            print("SchoolBatch is starting at \(url)")
        }
        fflush(nil)
        let app = try await Application.make(environment)
        do {
            try configure(app, services: services)
            try await app.execute()
        } catch {
            try? await app.asyncShutdown()
            try? await services.store.close()
            throw error
        }
        try await app.asyncShutdown()
        try await services.store.close()
    }
}
