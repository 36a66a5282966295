import BatchServer
import BatchStore
import BatchTestSupport
import Foundation
import Testing
import Vapor
import VaporTesting

@Suite("The server finds its page templates, or refuses to start saying where it looked")
struct ResourcesTests {
    @Test("started from another folder, the pages are found in the checkout the binary was built in")
    func foundFromTheBinary() throws {
        let elsewhere = FileManager.default.temporaryDirectory.appendingPathComponent("sb-elsewhere-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: elsewhere, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: elsewhere) }
        let checkout = FileManager.default.currentDirectoryPath
        let binary = URL(fileURLWithPath: checkout).appendingPathComponent(".build/release/schoolbatch")
        #expect(AppConfig.locateResources(workingDirectory: elsewhere.path, executable: binary) == checkout)
        // The working directory wins when it has the pages; neither having them leaves the working directory.
        #expect(AppConfig.locateResources(workingDirectory: checkout, executable: nil) == checkout)
        let stray = URL(fileURLWithPath: "/nonexistent/a/b/schoolbatch")
        #expect(AppConfig.locateResources(workingDirectory: elsewhere.path, executable: stray) == elsewhere.path)
    }

    @Test("without the templates the server refuses to start, naming the folder and SCHOOLBATCH_RESOURCES")
    func refusedWithoutTemplates() async throws {
        let empty = FileManager.default.temporaryDirectory.appendingPathComponent("sb-empty-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: empty, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: empty) }
        let store = try await TestDatabase.sqlite.makeStore()
        var config = AppConfig(dataDirectory: empty.appendingPathComponent("data"), bcryptCost: 4)
        config.resourcesDirectory = empty.path + "/"
        let services = AppServices(config: config, store: store, blobs: try FileBlobStore(root: config.blobDirectory))
        let app = try await Application.make(.testing)
        var refusal: AppConfig.ResourcesMissing?
        do {
            try configure(app, services: services)
        } catch let error as AppConfig.ResourcesMissing {
            refusal = error
        }
        try await app.asyncShutdown()
        try await store.close()
        let message = try #require(refusal).description
        #expect(message.contains(empty.path + "/Resources/Views"), "\(message)")
        #expect(message.contains("SCHOOLBATCH_RESOURCES"), "\(message)")
    }
}
