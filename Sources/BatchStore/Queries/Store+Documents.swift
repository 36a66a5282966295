import BatchCore
import Foundation

/// One stored version of a student's document.
public struct DocumentRecord: Sendable, Hashable, Codable {
    public var documentID: String
    public var userID: UserID
    public var documentType: String
    public var schoolYear: String
    /// Empty when the document has no term.
    public var term: String
    public var title: String?
    public var fileName: String
    public var blobKey: String
    public var byteSize: Int64
    public var encrypted: Bool
    public var isCurrent: Bool
    public var batchID: BatchID?
    public var uploadedByName: String
    public var createdAt: Int64

    init(row: SQLRow) throws {
        documentID = try row.text("document_id")
        userID = UserID(rawValue: try row.text("user_id"))
        documentType = try row.text("document_type")
        schoolYear = try row.text("school_year")
        term = try row.text("term")
        title = row.optionalText("title")
        fileName = try row.text("file_name")
        blobKey = try row.text("blob_key")
        byteSize = try row.int("byte_size")
        encrypted = row.bool("encrypted")
        isCurrent = row.bool("is_current")
        batchID = row.optionalText("batch_id").map(BatchID.init(rawValue:))
        uploadedByName = try row.text("uploaded_by_name")
        createdAt = try row.int("created_at")
    }

    /// “Assessment Report 2025-2026 T1”.
    public var summary: String { [documentType, schoolYear, term.isEmpty ? nil : term].compactMap { $0 }.joined(separator: " ") }
}

/// Where a student's document of one type, year and term lives: one current document per slot.
public struct DocumentSlot: Sendable, Hashable {
    public var userID: String
    public var documentType: String
    public var schoolYear: String
    public var term: String

    public init(userID: String, documentType: String, schoolYear: String, term: String) {
        self.userID = userID
        self.documentType = documentType
        self.schoolYear = schoolYear
        self.term = term
    }

    static let separator: Character = "\u{1F}"

    /// The slot as a change record's key.
    public var key: String { [userID, documentType, schoolYear, term].joined(separator: String(Self.separator)) }

    public init?(key: String) {
        let parts = key.split(separator: Self.separator, omittingEmptySubsequences: false).map(String.init)
        guard parts.count == 4 else { return nil }
        self.init(userID: parts[0], documentType: parts[1], schoolYear: parts[2], term: parts[3])
    }

    /// “19chanw1: Assessment Report 2025-2026 T1” (with the userId; pages add the name).
    public var words: String { "\(userID): " + [documentType, schoolYear, term.isEmpty ? nil : term].compactMap { $0 }.joined(separator: " ") }
}

extension Store {
    /// A student's current documents (newest school year first), or nil when the student is missing or outside
    /// the scope.
    public func documents(of userID: UserID, scope: AccessScope) async throws -> [DocumentRecord]? {
        try await backend.read { db in
            guard try Self.visible(db, userID: userID, scope: scope) else { return nil }
            return try db.query(
                """
                SELECT * FROM documents WHERE user_id = ? AND is_current = TRUE
                ORDER BY school_year DESC, document_type, term, created_at DESC
                """, [.id(userID)]
            ).map(DocumentRecord.init(row:))
        }
    }

    /// One document (current or an earlier version), or nil when it is missing or its student is outside scope.
    public func document(_ documentID: String, scope: AccessScope) async throws -> DocumentRecord? {
        try await backend.read { db in
            guard let row = try db.first("SELECT * FROM documents WHERE document_id = ?", [.text(documentID)]) else { return nil }
            let document = try DocumentRecord(row: row)
            return try Self.visible(db, userID: document.userID, scope: scope) ? document : nil
        }
    }

    /// Every student a list query selects, and the current documents among them, for a download.
    public func documents(for query: PersonQuery, documentType: String?, schoolYear: String?) async throws
        -> (students: [PersonListRow], documents: [(person: PersonListRow, document: DocumentRecord)])
    {
        try await backend.read { db in
            let found = try Self.studentsWithCurrent(
                db, query, table: "documents", order: "user_id, school_year, document_type, term",
                filter: { filter in
                    if let documentType { filter.add("document_type = ?", .text(documentType)) }
                    if let schoolYear { filter.add("school_year = ?", .text(schoolYear)) }
                }, decode: DocumentRecord.init(row:), owner: \.userID)
            return (found.students, found.records.map { (person: $0.person, document: $0.record) })
        }
    }

    /// Every person a query selects (all pages) and the current records (documents, photos) of theirs in `table`,
    /// read a page of people at a time.
    static func studentsWithCurrent<Record>(
        _ db: any SQLConnection, _ query: PersonQuery, table: String, order: String, filter extra: (inout SQLFilter) -> Void,
        decode: (SQLRow) throws -> Record, owner: KeyPath<Record, UserID>
    ) throws -> (students: [PersonListRow], records: [(person: PersonListRow, record: Record)]) {
        var all = query
        all.limit = 500
        var students: [PersonListRow] = []
        var result: [(person: PersonListRow, record: Record)] = []
        var offset = 0
        while true {
            all.offset = offset
            let page = try Self.people(db, all)
            guard !page.items.isEmpty else { break }
            students += page.items
            let byID = Dictionary(page.items.map { ($0.person.userID.rawValue, $0) }, uniquingKeysWith: { a, _ in a })
            var filter = SQLFilter()
            filter.add("is_current = TRUE")
            filter.add(column: "user_id", in: page.items.map { .id($0.person.userID) })
            extra(&filter)
            for row in try db.query("SELECT * FROM \(table) \(filter.whereClause) ORDER BY \(order)", filter.binds) {
                let record = try decode(row)
                if let person = byID[record[keyPath: owner].rawValue] { result.append((person, record)) }
            }
            offset += page.items.count
            if offset >= page.total { break }
        }
        return (students, result)
    }

    /// Whether a person exists and belongs to a school in the scope.
    static func visible(_ db: any SQLConnection, userID: UserID, scope: AccessScope) throws -> Bool {
        guard try db.first("SELECT user_id FROM people WHERE user_id = ?", [.id(userID)]) != nil else { return false }
        guard let keys = scope.schoolKeys else { return true }
        let schools = try db.query("SELECT school_key FROM person_schools WHERE user_id = ?", [.id(userID)])
            .compactMap { $0.optionalText("school_key").map(SchoolKey.init(rawValue:)) }
        return schools.contains(where: keys.contains)
    }
}

extension Store {
    /// The student a person typed into a picker: a userId, else a login ID — only among students in the scope.
    public func studentID(matching text: String, scope: AccessScope) async throws -> UserID? {
        try await backend.read { db in
            for (column, value) in [("user_id", UserID(rawValue: text).rawValue), ("login_id", LoginID(rawValue: text).rawValue)] {
                if let row = try db.first(
                    "SELECT user_id FROM people WHERE user_role = 'student' AND \(column) = ?", [.text(value)]),
                    let id = row.optionalText("user_id"),
                    try Self.visible(db, userID: UserID(rawValue: id), scope: scope)
                {
                    return UserID(rawValue: id)
                }
            }
            return nil
        }
    }
}
