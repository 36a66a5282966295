import BatchCore
import BatchStore
import Vapor

/// *Upload Status* (SPEC §8): every batch the account may see, updating itself while work runs; and each batch's
/// own page with its preview, report, error report and the Process / Cancel / Undo buttons.
struct UploadsController: RouteCollection {
    func boot(routes: any RoutesBuilder) throws {
        let uploads = routes.grouped("uploads")
        uploads.get(use: list)
        uploads.get(":id", use: show)
        uploads.post(":id", "submit", use: submit)
        uploads.post(":id", "recheck", use: recheck)
        uploads.post(":id", "cancel", use: cancel)
        uploads.post(":id", "undo", use: undo)
        uploads.post(":id", "items", ":itemId", use: resolveItem)
        uploads.get(":id", "items", ":itemId", "photo", use: itemPhoto)
        uploads.get(":id", "items", ":itemId", "previous-photo", use: previousPhoto)
    }

    struct Row: Encodable {
        var id: String
        var kind: String
        var createdBy: String
        var createdAt: String
        var status: String
        var statusLabel: String
        var percent: Int
        var summary: String
        var active: Bool
        /// Downloads: no preview or error report; the file once it is written.
        var isExport: Bool
        var download: String?
        /// Whether its error report has rows (a clean batch's, or a refused file's, would be empty).
        var hasIssues: Bool
    }

    struct ListPage: Encodable {
        var layout: LayoutContext
        var rows: [Row]
        var kinds: [Option]
        var statuses: [Option]
    }

    typealias Option = PeopleController.Option

    /// `dataVersion`: the data's current version, when the list says which drafts' previews may be out of date.
    static func row(_ batch: Batch, live: (done: Int64, total: Int64)?, dataVersion: Int64? = nil) -> Row {
        let json = BatchJSON(batch, live: live)
        let stale = dataVersion.map(batch.previewIsStale(dataVersion:)) ?? false
        return Row(
            id: batch.id.rawValue, kind: batch.kind.label, createdBy: batch.createdByName,
            createdAt: AuditController.timeFormat.string(from: Date(millis: batch.createdAt)), status: batch.status.rawValue,
            statusLabel: batch.statusLabel, percent: json.progress.percent,
            summary: stale ? "\(json.summary) · preview may be out of date: open it to check the file again" : json.summary,
            active: batch.status.isRunning, isExport: batch.kind.isExport, download: json.links.download,
            hasIssues: batch.counts.hasIssues)
    }

    func list(req: Request) async throws -> View {
        let account = try req.account(with: .viewBatches)
        let kind = req.query[String.self, at: "kind"].flatMap(BatchKind.init(rawValue:))
        let status = req.query[String.self, at: "status"].flatMap(BatchStatus.init(rawValue:))
        let batches = try await req.store.batches(visibleTo: account, kind: kind, status: status, limit: 200)
        let board = req.engine.progress
        let version = batches.contains { $0.status == .draft } ? try await req.store.dataVersion() : nil
        let page = ListPage(
            layout: LayoutContext(request: req, title: "Upload Status"),
            rows: batches.map { Self.row($0, live: board.progress(of: $0.id), dataVersion: version) },
            kinds: BatchKind.allCases.map { Option(value: $0.rawValue, label: $0.label, selected: $0 == kind) },
            // A file refused at upload is listed as Refused, and its status is cancelled: the filter says where to find it.
            statuses: BatchStatus.allCases.map {
                Option(value: $0.rawValue, label: $0 == .cancelled ? "Cancelled or refused" : $0.label, selected: $0 == status)
            })
        return try await req.view.render("uploads", page)
    }

    /// One problem of a row as its line in the rows list says it; a warning is shown apart from an error.
    struct IssueLine: Encodable {
        var text: String
        var warning: Bool
    }

    struct ItemRow: Encodable {
        var id: Int64
        var row: String
        var label: String
        var state: String
        var stateLabel: String
        var changes: [String]
        var issues: [IssueLine]
        /// A person may match this item to a student, or skip it (a draft's unmatched or conflicting file).
        var canResolve: Bool
        var suggestions: [Suggestion]
        /// Photo batches: the student's current photo and the uploaded one (thumbnails), and its size.
        var currentPhoto: String?
        var newPhoto: String?
        var photoNote: String?
        /// Applied: the pair is the photo before the batch and the one it wrote ("Before" / "After").
        var applied: Bool
    }

