import Foundation

/// A `schoolbatch worker` process started by a test, with its output captured to a file.
public final class WorkerProcess: @unchecked Sendable {
    public let process = Process()
    public let logURL: URL

    /// The debug build of the command-line tool (`swift build --build-tests` builds it with the tests).
    public static var executable: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/schoolbatch")
    }

    public init(environment: [String: String], arguments: [String] = ["worker"]) throws {
        logURL = FileManager.default.temporaryDirectory.appendingPathComponent("worker-\(UUID().uuidString).log")
        FileManager.default.createFile(atPath: logURL.path, contents: nil)
        let log = try FileHandle(forWritingTo: logURL)
        process.executableURL = Self.executable
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env["LOG_LEVEL"] = "info"
        for (key, value) in environment { env[key] = value }
        process.environment = env
        process.standardOutput = log
        process.standardError = log
        try process.run()
    }

    public var output: String { (try? String(contentsOf: logURL, encoding: .utf8)) ?? "" }

    /// Waits until the output contains `text`; false after `seconds`.
    public func waitForOutput(_ text: String, seconds: Double) async -> Bool {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if output.contains(text) { return true }
            if !process.isRunning { return output.contains(text) }
            try? await Task.sleep(nanoseconds: 20_000_000)
        }
        return false
    }

    public func kill() {
        if process.isRunning { Foundation.kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
    }

    /// SIGTERM, then waits for the process to finish its job and exit.
    public func stop() -> Int32 {
        if process.isRunning { process.terminate() }
        process.waitUntilExit()
        return process.terminationStatus
    }
}

/// Polls `condition` until it is true; false after `seconds`.
public func eventually(seconds: Double, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return true }
        try? await Task.sleep(nanoseconds: 100_000_000)
    }
    return try await condition()
}
