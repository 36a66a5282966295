import BatchCore
import BatchStore
import Vapor

/// The home page: *Batch Data Update*, the table of what the account may do.
struct HomeController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        routes.get(use: home)
    }

    struct Row: Encodable {
        var name: String
        var description: String
        var path: String
        var available: Bool
        var note: String?
    }

    struct HomePage: Encodable {
        var layout: LayoutContext
        var rows: [Row]
        var gate: ActivationGate
        var showGate: Bool
    }

    /// Batch features that this version of SchoolBatch serves; the others are listed but not linked.
    static let builtPaths: Set<String> = ["/roster", "/emails", "/documents", "/photos"]

    static func page(request: Request, account: Account, gate: ActivationGate, districtName: String) -> HomePage {
        let rows = BatchFeature.available(to: account.role).map { feature in
            let built = builtPaths.contains(feature.path)
            var note: String? = built ? nil : "Not available in this version of SchoolBatch yet."
            if feature.path == "/roster", !gate.isOpen { note = gate.explanation }
            return Row(name: feature.name, description: feature.description, path: feature.path, available: built, note: note)
        }
        return HomePage(
            layout: LayoutContext(request: request, title: "Batch Data Update", districtName: districtName), rows: rows,
            gate: gate, showGate: account.can(.rosterUpload) && !gate.isOpen)
    }

    func home(req: Request) async throws -> View {
        let account = try req.account()
        let gate = try await req.store.activationGate()
        let settings = try await req.store.settings()
        return try await req.view.render(
            "home", Self.page(request: req, account: account, gate: gate, districtName: settings.districtName))
    }
}
