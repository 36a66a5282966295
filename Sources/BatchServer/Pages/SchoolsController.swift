import BatchCore
import BatchStore
import Vapor

/// Schools: list, add, edit school ID and name, and the roster activation gate with its switch.
struct SchoolsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let schools = routes.grouped("schools")
        schools.get(use: list)
        schools.post(use: create)
        schools.get(":key", use: edit)
        schools.post(":key", use: update)
        schools.post("activation", use: toggleActivation)
    }

    struct SchoolRow: Encodable {
        var key: String
        var schoolID: String
        var name: String
        var students: Int
        var staff: Int
        var classes: Int
        var problem: String?
    }

    struct SchoolsPage: Encodable {
        var layout: LayoutContext
        var schools: [SchoolRow]
        var gate: ActivationGate
        var notice: String?
        var error: String?
        var form: SchoolForm
    }

    struct SchoolForm: Content {
        var schoolID: String
        var name: String
    }

    struct EditPage: Encodable {
        var layout: LayoutContext
        var key: String
        var form: SchoolForm
        var error: String?
    }

    static func page(
        request: Request, summaries: [SchoolSummary], gate: ActivationGate, notice: String?, error: String?,
        form: SchoolForm
    ) -> SchoolsPage {
        let problems = Dictionary(grouping: gate.problems, by: \.schoolKey)
        let rows = summaries.map { summary in
            SchoolRow(
                key: summary.school.key.rawValue, schoolID: summary.school.displayID, name: summary.school.name,
                students: summary.students, staff: summary.staff, classes: summary.classes,
                problem: problems[summary.school.key]?.map(\.message).joined(separator: "; "))
        }
        return SchoolsPage(
            layout: LayoutContext(request: request, title: "Schools"), schools: rows, gate: gate, notice: notice,
            error: error, form: form)
    }

    func list(req: Request) async throws -> View {
        _ = try req.account(with: .manageSchools)
        return try await render(req, notice: Notice.text(req.query[String.self, at: "done"]), error: nil, form: .init(schoolID: "", name: ""))
    }

    private func render(_ req: Request, notice: String?, error: String?, form: SchoolForm) async throws -> View {
        let account = try req.account()
        let summaries = try await req.store.schoolSummaries(scope: account.scope)
        let gate = try await req.store.activationGate()
        return try await req.view.render(
            "schools", Self.page(request: req, summaries: summaries, gate: gate, notice: notice, error: error, form: form))
    }

    /// Trims and checks a submitted school; nil ID means "no ID yet".
    static func school(from form: SchoolForm, key: SchoolKey) throws -> School {
        let name = form.name.trimmingCharacters(in: .whitespacesAndNewlines)
        guard !name.isEmpty else { throw AppError.invalid("Enter the school's name.") }
        guard name.count <= 200 else { throw AppError.invalid("A school name has at most 200 characters.") }
        let id = form.schoolID.trimmingCharacters(in: .whitespacesAndNewlines)
        if !id.isEmpty, let problem = IdentifierRules.schoolIDProblem(id) { throw AppError.invalid(problem) }
        return School(key: key, schoolID: id.isEmpty ? nil : SchoolID(rawValue: id), name: name)
    }

    func create(req: Request) async throws -> Response {
        let account = try req.account(with: .manageSchools)
        let form = try req.content.decode(SchoolForm.self)
        do {
            let school = try Self.school(from: form, key: .generate())
            try await req.store.createSchool(school, by: Actor(account))
            return req.redirect(to: "/schools?done=school-created")
        } catch let error as AppError {
            return try await render(req, notice: nil, error: error.message, form: form).encodeResponse(status: error.status, for: req)
        } catch let error as StoreError {
            return try await render(req, notice: nil, error: error.userMessage, form: form).encodeResponse(status: .conflict, for: req)
        }
    }

    func edit(req: Request) async throws -> View {
        _ = try req.account(with: .manageSchools)
        guard let key = req.parameters.get("key"), let school = try await req.store.school(key: SchoolKey(rawValue: key))
        else { throw AppError.notFound() }
        return try await req.view.render(
            "school_edit",
            EditPage(
                layout: LayoutContext(request: req, title: "Edit \(school.name)"), key: key,
                form: SchoolForm(schoolID: school.displayID, name: school.name), error: nil))
    }

    func update(req: Request) async throws -> Response {
        let account = try req.account(with: .manageSchools)
        guard let key = req.parameters.get("key"), try await req.store.school(key: SchoolKey(rawValue: key)) != nil
        else { throw AppError.notFound() }
        let form = try req.content.decode(SchoolForm.self)
        do {
            try await req.store.updateSchool(try Self.school(from: form, key: SchoolKey(rawValue: key)), by: Actor(account))
            return req.redirect(to: "/schools?done=school-saved")
        } catch let error as AppError {
            return try await renderEdit(req, key: key, form: form, error: error.message, status: error.status)
        } catch let error as StoreError {
            return try await renderEdit(req, key: key, form: form, error: error.userMessage, status: .conflict)
        }
    }

    private func renderEdit(
        _ req: Request, key: String, form: SchoolForm, error: String, status: HTTPResponseStatus
    ) async throws -> Response {
        try await req.view.render(
            "school_edit", EditPage(layout: LayoutContext(request: req, title: "Edit school"), key: key, form: form, error: error)
        ).encodeResponse(status: status, for: req)
    }

    struct ActivationForm: Content { var enabled: String }

    func toggleActivation(req: Request) async throws -> Response {
        let account = try req.account(with: .manageSettings)
        let form = try req.content.decode(ActivationForm.self)
        var settings = try await req.store.settings()
        settings.batchUploadEnabled = form.enabled == "on"
        try await req.store.updateSettings(settings, by: Actor(account))
        return req.redirect(to: "/schools?done=settings-saved")
    }
}