    struct BatchPage: Encodable {
        var layout: LayoutContext
        var batch: BatchJSON
        var statusLabel: String
        var summary: String
        var files: [FileRow]
        var fileSummary: String?
        var options: [String]
        var items: [ItemRow]
        var itemTotal: Int
        var stateFilter: [Option]
        var nextLink: String?
        var previousLink: String?
        /// Which rows the page shows, when there is more than one page ("101–200 of 12,841").
        var pagePosition: String?
        var canSubmit: Bool
        /// Why Process is not offered yet, when only a person's decision is missing.
        var submitBlocked: String?
        /// Why Process is not offered at all: a preview with nothing to write.
        var nothingToProcess: String?
        /// “Rows” for CSV batches, “Files” for batches of files.
        var unit: String
        var canCancel: Bool
        var canUndo: Bool
        var active: Bool
        var hasIssues: Bool
        var changedSince: [String]
        var undoSummary: String?
        var changes: [String]
        var changeTotal: Int
        var showAudit: Bool
        var notice: String?
        /// What Process will do, in words, for the confirmation (photos: how many replaced and added).
        var confirmDetail: String?
        /// What the confirmation applies, counted as the rows list it: "12,806 rows", "1 file".
        var readyLabel: String
        /// Roster batches: per entity, what the batch will do (preview) or did (report).
        var entityCounts: [EntityRow]
        var entityTitle: String
        /// The heading of the fields written; after an undo it says they were put back.
        var changesTitle: String
        /// The error reports to download (roster: users-errors.csv and demographics-errors.csv).
        var errorReports: [Link]
        var showFilter: [Option]
        /// A batch of more than one file (a roster's users.csv and demographics.csv): the rows of one file.
        var fileFilter: [Option]
        var whoLabel: String
        /// The batch's problems by kind, each once with its first row and a link to its rows.
        var issueKinds: [IssueKindRow]
        /// The kind of problem the rows are filtered to, in words, with the link back to every row.
        var issueFilterLabel: String?
        var allRowsLink: String?
        var issueFilter: IssueFilterFields?
        /// A batch cancelled because its file was refused: nothing was received, so no rows are listed.
        var refused: Bool
        /// A draft planned before the data last changed: its counts may no longer be what Process would do.
        var stale: Bool
        var noticeIsWarning: Bool
    }

    struct IssueKindRow: Encodable {
        var severity: String
        var label: String
        /// The file whose rows these are, when the batch has two.
        var file: String?
        var column: String
        var rows: Int
        /// The different values its rows give, when more than one ("1st, K, Grade 3, …").
        var values: String?
        var example: String
        var fix: String
        var href: String?
        var selected: Bool
    }

    /// The filter's fields, kept by the form when the state or file is changed.
    struct IssueFilterFields: Encodable {
        var code: String
        var column: String?
    }

    /// A row of the table of records created, updated, … : the counts written as the rest of the page writes
    /// numbers ("143,360", not "143360": a state-size roster's enrollments).
    struct EntityRow: Encodable {
        var entity: String
        var label: String
        var created, updated, unchanged, removed, errors: String
        var hasErrors: Bool
        init(_ counts: EntityCounts) {
            entity = counts.entity
            label = counts.label
            (created, updated, unchanged, removed, errors) = (
                counts.created.formatted(), counts.updated.formatted(), counts.unchanged.formatted(), counts.removed.formatted(),
                counts.errors.formatted()
            )
            hasErrors = counts.errors > 0
        }
    }

    /// A file of the batch as the page lists it: the API's (`FileJSON`), with its rows and size written for a person
    /// ("users.csv (143,360 rows, 21.3 MB)").
    struct FileRow: Encodable {
        var file: FileJSON
        var rows: String
        var size: String
        init(_ file: BatchFile) {
            self.file = FileJSON(file)
            rows = file.itemCount.formatted()
            size = ByteCountFormatter.string(fromByteCount: file.byteSize, countStyle: .file)
        }
    }

