import BatchCore
import Foundation

/// Matching for batches of files (documents, photos): each file is one item, matched to a student in the batch's
/// scope by its name (or chosen by hand), unmatched files get up to three suggested students, and two files for
/// one student are a conflict the admin resolves. Written once; the kinds say which names a file may stand for.
struct FileMatcher: Sendable {
    /// The login IDs a file name may stand for, most specific first (normalised: trimmed, lower-case, NFC).
    var candidates: @Sendable (String) -> [String]
    /// How files should be named, for the unmatched message (e.g. "19chanw1.jpg").
    var namingHint: String

    /// Items with their student (`target`, `label`) and state: `ready`, `unmatched`, `error` (problems of their
    /// own, or a conflict), `skipped` kept. Planned issues and changes are cleared first; the kind adds its own.
    /// `oneOf` names what a student has one of, for the conflict message (e.g. "photo").
    func match(_ items: [BatchItem], batch: Batch, oneOf: String, on db: any SQLConnection) throws -> [BatchItem] {
        var loginIDs: Set<String> = [], userIDs: Set<String> = []
        for item in items {
            if let manual = item.manualTarget { userIDs.insert(UserID(rawValue: manual).rawValue) }
            for candidate in candidates(item.fileName) { loginIDs.insert(LoginID(rawValue: candidate).rawValue) }
        }
        let lookup = try StudentLookup.find(userIDs: userIDs, loginIDs: loginIDs, on: db)
        func student(for item: BatchItem) -> Person? {
            let found: Person?
            if let manual = item.manualTarget {
                found = lookup.student(userID: UserID(rawValue: manual).rawValue)
            } else {
                found = candidates(item.fileName).lazy
                    .compactMap { candidate in
                        lookup.student(loginID: LoginID(rawValue: candidate).rawValue).flatMap {
                            batch.scope.allows(anyOf: $0.schoolKeys) ? $0 : nil
                        }
                    }.first
            }
            guard let found, batch.scope.allows(anyOf: found.schoolKeys) else { return nil }
            return found
        }

        var planned = items.map { item -> BatchItem in
            var item = item
            item.issues.removeAll { $0.planned == true }
            item.changes = []
            if item.state == .skipped { return item }
            if item.hasErrors {
                item.state = .error
                return item
            }
            guard let person = student(for: item) else {
                item.target = nil
                item.state = .unmatched
                item.label = DocumentBatch.stem(of: item.fileName)
                let wanted = item.manualTarget.map { "the userId “\($0)”" }
                    ?? "the login ID “\(candidates(item.fileName).last ?? item.fileName)”"
                item.issues.append(
                    BatchIssue.error(
                        "unmatched",
                        "\(item.fileName): no student in your schools has \(wanted).",
                        fix: "Choose the student it belongs to, or skip the file. Name files after the student's login ID "
                            + "(\(namingHint)) to match them automatically.",
                        column: "fileName", value: item.fileName
                    ).fromPlanning)
                return item
            }
            item.target = person.userID.rawValue
            item.label = "\(person.loginID?.rawValue ?? person.userID.rawValue) · \(person.displayName)"
            item.state = .ready
            return item
        }

        // The student as the preview shows them: login ID, name, class and grade.
        let targets = Set(planned.compactMap(\.target))
        var classes: [String: [String]] = [:]
        if !targets.isEmpty {
            for row in try db.query(chunking: targets.sorted().map { .text($0) }, {
                """
                SELECT e.user_id, c.class_name FROM enrollments e JOIN classes c ON c.class_id = e.class_id
                WHERE e.role = 'student' AND e.user_id IN (\($0)) ORDER BY c.class_name
                """
            }) {
                classes[try row.text("user_id"), default: []].append(try row.text("class_name"))
            }
        }
        for index in planned.indices {
            guard let target = planned[index].target, let person = lookup.student(userID: target) else { continue }
            planned[index].label = ([person.loginID?.rawValue ?? person.userID.rawValue, person.displayName]
                + (classes[target].map { ["class \($0.prefix(2).joined(separator: ", "))"] } ?? [])
                + (person.grade.map { ["grade \($0)"] } ?? [])).joined(separator: " · ")
        }

        var byTarget: [String: [Int]] = [:]
        for (index, item) in planned.enumerated() where item.state == .ready { byTarget[item.target!, default: []].append(index) }
        for (_, indices) in byTarget where indices.count > 1 {
            let names = indices.map { planned[$0].fileName }
            for index in indices {
                planned[index].state = .error
                planned[index].issues.append(
                    BatchIssue.error(
                        "conflict",
                        "\(names.count) files are for \(planned[index].label): \(names.joined(separator: ", ")). A student has one "
                            + "\(oneOf).",
                        fix: "Skip the files you don't want, or match them to the right students.",
                        column: "fileName", value: planned[index].fileName
                    ).fromPlanning)
            }
        }

        // Up to three students an unmatched file may be about (kept from an earlier plan: they cost queries).
        for index in planned.indices {
            if planned[index].state != .unmatched {
                planned[index].suggestions = []
            } else if planned[index].suggestions.isEmpty {
                planned[index].suggestions = try suggestions(for: planned[index].fileName, scope: batch.scope, on: db)
            }
        }
        return planned
    }

    /// Students whose login IDs are closest to the file name, found by ever shorter login ID prefixes.
    func suggestions(for fileName: String, scope: AccessScope, on db: any SQLConnection) throws -> [Suggestion] {
        guard let wanted = candidates(fileName).last, wanted.count >= 3 else { return [] }
        var found: [String: PersonListRow] = [:]
        let characters = Array(wanted)
        for length in Set([characters.count, max(characters.count - 2, 3), 3]).sorted(by: >) where found.count < 3 {
            var query = PersonQuery(kind: .students, scope: scope, limit: 25)
            query.loginIDPrefix = String(characters.prefix(length))
            for row in try Store.people(db, query).items { found[row.person.userID.rawValue] = row }
        }
        return found.values
            .map { row in (row, Similarity.distance(row.person.loginID?.rawValue ?? "", wanted)) }
            .sorted { ($0.1, $0.0.person.userID.rawValue) < ($1.1, $1.0.person.userID.rawValue) }
            .prefix(3)
            .map { row, _ in
                Suggestion(
                    userId: row.person.userID.rawValue,
                    label: ([row.person.loginID?.rawValue ?? row.person.userID.rawValue, row.person.displayName]
                        + row.classNames.prefix(2)).joined(separator: " · "))
            }
    }
}
