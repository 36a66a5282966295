import BatchCore
import BatchStore
import Foundation
import Vapor

/// `/api/v1/batches`: create a draft batch, read it, list batches, cancel.
struct BatchesAPIController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let batches = routes.grouped("batches")
        batches.post(use: create)
        batches.get(use: list)
        batches.get(":id", use: show)
        batches.post(":id", "cancel", use: cancel)
        batches.on(.PUT, ":id", "files", ":fileName", body: .stream, use: putFile)
        batches.on(.POST, ":id", "files", body: .stream, use: postFiles)
        batches.get(":id", "files", use: files)
        batches.get(":id", "items", use: items)
        batches.get(":id", "issue-kinds", use: issueKinds)
        batches.patch(":id", "items", ":itemId", use: resolveItem)
        batches.get(":id", "error-report", use: errorReport)
        batches.get(":id", "report.csv", use: reportCSV)
        batches.post(":id", "submit", use: submit)
        batches.post(":id", "recheck", use: recheck)
        batches.post(":id", "undo", use: undo)
    }

    struct CreateRequest: Content {
        var kind: String
        var options: [String: String]?
    }

    static func options(for kind: BatchKind, _ raw: [String: String]) throws -> [String: String] {
        let allowed: Set<String>
        switch kind {
        case .roster: allowed = ["mode", "allowMassChanges"]
        case .photos, .emails: allowed = []
        case .documents: allowed = ["documentType", "schoolYear", "term", "title"]
        case .photoExport:
            throw AppError.invalid("Photo downloads are made with POST /api/v1/photo-exports, not as a batch.")
        }
        let unknown = raw.keys.filter { !allowed.contains($0) }.sorted()
        guard unknown.isEmpty else {
            throw AppError.invalid(
                "Unknown option\(unknown.count == 1 ? "" : "s") for a \(kind.rawValue) batch: \(unknown.joined(separator: ", ")).",
                details: allowed.isEmpty ? ["This kind takes no options."] : ["Accepted: \(allowed.sorted().joined(separator: ", "))."])
        }
        if kind == .roster, let mode = raw["mode"], !["add-update", "sync"].contains(mode) {
            throw AppError.invalid("options.mode must be “add-update” or “sync” (got “\(mode)”).")
        }
        return raw
    }

    func create(req: Request) async throws -> Response {
        let account = try req.account()
        let body = try req.content.decode(CreateRequest.self)
        guard let kind = BatchKind(rawValue: body.kind) else {
            throw AppError.invalid(
                "Unknown batch kind “\(body.kind)”.", details: ["Use one of: \(BatchKind.allCases.map(\.rawValue).joined(separator: ", "))."])
        }
        guard account.can(kind.capability) else { throw AppError.forbidden }
        let options = try Self.options(for: kind, body.options ?? [:])
        if kind == .roster {
            let gate = try await req.store.activationGate()
            guard gate.isOpen else { throw AppError(.conflict, "roster_upload_closed", gate.explanation) }
        }
        var json = JSONText.encode(options)
        if kind == .documents {
            switch try await DocumentsController.options(options, store: req.store) {
            case .success(let checked): json = checked
            case .failure(let error):
                throw AppError.invalid("The document batch settings are not right; no batch was made.", details: error.problems)
            }
        }
        let batch = try await req.store.createBatch(kind: kind, options: json, by: account)
        return try await BatchJSON(batch).encodeResponse(status: .created, for: req)
    }

    func list(req: Request) async throws -> [BatchJSON] {
        let account = try req.account()
        var kind: BatchKind?
        var status: BatchStatus?
        if let raw = req.query[String.self, at: "kind"], !raw.isEmpty {
            guard let parsed = BatchKind(rawValue: raw) else { throw AppError(.badRequest, "invalid_filter", "Unknown kind “\(raw)”.") }
            kind = parsed
        }
        if let raw = req.query[String.self, at: "status"], !raw.isEmpty {
            guard let parsed = BatchStatus(rawValue: raw) else { throw AppError(.badRequest, "invalid_filter", "Unknown status “\(raw)”.") }
            status = parsed
        }
        let board = req.engine.progress
        return try await req.store.batches(visibleTo: account, kind: kind, status: status).map {
            BatchJSON($0, live: board.progress(of: $0.id))
        }
    }

    private func batch(_ req: Request) async throws -> (Account, Batch) {
        let account = try req.account()
        return (account, try await req.batchParameter(for: account))
    }

    func show(req: Request) async throws -> BatchJSON {
        let batch = try await batch(req).1
        var json = BatchJSON(batch, live: req.engine.progress.progress(of: batch.id))
        json.previewIsStale = try await req.store.previewIsStale(batch)
        return json
    }

    /// `POST …/recheck`: a draft's items planned again against the data as it is now.
    func recheck(req: Request) async throws -> BatchJSON {
        let (account, batch) = try await changeable(req)
        try await req.engine.replan(batch, by: Actor(account))
        let now = try await req.store.batch(batch.id)
        var json = BatchJSON(now)
        json.previewIsStale = try await req.store.previewIsStale(now)
        return json
    }

    /// A batch the account may change (its kind's capability).
    private func changeable(_ req: Request) async throws -> (Account, Batch) {
        let account = try req.account()
        return (account, try await req.batchParameter(for: account, toChange: true))
    }

    func cancel(req: Request) async throws -> BatchJSON {
        let (account, batch) = try await changeable(req)
        return BatchJSON(try await req.engine.cancel(batch.id, by: Actor(account)))
    }

    struct ReceivedJSON: Content {
        var file: FileJSON
        var counts: ItemCounts
        var batch: BatchJSON
    }

    /// `PUT …/files/{fileName}`: one file as the raw body, streamed to disk.
    func putFile(req: Request) async throws -> Response {
        let (account, batch) = try await changeable(req)
        let name = req.parameters.get("fileName") ?? "file"
        let received = try await Uploads.receive(req, batch: batch, account: account) { limits, directory in
            [try await BodySpooler.spool(req, limit: limits.maxFileBytes, fileName: name, into: directory)]
        }
        return try await received[0].encodeResponse(status: .created, for: req)
    }

    /// `POST …/files`: one or more files as multipart/form-data (the upload page).
    func postFiles(req: Request) async throws -> Response {
        let (account, batch) = try await changeable(req)
        let received = try await Uploads.receive(req, batch: batch, account: account) { limits, directory in
            try await MultipartSpooler.spool(req, limits: limits, into: directory).files
        }
        guard !received.isEmpty else { throw AppError.invalid("The upload held no file. Choose a file and try again.") }
        return try await received.encodeResponse(status: .created, for: req)
    }

    func files(req: Request) async throws -> [FileJSON] {
        let batch = try await batch(req).1
        return try await req.store.files(of: batch.id).map(FileJSON.init)
    }

    struct ItemsPage: Content {
        var items: [ItemJSON]
        var total: Int
        var offset: Int
        var limit: Int
    }

    func items(req: Request) async throws -> ItemsPage {
        let batch = try await batch(req).1
        var state: ItemState?
        if let raw = req.query[String.self, at: "state"], !raw.isEmpty {
            guard let parsed = ItemState(rawValue: raw) else {
                throw AppError(
                    .badRequest, "invalid_filter",
                    "Unknown item state “\(raw)”. Use one of: \(ItemState.allCases.map(\.rawValue).joined(separator: ", ")).")
            }
            state = parsed
        }
        var issue: IssueFilter?
        if let code = req.query[String.self, at: "issue"], !code.isEmpty {
            let column = req.query[String.self, at: "column"].flatMap { $0.isEmpty ? nil : $0 }
            guard let filter = IssueFilter(code: code, column: column) else {
                throw AppError(
                    .badRequest, "invalid_filter",
                    "“issue” and “column” are a problem's code and column as GET …/issue-kinds lists them (letters, digits and _).")
            }
            issue = filter
        }
        let page = try await req.store.items(
            of: batch.id, state: state, issue: issue, offset: req.query[Int.self, at: "offset"] ?? 0,
            limit: req.query[Int.self, at: "limit"] ?? 100)
        return ItemsPage(items: page.items.map(ItemJSON.init), total: page.total, offset: page.offset, limit: page.limit)
    }

    /// The batch's problems by kind: severity, code, column, how many rows, and the first row's issue.
    func issueKinds(req: Request) async throws -> [IssueKindJSON] {
        let batch = try await batch(req).1
        return try await req.store.issueKinds(of: batch.id).map(IssueKindJSON.init)
    }

    struct IssueKindJSON: Content {
        var severity: BatchIssue.Severity
        var code: String
        var column: String?
        var file: String?
        var rows: Int
        var first: BatchIssue
        var values: [String]?
        init(_ kind: IssueKind) {
            (severity, code, column, file, rows, first, values) = (kind.severity, kind.code, kind.column, kind.file, kind.rows, kind.first, kind.values)
        }
    }

    struct ResolveRequest: Content {
        var userId: String?
        var skip: Bool?
    }

    func resolveItem(req: Request) async throws -> ItemJSON {
        let (account, batch) = try await changeable(req)
        guard let itemID = req.parameters.get("itemId").flatMap(Int64.init) else { throw AppError.notFound("No such item.") }
        let body = try req.content.decode(ResolveRequest.self)
        let skip = body.skip ?? false
        guard skip || !(body.userId ?? "").isEmpty else {
            throw AppError.invalid("Send {\"userId\": \"…\"} to match the item to a student, or {\"skip\": true} to leave it out.")
        }
        let item = try await req.engine.resolve(
            itemID: itemID, of: batch, target: skip ? nil : body.userId, skip: skip, by: Actor(account))
        return ItemJSON(item)
    }

    func errorReport(req: Request) async throws -> Response {
        let batch = try await batch(req).1
        let files = try await req.store.files(of: batch.id)
        let base = (files.first?.fileName as NSString?)?.deletingPathExtension ?? batch.kind.rawValue
        let reports = ErrorReport.reports(kind: batch.kind, baseName: base, columnSets: try await req.store.columnsOfItemsWithIssues(of: batch.id))
        // A roster batch has users-errors.csv and demographics-errors.csv: ?file=demographics picks the second.
        let report = req.query[String.self, at: "file"] == "demographics" ? reports.first { $0.part == .demographics } ?? reports[0] : reports[0]
        return try await ExportsAPIController.csv(req, name: report.fileName) { sink in
            try sink(report.header)
            try await req.store.forEachItemWithIssues(of: batch.id) { page in try sink(report.lines(page).text) }
        }
    }

    /// The report as CSV (SPEC §4.5): per entity created, updated, unchanged, removed, errors; then the rows of
    /// the files with the number that had warnings.
    func reportCSV(req: Request) async throws -> Response {
        let batch = try await batch(req).1
        var text = CSVWriter.line(["records", "created", "updated", "unchanged", "removed", "errors", "warnings"])
        for entity in batch.entityCounts {
            text += CSVWriter.line([entity.label, "\(entity.created)", "\(entity.updated)", "\(entity.unchanged)", "\(entity.removed)", "\(entity.errors)", ""])
        }
        let counts = batch.counts
        text += CSVWriter.line(["Rows", "", "\(counts.ready + counts.applied)", "\(counts.unchanged)", "", "\(counts.error + counts.unmatched)", "\(counts.warnings)"])
        let response = Response(status: .ok, body: .init(string: text))
        response.headers.contentType = HTTPMediaType(type: "text", subType: "csv", parameters: ["charset": "utf-8"])
        response.headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename=\"\(batch.kind.rawValue)-report.csv\"")
        return response
    }

    struct SubmitRequest: Content {
        var confirm: Bool?
        var allowMassChanges: Bool?
    }

    func submit(req: Request) async throws -> Response {
        let (account, batch) = try await changeable(req)
        let body = (try? req.content.decode(SubmitRequest.self)) ?? SubmitRequest()
        let submitted = try await req.engine.submit(
            batch.id, confirm: body.confirm ?? false, allowMassChanges: body.allowMassChanges ?? false, by: Actor(account))
        return try await BatchJSON(submitted).encodeResponse(status: .accepted, for: req)
    }

    func undo(req: Request) async throws -> Response {
        let (account, batch) = try await changeable(req)
        let undoing = try await req.engine.requestUndo(batch.id, by: Actor(account))
        return try await BatchJSON(undoing).encodeResponse(status: .accepted, for: req)
    }
}