    struct Link: Encodable {
        var href: String
        var label: String
    }

    /// The preview's second filter: rows with warnings, or rows that change one kind of record.
    static let showOptions: [(value: String, label: String)] = [
        ("warnings", "Rows with warnings"), ("school", "Changes to schools"), ("person", "Changes to people"),
        ("class", "Changes to classes"), ("enrollment", "Changes to enrollments"), ("demographics", "Changes to demographics"),
    ]

    /// users.csv's name before demographics.csv's, whatever the files are called (`users-errors.csv`).
    static func usersFirst(_ left: String, _ right: String) -> Bool {
        let leftDemographics = RosterHandler.namesDemographics(left), rightDemographics = RosterHandler.namesDemographics(right)
        return leftDemographics == rightDemographics ? left < right : rightDemographics
    }

    func show(req: Request) async throws -> View {
        let account = try req.account(with: .viewBatches)
        let batch = try await req.batchParameter(for: account)
        if batch.kind.isExport { return try await ExportPage.render(batch, account: account, req: req) }
        let state = req.query[String.self, at: "state"].flatMap(ItemState.init(rawValue:))
        let offset = max(req.query[Int.self, at: "offset"] ?? 0, 0)
        let show = req.query[String.self, at: "show"].flatMap { wanted in Self.showOptions.first { $0.value == wanted }?.value }
        let files = try await req.store.files(of: batch.id)
        // A roster's two files: the rows of one of them (demographics.csv's errors among users.csv's).
        let fileNames = batch.kind == .roster ? Array(Set(files.map(\.fileName))).sorted { Self.usersFirst($0, $1) } : []
        let file = req.query[String.self, at: "file"].flatMap { wanted in fileNames.count > 1 && fileNames.contains(wanted) ? wanted : nil }
        let issue = req.query[String.self, at: "issue"].flatMap {
            IssueFilter(code: $0, column: req.query[String.self, at: "column"].flatMap { $0.isEmpty ? nil : $0 })
        }
        let page = try await req.store.items(
            of: batch.id, state: state, warningsOnly: show == "warnings", changing: show == "warnings" ? nil : show,
            fileName: file, issue: issue, problemsFirst: batch.kind == .roster, offset: offset, limit: 100)
        let kinds = batch.counts.hasIssues ? try await req.store.issueKinds(of: batch.id) : []
        let written = try await req.store.changes(of: batch.id, limit: 50)
        let mayChange = account.can(batch.kind.capability)
        let itemsAreFiles = batch.kind == .documents || batch.kind == .photos
        let stale = try await req.store.previewIsStale(batch)
        // Each link leads back to the rows (`#rows`), below the summary and the Process box.
        /// `inFile`: with `everyRow`, the rows of that file only (a kind of problem of one of a roster's two files).
        func pageLink(_ offset: Int, issue: IssueFilter? = issue, everyRow: Bool = false, inFile: String? = nil) -> String {
            func encoded(_ name: String) -> String {
                name.addingPercentEncoding(withAllowedCharacters: .alphanumerics.union(CharacterSet(charactersIn: "-._~"))) ?? name
            }
            let query = (everyRow ? [inFile.map { "file=\(encoded($0))" }] : [
                state.map { "state=\($0.rawValue)" }, show.map { "show=\($0)" },
                file.map { "file=\(encoded($0))" },
            ]) + [issue.map { "issue=\($0.code)" }, issue?.column.map { "column=\($0)" }, "offset=\(offset)"]
            return "/uploads/\(batch.id.rawValue)?\(query.compactMap { $0 }.joined(separator: "&"))#rows"
        }
        let next = offset + page.items.count < page.total ? pageLink(offset + 100) : nil
        let previous = offset > 0 ? pageLink(max(offset - 100, 0)) : nil
        let position = page.items.isEmpty || page.total <= page.items.count
            ? nil
            : "\((offset + 1).formatted())–\((offset + page.items.count).formatted()) of \(page.total.formatted())"
        let context = BatchPage(
            layout: LayoutContext(request: req, title: "\(batch.kind.label) batch"),
            batch: BatchJSON(batch, live: req.engine.progress.progress(of: batch.id)), statusLabel: batch.statusLabel,
            // (On the batch's own page, the reason is below, not elsewhere.)
            summary: batch.wasRefused ? "Nothing was uploaded: the file was refused, for the reason below." : BatchJSON.summary(batch),
            files: files.count > 3 ? [] : files.map(FileRow.init),
            fileSummary: files.count > 3
                ? "\(files.count) files, \(ByteCountFormatter.string(fromByteCount: files.reduce(0) { $0 + $1.byteSize }, countStyle: .binary))"
                : nil,
            options: Self.optionLines(batch),
            items: page.items.map { item in
                // A row left out only because another row about its person has an error says so ("Skipped").
                let onlySkipped = item.state == .error && item.issues.contains { $0.code == RosterFile.dependsOnBadRow }
                    && item.issues.allSatisfy { $0.severity == .warning || $0.code == RosterFile.dependsOnBadRow }
                return ItemRow(
                    id: item.id, row: item.row.map { "\(item.fileName) row \($0)" } ?? item.fileName, label: item.label,
                    state: onlySkipped ? ItemState.skipped.rawValue : item.state.rawValue,
                    stateLabel: onlySkipped ? "Skipped (another row's error)" : item.state.label,
                    changes: item.changes.map(Self.describe),
                    // (The row is said in the first column: a message's "Row 5, userId: " is said as "userId: ".)
                    issues: item.issues.map {
                        IssueLine(
                            text: "\($0.severity == .warning ? "Warning: " : "")\(ErrorReport.withoutRow($0, row: item.row)) \($0.fix)",
                            warning: $0.severity == .warning)
                    },
                    canResolve: mayChange && batch.status == .draft && item.row == nil
                        && (item.state == .unmatched || item.state == .skipped || item.issues.contains { $0.code == "conflict" }),
                    suggestions: item.suggestions,
                    currentPhoto: batch.kind == .photos ? Self.beforePhotoURL(item, batch: batch) : nil,
                    newPhoto: batch.kind == .photos && item.input["thumbnailKey"] != nil
                        ? "/uploads/\(batch.id.rawValue)/items/\(item.id)/photo" : nil,
                    photoNote: item.input["width"].flatMap { width in item.input["height"].map { "\(width) × \($0) px" } },
                    applied: item.state == .applied)
            },
            itemTotal: page.total,
            stateFilter: ItemState.allCases.map { Option(value: $0.rawValue, label: $0.label, selected: $0 == state) },
            nextLink: next, previousLink: previous, pagePosition: position,
            // (Not on a preview that may be out of date: it is checked again first, and Process offered on the new one.)
            canSubmit: mayChange && (batch.status == .draft || batch.status == .failed) && batch.counts.ready > 0
                && batch.counts.unmatched == 0 && !stale,
            submitBlocked: mayChange && batch.status == .draft && batch.counts.unmatched > 0
                ? "\(batch.counts.unmatched) file\(batch.counts.unmatched == 1 ? " is" : "s are") not matched to a student yet. "
                    + "Choose the student below, or skip \(batch.counts.unmatched == 1 ? "it" : "them"); then you can press Process."
                : nil,
            nothingToProcess: mayChange && batch.status == .draft && !stale && batch.counts.total > 0 && batch.counts.ready == 0 && batch.counts.unmatched == 0
                ? (batch.counts.error > 0
                    ? "Nothing to process: every \(itemsAreFiles ? "file" : "row") is unchanged or has an error. Correct the errors (the error report lists them) and upload again."
                    : "Nothing to process: the data already matches every \(itemsAreFiles ? "file" : "row").")
                : nil,
            unit: itemsAreFiles ? "Files" : "Rows",
            canCancel: mayChange && [.draft, .queued, .failed].contains(batch.status),
            canUndo: mayChange && (batch.status == .completed || batch.status == .completedWithErrors),
            active: batch.status.isRunning, hasIssues: batch.counts.hasIssues,
            changedSince: (batch.report?.changedSince ?? []).map {
                "\($0.key) \($0.field): the batch wrote \($0.batchValue ?? "(empty)"), now \($0.currentValue ?? "(empty)") — left as it is"
            },
            undoSummary: batch.report?.restored.map { restored in
                let left = batch.report?.changedSince.count ?? 0
                return "Undo restored \(restored) field\(restored == 1 ? "" : "s") to what they were before the batch"
                    + (left > 0 ? "; \(left) changed since were left as they are (listed below)." : ".")
            },
            changes: written.items.map(Self.describe),
            changeTotal: written.total, showAudit: account.can(.viewAudit),
            notice: Notice.text(req.query[String.self, at: "done"]),
            confirmDetail: batch.kind == .photos ? try await Self.photoConfirmation(batch, store: req.store)
                : batch.kind == .roster ? Self.rosterConfirmation(batch) : nil,
            readyLabel: "\(batch.counts.ready.formatted()) \(itemsAreFiles ? "file" : "row")\(batch.counts.ready == 1 ? "" : "s")",
            // Kinds of record the files do not touch at all (no demographics.csv) are left out.
            entityCounts: batch.entityCounts.filter { $0.created + $0.updated + $0.unchanged + $0.removed + $0.errors > 0 }.map(EntityRow.init),
            entityTitle: batch.status == .undone ? "What this batch did before it was undone"
                : batch.status == .undoing ? "What this batch did (being undone now)"
                : [.completed, .completedWithErrors].contains(batch.status) ? "What this batch did" : "What this batch will do",
            changesTitle: batch.status == .undone ? "Changes this batch wrote, since undone (before → after)"
                : batch.status == .undoing ? "Changes this batch wrote, being undone (before → after)" : "Changes written (before → after)",
            errorReports: batch.kind == .roster
                ? [Link(href: "/api/v1/batches/\(batch.id.rawValue)/error-report", label: "Download users-errors.csv")]
                    + (files.contains { RosterHandler.namesDemographics($0.fileName) } || batch.entityCounts.contains { $0.entity == "demographics" && $0.created + $0.updated + $0.unchanged + $0.errors > 0 }
                        ? [Link(href: "/api/v1/batches/\(batch.id.rawValue)/error-report?file=demographics", label: "Download demographics-errors.csv")] : [])
                : [Link(href: "/api/v1/batches/\(batch.id.rawValue)/error-report", label: "Download the error report (CSV)")],
            showFilter: batch.kind == .roster ? Self.showOptions.map { Option(value: $0.value, label: $0.label, selected: $0.value == show) } : [],
            fileFilter: fileNames.count > 1 ? fileNames.map { Option(value: $0, label: $0, selected: $0 == file) } : [],
            whoLabel: batch.kind == .roster ? "Record" : "Student",
            issueKinds: kinds.map { kind in
                // (Of a roster's two files, each kind is one file's: named, and its link shows that file's rows.)
                let inFile = fileNames.count > 1 ? kind.file : nil
                return IssueKindRow(
                    severity: kind.severity.rawValue, label: Self.kindLabel(kind), file: inFile, column: kind.column ?? "–", rows: kind.rows,
                    values: Self.valuesText(kind),
                    example: kind.first.message, fix: kind.first.fix,
                    href: kind.filter.map { pageLink(0, issue: $0, everyRow: true, inFile: inFile) },
                    selected: kind.filter != nil && kind.filter == issue && (inFile == nil || inFile == file))
            },
            issueFilterLabel: issue.map { wanted in
                kinds.first { $0.filter == wanted && (file == nil || $0.file == nil || $0.file == file) }.map { kind in
                    let what = kind.code == RosterFile.dependsOnBadRow
                        ? "skipped because of another row's error" : kind.code.replacingOccurrences(of: "_", with: " ")
                    // (A file only when the rows shown are that file's.)
                    let whereText = [kind.column, file != nil ? kind.file : nil].compactMap { $0 }.joined(separator: ", ")
                    return "\(what)\(whereText.isEmpty ? "" : " (\(whereText))")"
                } ?? "the problem “\(wanted.code)”"
            },
            allRowsLink: issue == nil ? nil : pageLink(0, issue: nil),
            issueFilter: issue.map { IssueFilterFields(code: $0.code, column: $0.column) },
            refused: batch.wasRefused, stale: stale, noticeIsWarning: Notice.isWarning(req.query[String.self, at: "done"]))
        return try await req.view.render("upload", context)
    }

