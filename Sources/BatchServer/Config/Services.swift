import BatchCore
import BatchStore
import Vapor

/// What the server's handlers use, set once at start-up and passed through the application.
public struct AppServices: Sendable {
    public var config: AppConfig
    public var store: Store
    public var blobs: any BlobStore
    /// The batch lifecycle, with every kind this version runs.
    public var engine: BatchEngine

    public init(config: AppConfig, store: Store, blobs: any BlobStore) {
        self.config = config
        self.store = store
        self.blobs = blobs
        self.engine = BatchEngine(
            store: store, blobs: blobs, handlers: [EmailsHandler(), DocumentsHandler(), PhotosHandler(), RosterHandler()],
            exporters: [PhotoExporter()], exportDirectory: config.exportDirectory, timing: config.jobTiming)
    }
}

extension Application {
    private struct AppServicesKey: StorageKey { typealias Value = AppServices }

    public var schoolBatch: AppServices {
        get {
            guard let services = storage[AppServicesKey.self] else { fatalError("configure(_:services:) was not called") }
            return services
        }
        set { storage[AppServicesKey.self] = newValue }
    }
}

extension Request {
    var schoolBatch: AppServices { application.schoolBatch }
    var store: Store { application.schoolBatch.store }
    var engine: BatchEngine { application.schoolBatch.engine }
}
