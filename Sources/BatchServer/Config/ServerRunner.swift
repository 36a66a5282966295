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
        let workers: WorkerPool
        do {
            try configure(app, services: services)
            try await app.asyncBoot()
            try await app.server.start(address: nil)
            ExpectContinueInstaller.install(on: app)
            workers = WorkerPool(engine: services.engine, count: config.workers)
            print("Background workers in this process: \(config.workers)")
            fflush(nil)
        } catch {
            try? await app.asyncShutdown()
            try? await services.store.close()
            throw error
        }
        await TerminationSignal.wait()
        print("Stopping: finishing the jobs in hand…")
        fflush(nil)
        await workers.stop()
        await app.server.shutdown()
        try await app.asyncShutdown()
        try await services.store.close()
    }

    /// Runs background workers only (`schoolbatch worker`), until SIGINT or SIGTERM; the jobs in hand finish first.
    public static func work(config: AppConfig, count: Int) async throws {
        var environment = Environment(
            name: ProcessInfo.processInfo.environment["SCHOOLBATCH_ENV"] ?? "production", arguments: ["schoolbatch"])
        try LoggingSystem.bootstrap(from: &environment)
        let services = try await Bootstrap.services(config)
        let workers = WorkerPool(engine: services.engine, count: count)
        print("SchoolBatch worker started with \(count) worker\(count == 1 ? "" : "s")")
        fflush(nil)
        await TerminationSignal.wait()
        print("Stopping: finishing the jobs in hand…")
        fflush(nil)
        await workers.stop()
        try await services.store.close()
    }
}