    /// The different values a kind's rows give, when more than one: "“1st”, “K”, “Grade 3”" (and "…" when there
    /// may be more).
    static func valuesText(_ kind: IssueKind) -> String? {
        // (Not for an ID column: each person's or class's own, the first row's example says enough.)
        guard let values = kind.values, values.count > 1, !Self.identifierColumns.contains(kind.column ?? "") else { return nil }
        return values.map { "“\($0)”" }.joined(separator: ", ") + (values.count == IssueKind.valuesKept && kind.rows > values.count ? ", …" : "")
    }

    static let identifierColumns: Set<String> = ["userId", "loginId", "schoolId", "classId", "userDistrictId", "userStateId", "userEmail"]

    /// "Error", "Warning", or, for rows left out because another row about the same person has an error, "Skipped".
    static func kindLabel(_ kind: IssueKind) -> String {
        kind.severity == .warning ? "Warning" : kind.code == RosterFile.dependsOnBadRow ? "Skipped (another row's error)" : "Error"
    }

    static func photoURL(_ userID: String) -> String {
        "/api/v1/students/\(userID.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed) ?? userID)/photo?size=thumbnail"
    }

    /// The photo to show before the new one: the student's current photo while the batch is a preview; once applied,
    /// the version it replaced (the current photo is then the batch's own).
    static func beforePhotoURL(_ item: BatchItem, batch: Batch) -> String? {
        guard let target = item.target else { return nil }
        if item.state == .applied {
            return item.changes.first?.before == nil ? nil : "/uploads/\(batch.id.rawValue)/items/\(item.id)/previous-photo"
        }
        return item.changes.first?.before != nil || item.state == .unchanged ? photoURL(target) : nil
    }

