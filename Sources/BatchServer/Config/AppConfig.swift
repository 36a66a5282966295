import BatchStore
import Foundation

/// Every setting of a SchoolBatch process, read from the environment (documented in docs/configuration.md).
public struct AppConfig: Sendable {
    /// `SCHOOLBATCH_DATA_DIR`: the SQLite database and stored files (default `./data`).
    public var dataDirectory: URL
    /// `DATABASE_URL`: unset = SQLite in the data directory; `postgres://…` = PostgreSQL.
    public var databaseURL: String?
    public var hostname: String
    public var port: Int
    /// `SCHOOLBATCH_BCRYPT_COST`: bcrypt work factor (default 12).
    public var bcryptCost: Int
    /// `SCHOOLBATCH_SECURE_COOKIES`: `auto` (default: Secure except over plain HTTP to a non-loopback host),
    /// `always` or `never`.
    public var secureCookies: SecureCookies
    /// `SCHOOLBATCH_SESSION_HOURS`: how long a sign-in lasts (default 12 hours).
    public var sessionHours: Int
    /// Failed sign-ins of one username within `signInWindowMinutes` before further tries are refused.
    public var signInFailureLimit: Int
    public var signInWindowMinutes: Int
    /// Pause after each failed sign-in, in milliseconds (slows guessing; default 750).
    public var signInFailureDelayMilliseconds: Int
    /// `SCHOOLBATCH_RESOURCES`: the folder holding `Resources/` and `Public/` (default: the working directory).
    public var resourcesDirectory: String

    /// `SCHOOLBATCH_WORKERS`: background workers inside `schoolbatch serve` (default 2; 0 = none, for a web-only
    /// process when `schoolbatch worker` processes do the work).
    public var workers: Int = 2
    /// `SCHOOLBATCH_JOB_LEASE_SECONDS`: how long a job stays claimed without a heartbeat (default 60).
    public var jobLeaseSeconds: Int = 60
    /// `SCHOOLBATCH_SQLITE_WRITER_CACHE_MB`: the page cache of the SQLite connection that writes (default 64).
    public var sqliteWriterCacheMB: Int = 64

    public enum SecureCookies: String, Sendable { case auto, always, never }

    public init(
        dataDirectory: URL = URL(fileURLWithPath: "data"), databaseURL: String? = nil, hostname: String = "127.0.0.1",
        port: Int = 8080, bcryptCost: Int = 12, secureCookies: SecureCookies = .auto, sessionHours: Int = 12,
        signInFailureLimit: Int = 5, signInWindowMinutes: Int = 15, signInFailureDelayMilliseconds: Int = 750,
        resourcesDirectory: String = AppConfig.locateResources()
    ) {
        self.dataDirectory = dataDirectory
        self.databaseURL = databaseURL
        self.hostname = hostname
        self.port = port
        self.bcryptCost = bcryptCost
        self.secureCookies = secureCookies
        self.sessionHours = sessionHours
        self.signInFailureLimit = signInFailureLimit
        self.signInWindowMinutes = signInWindowMinutes
        self.signInFailureDelayMilliseconds = signInFailureDelayMilliseconds
        self.resourcesDirectory = resourcesDirectory.hasSuffix("/") ? resourcesDirectory : resourcesDirectory + "/"
    }

    /// The folder holding `Resources/Views`: the working directory when it has them, else the checkout the running
    /// binary was built in (`.build/release/schoolbatch` is two folders below it), so that `schoolbatch serve` started
    /// from another folder still finds its pages. The working directory when neither has them (`configure` then
    /// refuses to start, saying so).
    public static func locateResources(
        workingDirectory: String = FileManager.default.currentDirectoryPath,
        executable: URL? = Bundle.main.executableURL
    ) -> String {
        func hasViews(_ folder: URL) -> Bool {
            FileManager.default.fileExists(atPath: folder.appendingPathComponent("Resources/Views").path)
        }
        if hasViews(URL(fileURLWithPath: workingDirectory)) { return workingDirectory }
        var folder = executable?.resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<4 {
            guard let current = folder, current.path != "/" else { break }
            if hasViews(current) { return current.path }
            folder = current.deletingLastPathComponent()
        }
        return workingDirectory
    }

    /// Reads the environment; command-line options override hostname and port afterwards.
    public static func fromEnvironment(_ environment: [String: String] = ProcessInfo.processInfo.environment) -> AppConfig {
        var config = AppConfig()
        if let dir = environment["SCHOOLBATCH_DATA_DIR"], !dir.isEmpty {
            config.dataDirectory = URL(fileURLWithPath: dir)
        }
        if let url = environment["DATABASE_URL"], !url.isEmpty { config.databaseURL = url }
        if let cost = environment["SCHOOLBATCH_BCRYPT_COST"].flatMap(Int.init), (4...31).contains(cost) {
            config.bcryptCost = cost
        }
        if let secure = environment["SCHOOLBATCH_SECURE_COOKIES"].flatMap(SecureCookies.init(rawValue:)) {
            config.secureCookies = secure
        }
        if let hours = environment["SCHOOLBATCH_SESSION_HOURS"].flatMap(Int.init), hours > 0 { config.sessionHours = hours }
        if let resources = environment["SCHOOLBATCH_RESOURCES"], !resources.isEmpty {
            config.resourcesDirectory = resources.hasSuffix("/") ? resources : resources + "/"
        }
        if let workers = environment["SCHOOLBATCH_WORKERS"].flatMap(Int.init), workers >= 0 { config.workers = workers }
        if let lease = environment["SCHOOLBATCH_JOB_LEASE_SECONDS"].flatMap(Int.init), lease > 0 { config.jobLeaseSeconds = lease }
        if let cache = environment["SCHOOLBATCH_SQLITE_WRITER_CACHE_MB"].flatMap(Int.init), cache >= 2 {
            config.sqliteWriterCacheMB = cache
        }
        return config
    }

    /// How the job queue times leases and retries.
    public var jobTiming: JobTiming { JobTiming(leaseMillis: Int64(jobLeaseSeconds) * 1000) }

    /// Where uploads are written while they stream in (same disk as the stored files, so they can be moved there).
    public var uploadDirectory: URL { dataDirectory.appendingPathComponent("incoming") }
    /// Finished downloads (photo ZIPs), kept for a day.
    public var exportDirectory: URL { dataDirectory.appendingPathComponent("exports") }

    public var blobDirectory: URL { dataDirectory.appendingPathComponent("files") }
}

extension AppConfig {
    /// The page templates are not in the resources folder: the server would answer every page with nothing.
    public struct ResourcesMissing: Error, CustomStringConvertible, LocalizedError {
        public let directory: String
        public var description: String {
            "The page templates were not found in \(directory)Resources/Views. Start schoolbatch in the folder of its "
                + "checkout (the one holding README.md and Resources/), or set SCHOOLBATCH_RESOURCES to that folder."
        }
        public var errorDescription: String? { description }
    }
}
