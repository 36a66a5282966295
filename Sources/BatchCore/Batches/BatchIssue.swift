/// Something wrong (or worth knowing) about a file, a row or a file in a batch: what, where and how to fix it.
///
/// `code` is a stable string scripts and tests rely on (`invalid_header`, `email_in_use`); `message` and `fix`
/// are the words a school secretary reads.
public struct BatchIssue: Sendable, Hashable, Codable {
    public enum Severity: String, Sendable, Codable { case error, warning }

    public var severity: Severity
    public var code: String
    public var message: String
    public var fix: String
    public var file: String?
    public var row: Int?
    public var column: String?
    public var value: String?
    /// Set on issues found when planning against the database; planning again replaces them. Issues found by
    /// reading the file (nil) stay.
    public var planned: Bool?

    public init(
        _ severity: Severity, code: String, message: String, fix: String, file: String? = nil, row: Int? = nil,
        column: String? = nil, value: String? = nil
    ) {
        self.severity = severity
        self.code = code
        self.message = message
        self.fix = fix
        self.file = file
        self.row = row
        self.column = column
        self.value = value
    }

    /// The message after the "Row 5, userId: " a roster's messages begin with (`row`: the issue's own, or else its
    /// item's); nil when it does not begin so (a photo's, a document's).
    public func messageAfterRow(_ row: Int?) -> Substring? {
        guard let row = self.row ?? row, let column else { return nil }
        let said = "Row \(row), \(column): "
        return message.hasPrefix(said) ? message.dropFirst(said.count) : nil
    }

    /// The same issue, marked as found by planning.
    public var fromPlanning: BatchIssue {
        var copy = self
        copy.planned = true
        return copy
    }

    public static func error(
        _ code: String, _ message: String, fix: String, column: String? = nil, value: String? = nil
    ) -> BatchIssue {
        BatchIssue(.error, code: code, message: message, fix: fix, column: column, value: value)
    }

    public static func warning(
        _ code: String, _ message: String, fix: String, column: String? = nil, value: String? = nil
    ) -> BatchIssue {
        BatchIssue(.warning, code: code, message: message, fix: fix, column: column, value: value)
    }
}

/// A file refused as a whole (bad headers, no rows, wrong type). Nothing of it is kept.
public struct FileRejection: Error, Sendable, Hashable {
    public var fileName: String
    public var issues: [BatchIssue]
    public init(fileName: String, issues: [BatchIssue]) {
        self.fileName = fileName
        self.issues = issues
    }

    public var message: String {
        "\(fileName) cannot be used: " + issues.map(\.message).joined(separator: " ")
    }

    /// Why a batch cancelled for this file holds nothing, with each issue's fix, for its page.
    public var refusal: String {
        "\(fileName) cannot be used, so nothing was uploaded: " + issues.map { "\($0.message) \($0.fix)" }.joined(separator: " ")
    }
}