    /// The thumbnail of the photo an applied item replaced.
    func previousPhoto(req: Request) async throws -> Response {
        let account = try req.account(with: .viewBatches)
        let batch = try await req.batchParameter(for: account)
        guard let itemID = req.parameters.get("itemId").flatMap(Int64.init),
            let item = try await req.store.item(itemID, of: batch.id), let id = item.changes.first?.before,
            let photo = try await req.store.photo(id: id), photo.userID.rawValue == item.target
        else { throw AppError.notFound("This batch replaced no photo here.") }
        return try DirectoryAPIController.jpeg(photo.thumbnailKey, req: req)
    }

    /// "12 photos replace a student's current photo (…) and 5 are added."
    static func photoConfirmation(_ batch: Batch, store: Store) async throws -> String? {
        guard batch.status == .draft || batch.status == .failed else { return nil }
        let ready = try await store.items(of: batch.id, state: .ready, limit: 1000).items
        let replaced = ready.filter { $0.changes.first?.before != nil }.count
        let added = ready.count - replaced
        return "\(replaced) photo\(replaced == 1 ? "" : "s") will replace a student's current photo (the old one is kept "
            + "as an earlier version) and \(added) will be added for students who have none."
    }

    /// The uploaded photo of an item (its thumbnail), for the preview.
    func itemPhoto(req: Request) async throws -> Response {
        let account = try req.account(with: .viewBatches)
        let batch = try await req.batchParameter(for: account)
        guard let itemID = req.parameters.get("itemId").flatMap(Int64.init),
            let item = try await req.store.item(itemID, of: batch.id), let key = item.input["thumbnailKey"]
        else { throw AppError.notFound("This batch has no such photo.") }
        return try DirectoryAPIController.jpeg(key, req: req)
    }

