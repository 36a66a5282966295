import BatchCore
import BatchStore
import Vapor

/// *Student Email* (SPEC §6): the upload page, its template and data dictionary. After the upload the batch's own
/// page (`/uploads/{id}`) shows the preview and takes it on through Process, the report and undo.
struct EmailsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let emails = routes.grouped("emails")
        emails.get(use: page)
        emails.get("template.csv", use: template)
        emails.get("dictionary", use: dictionary)
        emails.on(.POST, body: .stream, use: upload)
    }

    struct Page: Encodable {
        var layout: LayoutContext
        var maxSize: String
        var recent: [UploadsController.Row]
        var errorTitle: String?
        var errors: [String]
    }

    func render(_ req: Request, account: Account, errorTitle: String? = nil, errors: [String] = []) async throws -> View {
        let recent = try await req.store.batches(visibleTo: account, kind: .emails, limit: 10)
        let board = req.engine.progress
        let limits = try req.engine.handler(for: .emails).limits
        return try await req.view.render(
            "emails",
            Page(
                layout: LayoutContext(request: req, title: "Student Email"), maxSize: limits.maxFileDescription,
                recent: recent.map { UploadsController.row($0, live: board.progress(of: $0.id)) }, errorTitle: errorTitle,
                errors: errors))
    }

    func page(req: Request) async throws -> View {
        try await render(req, account: try req.account(with: .emailBatch))
    }

    func template(req: Request) async throws -> Response {
        _ = try req.account(with: .emailBatch)
        let response = Response(status: .ok, body: .init(string: EmailBatch.template))
        response.headers.contentType = HTTPMediaType(type: "text", subType: "csv", parameters: ["charset": "utf-8"])
        response.headers.replaceOrAdd(name: .contentDisposition, value: "attachment; filename=\"emails-template.csv\"")
        return response
    }

    struct DictionaryPage: Encodable {
        var layout: LayoutContext
        var fileName: String
        var columns: [DataDictionary.Column]
        var rules: [String]
    }

    func dictionary(req: Request) async throws -> View {
        _ = try req.account(with: .emailBatch)
        return try await req.view.render(
            "dictionary",
            DictionaryPage(
                layout: LayoutContext(request: req, title: "emails.csv data dictionary"),
                fileName: EmailBatch.dictionary.fileName, columns: EmailBatch.dictionary.columns,
                rules: [
                    "One header row; column order is free. Header names are case-sensitive: a misspelled or wrongly "
                        + "capitalised header fails the whole file, with the correct name suggested.",
                    "Either loginId or userId says who each row is about (loginId is used when both are there).",
                    "UTF-8 (Excel's “CSV UTF-8”); UTF-16 and Windows-1252 files are converted, with a warning.",
                    "The columns of the error report (rowNumber, severity, issues, howToFix) are ignored, so a corrected "
                        + "error report can be uploaded as it is.",
                    "Each address must be unique in the district; a student's own current address may stay.",
                ]))
    }

    /// The upload form: streams the file in, creates the batch and opens its preview.
    func upload(req: Request) async throws -> Response {
        let account = try req.account(with: .emailBatch)
        let batch = try await req.store.createBatch(kind: .emails, options: "{}", by: account)
        let received: [BatchesAPIController.ReceivedJSON]
        do {
            received = try await Uploads.receive(req, batch: batch, account: account) { limits, directory in
                try await MultipartSpooler.spool(req, limits: limits, into: directory).files
            }
        } catch let rejection as FileRejection {
            _ = try? await req.engine.cancel(batch.id, by: Actor(account), reason: rejection.refusal)
            let view = try await render(
                req, account: account,
                errorTitle: "\(rejection.fileName) cannot be used, so nothing was uploaded. Correct it and try again:",
                errors: rejection.issues.map { "\($0.message) \($0.fix)" })
            return try await view.encodeResponse(status: .unprocessableEntity, for: req)
        } catch {
            _ = try? await req.engine.cancel(batch.id, by: Actor(account))
            throw error
        }
        guard !received.isEmpty else {
            _ = try? await req.engine.cancel(batch.id, by: Actor(account))
            let view = try await render(req, account: account, errorTitle: "Choose a CSV file first.", errors: [])
            return try await view.encodeResponse(status: .unprocessableEntity, for: req)
        }
        return req.redirect(to: "/uploads/\(batch.id.rawValue)")
    }
}
