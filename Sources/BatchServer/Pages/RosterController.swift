import BatchCore
import BatchStore
import Vapor

/// *Roster Batch Upload* (SPEC §4): the upload page (behind the activation gate), the two templates and data
/// dictionaries, and *Download your data*. After the upload the batch's own page (`/uploads/{id}`) shows the
/// preview with its counts per entity and takes it on through Process, the report and undo.
struct RosterController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let roster = routes.grouped("roster")
        roster.get(use: page)
        roster.get("users-template.csv", use: usersTemplate)
        roster.get("demographics-template.csv", use: demographicsTemplate)
        roster.get("dictionary", "users", use: usersDictionary)
        roster.get("dictionary", "demographics", use: demographicsDictionary)
        roster.on(.POST, body: .stream, use: upload)
    }

    struct SchoolOption: Encodable {
        var id: String
        var name: String
    }

    struct Page: Encodable {
        var layout: LayoutContext
        var maxSize: String
        var gate: ActivationGate
        var canUpload: Bool
        var canExport: Bool
        var schools: [SchoolOption]
        var recent: [UploadsController.Row]
        var errorTitle: String?
        var errors: [String]
        var sync: Bool
    }

    func render(_ req: Request, account: Account, errorTitle: String? = nil, errors: [String] = [], sync: Bool = false) async throws -> View {
        let recent = try await req.store.batches(visibleTo: account, kind: .roster, limit: 10)
        let board = req.engine.progress
        let limits = try req.engine.handler(for: .roster).limits
        let schools = try await req.store.schools().filter { account.scope.allows($0.key) && $0.schoolID != nil }
        return try await req.view.render(
            "roster",
            Page(
                layout: LayoutContext(request: req, title: "Roster Batch Upload"), maxSize: limits.maxFileDescription,
                gate: try await req.store.activationGate(), canUpload: account.can(.rosterUpload), canExport: account.can(.rosterExport),
                schools: schools.map { SchoolOption(id: $0.schoolID?.rawValue ?? "", name: $0.name) },
                recent: recent.map { UploadsController.row($0, live: board.progress(of: $0.id)) }, errorTitle: errorTitle,
                errors: errors, sync: sync))
    }

    func page(req: Request) async throws -> View {
        let account = try req.account()
        guard account.can(.rosterUpload) || account.can(.rosterExport) else { throw AppError.forbidden }
        return try await render(req, account: account)
    }

    static func csv(_ text: String, fileName: String) -> Response {
        let response = Response(status: .ok, body: .init(string: text))
        response.headers.contentType = HTTPMediaType(type: "text", subType: "csv", parameters: ["charset": "utf-8"])
        response.headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename=\"\(fileName)\"")
        return response
    }

    func usersTemplate(req: Request) async throws -> Response {
        _ = try req.account(with: .rosterUpload)
        return Self.csv(RosterDictionaries.usersTemplate, fileName: "users.csv")
    }

    func demographicsTemplate(req: Request) async throws -> Response {
        _ = try req.account(with: .rosterUpload)
        return Self.csv(RosterDictionaries.demographicsTemplate, fileName: "demographics.csv")
    }

    static let fileRules = [
        "One header row; column order is free. Header names are case-sensitive: a missing, misspelled, wrongly capitalised, "
            + "duplicated or unknown header fails the whole file, with the correct name suggested.",
        "UTF-8 (Excel's “CSV UTF-8”); UTF-16 and Windows-1252 files are converted, with a warning. CRLF or LF line ends; "
            + "quoted cells may hold commas, quotes and line breaks.",
        "Values are trimmed. Identifiers stay text: 00123 stays 00123. Format ID columns as Text in a spreadsheet: "
            + "lost leading zeros, 1.23E+05 and dates turned into numbers are refused with the original suggested.",
        "A column that is not in the file leaves that field as it is; a column that is there but empty clears it.",
        "The columns of the error report (rowNumber, severity, issues, howToFix) are ignored, so a corrected error report "
            + "can be uploaded as it is.",
    ]

    func usersDictionary(req: Request) async throws -> View {
        try await dictionary(
            req, RosterDictionaries.users,
            rules: [
                "One row per person per class; a person with no class has one row with the class columns empty.",
                "The same userId on several rows must carry the same person fields. loginId and userEmail are unique in the file and the district.",
                "A new schoolId or classId needs its name (schoolName, className) on at least one of its rows; a class belongs to one school.",
                "A class with more than 80 students gets a warning; an exact duplicate row a warning, and counts once.",
                "Mode add-update (default) creates and updates; sync also ends enrollments absent from the file, and marks "
                    + "students and staff of the file's schools who are absent as left.",
            ])
    }

    func demographicsDictionary(req: Request) async throws -> View {
        try await dictionary(
            req, RosterDictionaries.demographics,
            rules: [
                "Accepted only together with its users.csv, in the same upload: each userId must be a student in that users.csv.",
                "One row per student. A student whose users.csv row has an error is skipped here too, naming the row to fix.",
            ])
    }

    /// A data dictionary page: the columns from the definition that validates, the file rules, the file's own rules.
    func dictionary(_ req: Request, _ dictionary: DataDictionary, rules: [String]) async throws -> View {
        _ = try req.account(with: .rosterUpload)
        return try await req.view.render(
            "dictionary",
            EmailsController.DictionaryPage(
                layout: LayoutContext(request: req, title: "\(dictionary.fileName) data dictionary"), fileName: dictionary.fileName,
                columns: dictionary.columns, rules: Self.fileRules + rules))
    }

    /// The upload form: both files (users.csv first) and the mode, streamed in; the batch's preview opens.
    func upload(req: Request) async throws -> Response {
        let account = try req.account(with: .rosterUpload)
        let gate = try await req.store.activationGate()
        guard gate.isOpen else { throw AppError(.conflict, "roster_upload_closed", gate.explanation) }
        let limits = try req.engine.handler(for: .roster).limits
        let spooled = try await MultipartSpooler.spool(req, limits: limits, into: req.application.schoolBatch.config.uploadDirectory)
        defer { for file in spooled.files { file.remove() } }
        let sync = spooled.fields["mode"] == RosterMode.sync.rawValue
        func failed(_ title: String, _ errors: [String]) async throws -> Response {
            try await render(req, account: account, errorTitle: title, errors: errors, sync: sync)
                .encodeResponse(status: .unprocessableEntity, for: req)
        }
        let files = spooled.files.filter { $0.byteCount > 0 }
        let kinds = files.map { file in
            (file, RosterHandler.isDemographics(fileName: file.fileName, bytes: (try? Data(contentsOf: file.url, options: .alwaysMapped)) ?? Data()))
        }
        guard !files.isEmpty else { return try await failed("Choose your users.csv first.", []) }
        if kinds.allSatisfy(\.1) {
            let rejection = RosterFile.demographicsAlone(fileName: files[0].fileName)
            return try await failed(
                "\(rejection.fileName) cannot be used on its own, so nothing was uploaded:", rejection.issues.map { "\($0.message) \($0.fix)" })
        }
        let ordered = kinds.filter { !$0.1 }.map(\.0) + kinds.filter(\.1).map(\.0)
        let batch = try await req.store.createBatch(kind: .roster, options: JSONText.encode(["mode": sync ? "sync" : "add-update"]), by: account)
        do {
            _ = try await Uploads.receive(ordered, req: req, batch: batch, account: account)
        } catch let rejection as FileRejection {
            _ = try? await req.engine.cancel(batch.id, by: Actor(account), reason: rejection.refusal)
            return try await failed(
                "\(rejection.fileName) cannot be used, so nothing was uploaded. Correct it, then choose "
                    + (ordered.count > 1 ? "both files again (users.csv and demographics.csv go in together):" : "it again:"),
                rejection.issues.map { "\($0.message) \($0.fix)" })
        } catch {
            _ = try? await req.engine.cancel(batch.id, by: Actor(account))
            throw error
        }
        return req.redirect(to: "/uploads/\(batch.id.rawValue)")
    }
}