    /// "Process will create 412 records, update 37 and remove 5."
    static func rosterConfirmation(_ batch: Batch) -> String? {
        guard batch.status == .draft || batch.status == .failed, !batch.entityCounts.isEmpty else { return nil }
        let created = batch.entityCounts.reduce(0) { $0 + $1.created }, updated = batch.entityCounts.reduce(0) { $0 + $1.updated }
        let removed = batch.entityCounts.reduce(0) { $0 + $1.removed }
        return "Process will create \(created.formatted()) record\(created == 1 ? "" : "s"), update \(updated.formatted()) and remove "
            + "\(removed.formatted()) (see the table above); rows with errors are left out."
    }

    /// One change as a person reads it: `000001 userEmail: old → new`, or a document filed for a student.
    static func describe(_ change: FieldChange) -> String {
        if change.field == "*" { return describeRecord(change) }
        if change.entity == "photo" {
            return change.before == nil
                ? "\(change.key): new photo (the student had none)"
                : "\(change.key): replaces the current photo (kept as an earlier version)"
        }
        if change.entity == "document", let slot = DocumentSlot(key: change.key) {
            return "\(slot.words): " + (change.before == nil ? "new document" : "replaces the earlier document (kept as a version)")
        }
        return "\(change.key) \(change.field): \(change.before ?? "(empty)") → \(change.after ?? "(empty)")"
    }

