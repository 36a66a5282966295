import Dispatch
import Foundation
import Logging

/// Logs, at debug level, how long each step of a batch's receive, submit and apply took (`LOG_LEVEL=debug`), and the
/// process's resident memory once it is done: where a slow or large batch spends its time and memory,
/// without a profiler.
struct PhaseClock {
    let logger: Logger
    let label: String
    private var last = DispatchTime.now().uptimeNanoseconds

    init(_ logger: Logger, _ label: String) {
        var logger = logger
        // The command line logs without a logging bootstrap; LOG_LEVEL still decides.
        if let level = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) { logger.logLevel = level }
        self.logger = logger
        self.label = label
    }

    mutating func step(_ name: @autoclosure () -> String) {
        let now = DispatchTime.now().uptimeNanoseconds
        let milliseconds = Double(now - last) / 1_000_000
        last = now
        logger.debug("\(label) · \(name()): \(Int(milliseconds.rounded())) ms\(Self.residentMegabytes.map { ", \($0) MB resident" } ?? "")")
    }

    /// The process's resident memory in megabytes (`/proc/self/statm`, read by hand: it reports a size of 0, which
    /// Foundation's readers take at its word; nil where there is none).
    static var residentMegabytes: Int? {
        let file = open("/proc/self/statm", O_RDONLY)
        guard file >= 0 else { return nil }
        defer { close(file) }
        var bytes = [UInt8](repeating: 0, count: 128)
        let count = read(file, &bytes, bytes.count)
        guard count > 0, let pages = String(decoding: bytes[..<count], as: UTF8.self).split(separator: " ").dropFirst().first.flatMap({ Int($0) })
        else { return nil }
        return (pages * Int(sysconf(Int32(_SC_PAGESIZE)))) >> 20
    }
}
