import Dispatch
import Foundation
import Logging

/// Logs, at debug level, how long each step of a batch's receive, submit and apply took (`LOG_LEVEL=debug`): where
/// a slow batch spends its time, without a profiler.
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
        logger.debug("\(label) · \(name()): \(Int(milliseconds.rounded())) ms")
    }
}