    /// A whole roster record created or removed, in words.
    static func describeRecord(_ change: FieldChange) -> String {
        let creating = change.before == nil
        let fields = RosterRecord.fields(creating ? change.after : change.before)
        let pair = RosterRecord.splitKey(change.key)
        switch change.entity {
        case "school":
            return creating ? "New school \(change.key) “\(fields["schoolName"] ?? "")”" : "School \(change.key) removed"
        case "person":
            let name = [fields["firstName"], fields["lastName"]].compactMap { $0 }.joined(separator: " ")
            let grade = fields["userGrade"].map { ", grade \($0)" } ?? ""
            return creating ? "New \(fields["userRole"] ?? "person") \(change.key) (\(name)\(grade))" : "\(change.key) (\(name)) removed"
        case "membership":
            return creating ? "\(pair?.0 ?? "") joins school \(pair?.1 ?? "")" : "\(pair?.0 ?? "") leaves school \(pair?.1 ?? "")"
        case "class":
            return creating
                ? "New class \(change.key) “\(fields["className"] ?? "")” at school \(fields["schoolId"] ?? "")\(fields["classGrade"].map { ", grade \($0)" } ?? "")"
                : "Class \(change.key) removed"
        case "enrollment":
            let primary = fields["primaryTeacher"] == "true" ? " as primary teacher" : ""
            return creating ? "\(pair?.0 ?? "") enrolled in \(pair?.1 ?? "")\(primary)" : "\(pair?.0 ?? "")'s enrollment in \(pair?.1 ?? "") ends"
        case "demographics":
            return creating ? "Demographics recorded for \(change.key)" : "Demographics of \(change.key) removed"
        default:
            return "\(change.entity) \(change.key): \(creating ? "created" : "removed")"
        }
    }

    /// A batch's settings in words (document type, year, term, title).
    static func optionLines(_ batch: Batch) -> [String] {
        if batch.kind == .roster {
            return [RosterMode.of(options: batch.options) == .sync
                ? "Full roster (sync): what the file leaves out at its schools is ended or marked as left"
                : "Add and update: nothing missing from the file is touched"]
        }
        guard batch.kind == .documents, let options = JSONText.decode(DocumentBatch.Options.self, batch.options) else { return [] }
        return [
            "Document type: \(options.documentType)", "School year: \(options.schoolYear)",
            "Term: \(options.term ?? "none")",
        ] + (options.title.map { ["Title: \($0)"] } ?? [])
    }

    struct ResolveForm: Content {
        var userId: String?
        var student: String?
        var skip: String?
    }

    /// The student picker and the Skip button of an item.
    func resolveItem(req: Request) async throws -> Response {
        let (account, batch) = try await changeable(req)
        guard let itemID = req.parameters.get("itemId").flatMap(Int64.init) else { throw AppError.notFound("This batch has no such item.") }
        let form = try req.content.decode(ResolveForm.self)
        if form.skip == "yes" {
            _ = try await req.engine.resolve(itemID: itemID, of: batch, target: nil, skip: true, by: Actor(account))
            return req.redirect(to: "/uploads/\(batch.id.rawValue)?done=item-skipped#item-\(itemID)")
        }
        let wanted = (form.userId ?? form.student ?? "").trimmingCharacters(in: .whitespaces)
        guard !wanted.isEmpty else {
            throw AppError.invalid("Choose a student (type a name, login ID or class and pick from the list), or skip the file.")
        }
        guard let userID = try await req.store.studentID(matching: wanted, scope: batch.scope) else {
            throw AppError.invalid(
                "No student in the batch's schools has the userId or login ID “\(wanted)”.",
                details: ["Type part of the name, login ID or class and pick the student from the list that opens."])
        }
        _ = try await req.engine.resolve(itemID: itemID, of: batch, target: userID.rawValue, skip: false, by: Actor(account))
        return req.redirect(to: "/uploads/\(batch.id.rawValue)?done=item-matched#item-\(itemID)")
    }

    struct SubmitForm: Content {
        var confirm: String?
        var allowMassChanges: String?
    }

    private func changeable(_ req: Request) async throws -> (Account, Batch) {
        let account = try req.account()
        return (account, try await req.batchParameter(for: account, toChange: true))
    }

    func submit(req: Request) async throws -> Response {
        let (account, batch) = try await changeable(req)
        let form = try req.content.decode(SubmitForm.self)
        guard form.confirm == "yes" else {
            throw AppError(
                .conflict, "not_confirmed",
                "Tick “I have checked the preview” to confirm, then press Process again.")
        }
        do {
            _ = try await req.engine.submit(
                batch.id, confirm: true, allowMassChanges: form.allowMassChanges == "yes", refuseChangedPreview: true,
                by: Actor(account))
        } catch is BatchEngine.PreviewChanged {
            // The preview the person checked was made before the data last changed, and is not what Process would do.
            return req.redirect(to: "/uploads/\(batch.id.rawValue)?done=preview-changed")
        }
        return req.redirect(to: "/uploads/\(batch.id.rawValue)?done=batch-queued")
    }

    /// "Check the file again": a draft made before the data last changed, planned again against the data as it is.
    func recheck(req: Request) async throws -> Response {
        let (account, batch) = try await changeable(req)
        try await req.engine.replan(batch, by: Actor(account))
        return req.redirect(to: "/uploads/\(batch.id.rawValue)?done=batch-rechecked")
    }

    func cancel(req: Request) async throws -> Response {
        let (account, batch) = try await changeable(req)
        _ = try await req.engine.cancel(batch.id, by: Actor(account))
        return req.redirect(to: "/uploads/\(batch.id.rawValue)?done=batch-cancelled")
    }

    func undo(req: Request) async throws -> Response {
        let (account, batch) = try await changeable(req)
        // Confirmed as Process is: an undo of a large batch puts back thousands of fields at one click.
        guard try req.content.decode(SubmitForm.self).confirm == "yes" else {
            throw AppError(
                .conflict, "not_confirmed", "Tick “Put back what this batch wrote” to confirm, then press Undo this batch again.")
        }
        _ = try await req.engine.requestUndo(batch.id, by: Actor(account))
        return req.redirect(to: "/uploads/\(batch.id.rawValue)?done=batch-undo-queued")
    }
}

extension Batch {
    /// Cancelled because the file it was made for was refused at upload: nothing of it was ever received.
    var wasRefused: Bool { status == .cancelled && failure != nil && counts.total == 0 }

    /// Its status as a person reads it; a refused file's batch says so.
    var statusLabel: String { wasRefused ? "Refused" : status.label }
}

extension BatchStatus {
    /// The status as a person reads it.
    var label: String {
        switch self {
        case .draft: "Draft – preview"
        case .queued: "Queued"
        case .processing: "Processing"
        case .completed: "Completed"
        case .completedWithErrors: "Completed with errors"
        case .failed: "Failed"
        case .cancelled: "Cancelled"
        case .undoing: "Undoing"
        case .undone: "Undone"
        }
    }

    /// Work is waiting or running: the page keeps itself up to date.
    var isRunning: Bool { self == .queued || self == .processing || self == .undoing }
}
