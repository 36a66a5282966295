import BatchCore
import BatchServer
import BatchStore
import BatchTestSupport
import Foundation
import Testing
import Vapor
import VaporTesting

@Suite("HTTP: roster batches (SPEC §4, §10) — headers, preview counts, error reports, Process, report; pages")
struct RosterHTTPTests {
    struct ErrorBody: Decodable {
        struct Inner: Decodable { var code: String; var message: String; var details: [String]? }
        var error: Inner
    }
    struct BatchBody: Decodable {
        var status: String
        var counts: ItemCounts
        var entityCounts: [EntityCounts]
        var options: [String: String]
    }

    static func withoutValues(_ kinds: [IssueKind]) -> [IssueKind] {
        kinds.map { kind in
            var kind = kind
            kind.values = nil
            return kind
        }
    }

    static let users = """
        schoolId,schoolName,userId,userRole,loginId,firstName,lastName,userEmail,userGrade,classId,className,primaryTeacher\r
        N,North School,0001,student,19chanw1,Wing Yan,Chan,,01,N-1A,1A,\r
        N,North School,0003,student,19wongk1,Ka Yan,Wong,,01,N-1A,1A,\r
        N,North School,T100,teacher,,Ann,Lee,ann.lee@north.example,,N-1A,1A,true\r
        N,North School,1.23E+05,student,19hok1,Ka,Ho,,01,N-1A,1A,\r
        N,North School,0005,student,19tamm1,Mei,Tam,,1st,N-1A,1A,\r

        """

    func put(_ t: TestApp, _ token: String, _ id: String, _ name: String, _ body: String, check: (TestingHTTPResponse) async throws -> Void) async throws {
        try await t.app.testing().test(.PUT, "/api/v1/batches/\(id)/files/\(name)", beforeRequest: { req in
            req.headers.bearerAuthorization = .init(token: token)
            req.body = ByteBuffer(string: body)
        }, afterResponse: check)
    }

    /// A page as a signed-in browser gets it (200 expected).
    static func page(_ t: TestApp, _ browser: BrowserSession, _ path: String) async throws -> String {
        var body = ""
        try await t.app.testing().test(.GET, path, beforeRequest: { req in
            req.headers.replaceOrAdd(name: .cookie, value: browser.cookie)
        }, afterResponse: { res in
            #expect(res.status == .ok)
            body = res.body.string
        })
        return body
    }

    func get(_ t: TestApp, _ token: String, _ path: String, check: (TestingHTTPResponse) async throws -> Void) async throws {
        try await t.app.testing().test(.GET, path, beforeRequest: { req in req.headers.bearerAuthorization = .init(token: token) }, afterResponse: check)
    }

    @Test("a misspelled header fails the file with the nearest name; bad rows show in the counts and the error report; Process applies the rest", arguments: TestDatabase.all)
    func previewErrorsProcess(database: TestDatabase) async throws {
        try await TestApp.with(database) { t in
            let token = try await t.token("admin")
            let id = try await BatchHTTPTests.createBatch(t, token: token, kind: "roster")
            try await put(t, token, id, "users.csv", Self.users.replacingOccurrences(of: "userEmail", with: "UserEmail")) { res in
                #expect(res.status == .unprocessableEntity)
                let body = try res.content.decode(ErrorBody.self)
                #expect(body.error.details == [
                    "\"UserEmail\" — did you mean \"userEmail\"? Rename the header to \"userEmail\" exactly (headers are case-sensitive)."
                ])
            }
            try await put(t, token, id, "users.csv", Self.users) { res in #expect(res.status == .created) }
            try await get(t, token, "/api/v1/batches/\(id)") { res in
                let batch = try res.content.decode(BatchBody.self)
                #expect(batch.options["mode"] == "add-update")
                let students = batch.entityCounts.first { $0.entity == "students" }
                #expect(students?.created == 1 && students?.unchanged == 1 && students?.errors == 2)
                #expect(batch.entityCounts.first { $0.entity == "classes" }?.created == 1)
                #expect(batch.entityCounts.first { $0.entity == "staff" }?.created == 1)
            }
            try await get(t, token, "/api/v1/batches/\(id)/error-report") { res in
                #expect(res.headers.first(name: .contentDisposition)?.contains("users-errors.csv") == true)
                let text = res.body.string
                let lines = text.split(whereSeparator: \.isNewline)
                #expect(lines.first == "\u{FEFF}schoolId,schoolName,userId,userRole,loginId,firstName,lastName,userEmail,userGrade,classId,className,primaryTeacher,rowNumber,severity,issues,howToFix")
                #expect(lines.count == 3)
                #expect(text.contains("N,North School,1.23E+05,student,19hok1,Ka,Ho,,01,N-1A,1A,,5,error,"))
                #expect(text.contains("scientific notation"))
                #expect(text.contains(",6,error,") && text.contains("userGrade"))
                // Each issue "column: message", the row said once, in rowNumber.
                #expect(text.contains(",5,error,userId: “1.23E+05” is a number") && !text.contains("Row 5") && !text.contains("Row 6"), "\(text)")
            }
            // The error report, corrected, uploads as it is (its extra columns are ignored).
            var report = ""
            try await get(t, token, "/api/v1/batches/\(id)/error-report") { res in report = res.body.string }
            let corrected = report.replacingOccurrences(of: "1.23E+05", with: "0006").replacingOccurrences(of: ",1st,", with: ",01,")
            let again = try await BatchHTTPTests.createBatch(t, token: token, kind: "roster")
            try await put(t, token, again, "users-errors.csv", corrected) { res in #expect(res.status == .created) }
            try await get(t, token, "/api/v1/batches/\(again)") { res in
                let batch = try res.content.decode(BatchBody.self)
                #expect(batch.counts.ready == 2 && batch.counts.error == 0, "\(batch.counts)")
            }
            try await t.app.testing().test(.POST, "/api/v1/batches/\(id)/submit", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
                try req.content.encode(["confirm": true, "allowMassChanges": true], as: .json)
            }, afterResponse: { res in #expect(res.status == .accepted) })
            #expect(try await JobWorker(engine: t.services.engine, name: "test").runNext())
            try await get(t, token, "/api/v1/batches/\(id)") { res in
                let batch = try res.content.decode(BatchBody.self)
                #expect(batch.status == "completed_with_errors")
                #expect(batch.entityCounts.first { $0.entity == "enrollments" }?.created == 3)
            }
            try await get(t, token, "/api/v1/students/0003") { res in #expect(res.status == .ok) }
            try await get(t, token, "/api/v1/batches/\(id)/report.csv") { res in
                let lines = res.body.string.split(whereSeparator: \.isNewline).map(String.init)
                #expect(lines.first == "records,created,updated,unchanged,removed,errors,warnings")
                #expect(lines.contains("Students,1,0,1,0,2,"))
                #expect(lines.contains("Enrollments,3,0,0,0,0,"))
            }
            // Undo from the page asks to be confirmed, as Process does.
            let browser = try await t.signIn("admin")
            for confirm in ["", "yes"] {
                try await t.app.testing().test(.POST, "/uploads/\(id)/undo", beforeRequest: { req in
                    req.headers.replaceOrAdd(name: .cookie, value: browser.cookie)
                    try req.content.encode(["_csrf": browser.csrf, "confirm": confirm], as: .urlEncodedForm)
                }, afterResponse: { res in
                    if confirm.isEmpty {
                        #expect(res.status == .conflict)
                        #expect(res.body.string.contains("Tick “Put back what this batch wrote” to confirm"))
                    } else {
                        #expect(res.status == .seeOther && res.headers.first(name: .location)?.contains("done=batch-undo-queued") == true)
                    }
                })
            }
            let done = try await Self.page(t, browser, "/uploads/\(id)")
            #expect(done.contains("What this batch did (being undone now)</h2>"))
            #expect(try await JobWorker(engine: t.services.engine, name: "test").runNext())
            // Once undone, the page says that what it lists was put back.
            let undone = try await Self.page(t, browser, "/uploads/\(id)")
            #expect(undone.contains("What this batch did before it was undone</h2>"))
            #expect(undone.contains("Changes this batch wrote, since undone (before → after)</h2>"))
        }
    }

    @Test("the preview pages its rows: where a page is, the rows before and after it, each link back at the rows", arguments: [TestDatabase.sqlite])
    func previewPages(database: TestDatabase) async throws {
        try await TestApp.with(database) { t in
            let token = try await t.token("admin")
            let id = try await BatchHTTPTests.createBatch(t, token: token, kind: "roster")
            let rows = (1...250).map { "N,North School,\(String(format: "%04d", $0)),student,s\($0),First,Last,,01,N-1A,1A,\r" }
            let file = "schoolId,schoolName,userId,userRole,loginId,firstName,lastName,userEmail,userGrade,classId,className,primaryTeacher\r\n"
                + rows.joined(separator: "\n") + "\n"
            try await put(t, token, id, "users.csv", file) { res in #expect(res.status == .created) }
            let browser = try await t.signIn("admin")
            func page(_ query: String) async throws -> String { try await Self.page(t, browser, "/uploads/\(id)\(query)") }
            let first = try await page("")
            #expect(first.contains("Rows 1–100 of 250"))
            #expect(first.contains("href=\"/uploads/\(id)?offset=100#rows\">Next rows →"))
            #expect(!first.contains("Previous rows"))
            #expect(first.contains("action=\"/uploads/\(id)#rows\""), "the filters lead back to the rows")
            let second = try await page("?offset=100")
            #expect(second.contains("Rows 101–200 of 250"))
            #expect(second.contains("href=\"/uploads/\(id)?offset=0#rows\">← Previous rows"))
            #expect(second.contains("href=\"/uploads/\(id)?offset=200#rows\">Next rows →"))
            let last = try await page("?offset=200")
            #expect(last.contains("Rows 201–250 of 250") && last.contains("Previous rows") && !last.contains("Next rows"))
            // One page only: no pager.
            let ready = try await page("?state=error")
            #expect(!ready.contains("Previous rows") && !ready.contains("Next rows") && !ready.contains("Rows 1–"))
        }
    }

    @Test("the preview shows the rows of one file: demographics.csv's errors apart from users.csv's", arguments: [TestDatabase.sqlite])
    func previewOneFile(database: TestDatabase) async throws {
        try await TestApp.with(database) { t in
            let token = try await t.token("admin")
            let id = try await BatchHTTPTests.createBatch(t, token: token, kind: "roster")
            try await put(t, token, id, "users.csv", Self.users) { res in #expect(res.status == .created) }
            try await put(t, token, id, "demographics.csv", "userId,birthDate,sex\n0001,2015-13-01,female\n0003,2015-02-01,male\n") { res in
                #expect(res.status == .created)
            }
            let browser = try await t.signIn("admin")
            func page(_ query: String) async throws -> String { try await Self.page(t, browser, "/uploads/\(id)\(query)") }
            let errors = try await page("?state=error")
            #expect(errors.contains("<option value=\"\">Both files</option><option value=\"users.csv\" >users.csv</option>"))
            #expect(errors.contains("users.csv row 5") && errors.contains("demographics.csv row 2"))
            let demographics = try await page("?state=error&file=demographics.csv")
            #expect(demographics.contains("demographics.csv row 2") && !demographics.contains("users.csv row 5"))
            #expect(demographics.contains("there is no month 13"))
            #expect(demographics.contains("1 in all"))
            #expect(demographics.contains("<option value=\"demographics.csv\" selected>"))
            // A name that is not one of the batch's files shows every file.
            let unknown = try await page("?state=error&file=other.csv")
            #expect(unknown.contains("users.csv row 5") && unknown.contains("demographics.csv row 2"))
        }
    }

    @Test("problems by kind: each kind once with its rows' count and first row, on the page and the API; its link shows its rows only", arguments: TestDatabase.all)
    func problemsByKind(database: TestDatabase) async throws {
        try await TestApp.with(database) { t in
            let token = try await t.token("admin")
            let id = try await BatchHTTPTests.createBatch(t, token: token, kind: "roster")
            try await put(t, token, id, "users.csv", Self.users) { res in #expect(res.status == .created) }
            let demographics = "userId,birthDate,sex\n0001,2015-13-01,female\n0003,2015-02-30,male\n0005,2015-01-01,female\n"
            try await put(t, token, id, "demographics.csv", demographics) { res in #expect(res.status == .created) }
            struct Kind: Decodable { var severity: String; var code: String; var column: String?; var rows: Int; var first: BatchIssue; var values: [String]? }
            var kinds: [Kind] = []
            try await get(t, token, "/api/v1/batches/\(id)/issue-kinds") { res in
                #expect(res.status == .ok)
                kinds = try res.content.decode([Kind].self)
            }
            // The kind most rows have first; rows skipped because of another row's error after the errors.
            #expect(kinds.map(\.code) == ["invalid_date", "scientific_notation", "invalid_grade", "depends_on_bad_row"])
            #expect(kinds.map(\.rows) == [2, 1, 1, 1])
            #expect(kinds[0].column == "birthDate" && kinds[0].first.row == 2 && kinds[0].first.message.contains("there is no month 13"))
            #expect(kinds[3].first.file == "demographics.csv" && kinds[3].first.row == 4)
            // The different values the kind's rows give.
            #expect(kinds[0].values == ["2015-13-01", "2015-02-30"])
            // Kept when the items were planned; counted by the database from the stored items the same way when not
            // kept (a batch planned in part).
            let kept = try await t.services.store.issueKinds(of: BatchID(rawValue: id))
            _ = try await t.services.store.backend.write { db in try db.execute("UPDATE batches SET issue_kinds = NULL", []) }
            let counted = try await t.services.store.issueKinds(of: BatchID(rawValue: id))
            // (The database's count keeps no values given.)
            #expect(counted == Self.withoutValues(kept) && counted.count == 4)
            struct Items: Decodable { var total: Int }
            try await get(t, token, "/api/v1/batches/\(id)/items?issue=invalid_date&column=birthDate") { res in
                let page = try res.content.decode(Items.self)
                #expect(page.total == 2)
            }
            // The column is part of the kind: the same code without it is another kind.
            try await get(t, token, "/api/v1/batches/\(id)/items?issue=invalid_date") { res in
                let page = try res.content.decode(Items.self)
                #expect(page.total == 0)
            }
            try await get(t, token, "/api/v1/batches/\(id)/items?issue=invalid%25date") { res in
                #expect(res.status == .badRequest)
                let body = try res.content.decode(ErrorBody.self)
                #expect(body.error.code == "invalid_filter")
            }
            let browser = try await t.signIn("admin")
            func page(_ query: String) async throws -> String { try await Self.page(t, browser, "/uploads/\(id)\(query)") }
            let preview = try await page("")
            #expect(preview.contains("Problems by kind"))
            #expect(preview.contains("href=\"/uploads/\(id)?file=demographics.csv&amp;issue=invalid_date&amp;column=birthDate&amp;offset=0#rows\">Show these rows"))
            #expect(preview.contains("Skipped (another row"))
            // A row's problem is said without repeating its row, which the first column says (the kind's first row
            // keeps it).
            #expect(preview.contains("<li>birthDate: “2015-13-01” is not a real date") && !preview.contains("<li>Row 2, birthDate"))
            // The confirmation counts rows, as the list does; the table says what its error column counts.
            #expect(preview.contains("apply the 3 rows listed as “Will change”"))
            #expect(preview.contains("Rows with errors are left out. “With errors” counts"))
            let dates = try await page("?issue=invalid_date&column=birthDate")
            #expect(dates.contains("Showing only the rows with one kind of problem: invalid date (birthDate)."), "every file's rows")
            let inFile = try await page("?file=demographics.csv&issue=invalid_date&column=birthDate")
            #expect(inFile.contains("Showing only the rows with one kind of problem: invalid date (birthDate, demographics.csv)."))
            #expect(dates.contains("demographics.csv row 2") && dates.contains("demographics.csv row 3"))
            #expect(!dates.contains("demographics.csv row 4") && !dates.contains("users.csv row 5") && dates.contains("2 in all"))
            // The form keeps the kind when the state is changed.
            #expect(dates.contains("<input type=\"hidden\" name=\"issue\" value=\"invalid_date\">"))
        }
    }

    @Test("a roster's two files have their own kinds of problem: counted apart, named, and each kind's link shows its own file's rows", arguments: TestDatabase.all)
    func problemsByKindAndFile(database: TestDatabase) async throws {
        try await TestApp.with(database) { t in
            let token = try await t.token("admin")
            let id = try await BatchHTTPTests.createBatch(t, token: token, kind: "roster")
            // 0001's second row names a new class without its name: its first row is skipped in users.csv, and its demographics.csv row
            // in demographics.csv, both "skipped" in userId.
            let users = """
                schoolId,schoolName,userId,userRole,loginId,firstName,lastName,userEmail,userGrade,classId,className,primaryTeacher\r
                N,North School,0001,student,19chanw1,Wing Yan,Chan,,01,N-1A,1A,\r
                N,North School,0001,student,19chanw1,Wing Yan,Chan,,01,N-1B,,\r
                N,North School,0003,student,19wongk1,Ka Yan,Wong,,01,N-1A,1A,\r

                """
            try await put(t, token, id, "users.csv", users) { res in #expect(res.status == .created) }
            try await put(t, token, id, "demographics.csv", "userId,birthDate,sex\n0001,2015-01-01,female\n0003,2015-02-01,male\n") { res in
                #expect(res.status == .created)
            }
            struct Kind: Decodable, Equatable { var code: String; var column: String?; var file: String?; var rows: Int }
            var kinds: [Kind] = []
            try await get(t, token, "/api/v1/batches/\(id)/issue-kinds") { res in kinds = try res.content.decode([Kind].self) }
            let skipped = kinds.filter { $0.code == RosterFile.dependsOnBadRow }
            #expect(skipped == [
                Kind(code: RosterFile.dependsOnBadRow, column: "userId", file: "users.csv", rows: 1),
                Kind(code: RosterFile.dependsOnBadRow, column: "userId", file: "demographics.csv", rows: 1),
            ], "\(kinds)")
            #expect(kinds.count == 3 && kinds[0].file == "users.csv" && kinds[0].column == "className")
            // Counted by the database from the stored items, the same kinds.
            let kept = try await t.services.store.issueKinds(of: BatchID(rawValue: id))
            _ = try await t.services.store.backend.write { db in try db.execute("UPDATE batches SET issue_kinds = NULL", []) }
            #expect(try await t.services.store.issueKinds(of: BatchID(rawValue: id)) == Self.withoutValues(kept))
            let browser = try await t.signIn("admin")
            func page(_ query: String) async throws -> String { try await Self.page(t, browser, "/uploads/\(id)\(query)") }
            let preview = try await page("")
            #expect(preview.contains("in demographics.csv") && preview.contains("in users.csv"))
            let link = "/uploads/\(id)?file=demographics.csv&amp;issue=depends_on_bad_row&amp;column=userId&amp;offset=0#rows"
            #expect(preview.contains("href=\"\(link)\""))
            let demographics = try await page("?file=demographics.csv&issue=depends_on_bad_row&column=userId&offset=0")
            #expect(demographics.contains("demographics.csv row 2") && !demographics.contains("users.csv row 2") && demographics.contains("1 in all"))
            #expect(demographics.contains("<tr class=\"issue-error selected\""))
            // Only skipped: its badge says so.
            #expect(demographics.contains("Skipped (another row&#39;s error)</span>"))

            // A preview with nothing to write says so, where Process would be.
            let bad = try await BatchHTTPTests.createBatch(t, token: token, kind: "roster")
            let header = "schoolId,schoolName,userId,userRole,loginId,firstName,lastName,userEmail,userGrade,classId,className,primaryTeacher\n"
            try await put(t, token, bad, "users.csv", header + "N,North School,0009,student,s9,A,B,,1st,,,\nN,North School,0010,student,s10,C,D,,K,,,\n") { res in
                #expect(res.status == .created)
            }
            let nothing = try await Self.page(t, browser, "/uploads/\(bad)")
            #expect(nothing.contains("Nothing to process: every row is unchanged or has an error."), "\(nothing)")
            #expect(nothing.contains("Did you mean 01?") && nothing.contains("Did you mean KG?") && !nothing.contains("Did you mean IT?"))
            #expect(nothing.contains("Values given: “1st”, “K”"), "the kind's different values")
            #expect(!nothing.contains("<progress"), "a preview shows no progress bar")
        }
    }

    @Test("the roster page: upload form, templates and dictionaries; closed by the activation gate with the reason", arguments: [TestDatabase.sqlite])
    func pages(database: TestDatabase) async throws {
        try await TestApp.with(database) { t in
            let session = try await t.signIn("admin")
            try await t.app.testing().test(.GET, "/roster", beforeRequest: { req in req.headers.replaceOrAdd(name: .cookie, value: session.cookie) }, afterResponse: { res in
                #expect(res.status == .ok)
                #expect(res.body.string.contains("Upload and preview"))
                #expect(res.body.string.contains("Download your data"))
            })
            try await t.app.testing().test(.GET, "/roster/users-template.csv", beforeRequest: { req in req.headers.replaceOrAdd(name: .cookie, value: session.cookie) }, afterResponse: { res in
                #expect(res.body.string.hasPrefix("action,schoolId,schoolName,userId"))
            })
            try await t.app.testing().test(.GET, "/roster/dictionary/demographics", beforeRequest: { req in req.headers.replaceOrAdd(name: .cookie, value: session.cookie) }, afterResponse: { res in
                #expect(res.body.string.contains("countryOfBirthCode"))
            })
            var settings = try await t.services.store.settings()
            settings.batchUploadEnabled = false
            try await t.services.store.updateSettings(settings, by: .system)
            try await t.app.testing().test(.GET, "/roster", beforeRequest: { req in req.headers.replaceOrAdd(name: .cookie, value: session.cookie) }, afterResponse: { res in
                #expect(res.body.string.contains("Roster upload is switched off"))
                #expect(!res.body.string.contains("Upload and preview"))
            })
        }
    }

    static func form(_ boundary: String, files: [(field: String, name: String, text: String)], mode: String) -> String {
        var body = ""
        for file in files {
            body += "--\(boundary)\r\nContent-Disposition: form-data; name=\"\(file.field)\"; filename=\"\(file.name)\"\r\n"
                + "Content-Type: text/csv\r\n\r\n\(file.text)\r\n"
        }
        return body + "--\(boundary)\r\nContent-Disposition: form-data; name=\"mode\"\r\n\r\n\(mode)\r\n--\(boundary)--\r\n"
    }

    @Test("the page takes users.csv and demographics.csv in one form and plans them together; demographics.csv alone is refused", arguments: TestDatabase.all)
    func pageForm(database: TestDatabase) async throws {
        try await TestApp.with(database) { t in
            let session = try await t.signIn("admin")
            let boundary = "----sbroster\(UUID().uuidString.prefix(8))"
            let demographics = "userId,birthDate,sex,asian\r\n0001,2019-03-04,female,true\r\n0003,2019-05-06,male,\r\n"
            func post(_ body: String, check: (TestingHTTPResponse) async throws -> Void) async throws {
                try await t.app.testing().test(.POST, "/roster?_csrf=\(session.csrf)", beforeRequest: { req in
                    req.headers.replaceOrAdd(name: .cookie, value: session.cookie)
                    req.headers.replaceOrAdd(name: .contentType, value: "multipart/form-data; boundary=\(boundary)")
                    req.body = ByteBuffer(string: body)
                }, afterResponse: check)
            }
            var location = ""
            try await post(Self.form(boundary, files: [("demographics", "demographics.csv", demographics), ("users", "users.csv", Self.users)], mode: "add-update")) { res in
                #expect(res.status == .seeOther)
                location = res.headers.first(name: .location) ?? ""
            }
            let id = String(location.dropFirst("/uploads/".count))
            let token = try await t.token("admin")
            try await get(t, token, "/api/v1/batches/\(id)") { res in
                let batch = try res.content.decode(BatchBody.self)
                #expect(batch.entityCounts.first { $0.entity == "demographics" }?.created == 2)
                #expect(batch.options["mode"] == "add-update")
            }
            try await t.app.testing().test(.GET, location, beforeRequest: { req in req.headers.replaceOrAdd(name: .cookie, value: session.cookie) }, afterResponse: { res in
                let html = res.body.string
                #expect(html.contains("What this batch will do"))
                #expect(html.contains("Download demographics-errors.csv"))
                #expect(html.contains("Add and update: nothing missing from the file is touched"))
            })
            try await post(Self.form(boundary, files: [("users", "demographics.csv", demographics)], mode: "sync")) { res in
                #expect(res.status == .unprocessableEntity)
                #expect(res.body.string.contains("demographics.csv cannot be used on its own, so nothing was uploaded"))
                #expect(res.body.string.contains("Upload users.csv and demographics.csv together in one batch."))
            }
            // A refused header: the form asks for both files again, and the cancelled batch's page says why.
            let misspelt = Self.users.replacingOccurrences(of: "userEmail", with: "UserEmail")
            try await post(Self.form(boundary, files: [("users", "users.csv", misspelt), ("demographics", "demographics.csv", demographics)], mode: "add-update")) { res in
                #expect(res.status == .unprocessableEntity)
                #expect(res.body.string.contains("users.csv cannot be used, so nothing was uploaded. Correct it, then choose both files again"))
            }
            var refused: [(id: String, status: String)] = []
            try await get(t, token, "/api/v1/batches?kind=roster") { res in
                struct Listed: Decodable { var id: String; var status: String }
                refused = try res.content.decode([Listed].self).map { ($0.id, $0.status) }
            }
            let cancelled = try #require(refused.first { $0.status == "cancelled" })
            let page = try await Self.page(t, session, "/uploads/\(cancelled.id)")
            #expect(page.contains("users.csv cannot be used, so nothing was uploaded: “UserEmail” — did you mean “userEmail”?")
                || page.contains("users.csv cannot be used, so nothing was uploaded: &quot;UserEmail&quot; — did you mean"), "\(page)")
            #expect(!page.contains("<h2 id=\"rows\">"), "nothing was received, so no rows are listed")
            #expect(page.contains("Nothing was uploaded: the file was refused, for the reason below.") && !page.contains("<progress"))
            let list = try await Self.page(t, session, "/uploads")
            #expect(list.contains("Nothing was uploaded: a file was refused (open the batch for why)"))
            // Its error report would be empty: not offered. The batch with bad rows offers its own.
            let refusedRow = try #require(list.components(separatedBy: "data-batch=\"\(cancelled.id)\"").dropFirst().first?.components(separatedBy: "</tr>").first)
            #expect(!refusedRow.contains("error-report"))
            #expect(refusedRow.contains(">Refused</span>") && !refusedRow.contains(">Cancelled</span>"), "\(refusedRow)")
            // The Status filter says where a refused file is, and finds it there.
            let cancelledList = try await Self.page(t, session, "/uploads?status=cancelled")
            #expect(cancelledList.contains(">Cancelled or refused</option>") && cancelledList.contains("data-batch=\"\(cancelled.id)\""))
            let previewRow = try #require(list.components(separatedBy: "data-batch=\"\(id)\"").dropFirst().first?.components(separatedBy: "</tr>").first)
            #expect(previewRow.contains("/api/v1/batches/\(id)/error-report"))
        }
    }

    @Test("a preview made before the data last changed says so; checked again it is up to date; Process on the page checks it first and asks to look again when it changed", arguments: TestDatabase.all)
    func stalePreview(database: TestDatabase) async throws {
        try await TestApp.with(database) { t in
            let token = try await t.token("admin")
            let browser = try await t.signIn("admin")
            let north = """
                schoolId,schoolName,userId,userRole,loginId,firstName,lastName,userGrade,classId,className\r
                N,North School,0101,student,19leungy1,Yan,Leung,01,N-1A,1A\r
                N,North School,0102,student,19laui1,Ian,Lau,01,N-1A,1A\r

                """
            let south = north.replacingOccurrences(of: "N,North School,010", with: "S,South School,110")
                .replacingOccurrences(of: "N-1A", with: "S-1A").replacingOccurrences(of: "1,Y", with: "s,Y").replacingOccurrences(of: "1,I", with: "s,I")
            struct Stale: Decodable { var previewIsStale: Bool?; var counts: ItemCounts; var entityCounts: [EntityCounts] }
            func batch(_ id: String) async throws -> Stale {
                var body: Stale?
                try await get(t, token, "/api/v1/batches/\(id)") { res in body = try res.content.decode(Stale.self) }
                return try #require(body)
            }
            func draft(_ users: String) async throws -> String {
                let id = try await BatchHTTPTests.createBatch(t, token: token, kind: "roster")
                try await put(t, token, id, "users.csv", users) { res in #expect(res.status == .created) }
                return id
            }
            func submit(_ id: String, check: (TestingHTTPResponse) async throws -> Void) async throws {
                try await t.app.testing().test(.POST, "/api/v1/batches/\(id)/submit", beforeRequest: { req in
                    req.headers.bearerAuthorization = .init(token: token)
                    try req.content.encode(["confirm": true, "allowMassChanges": true], as: .json)
                }, afterResponse: check)
            }
            let first = try await draft(north), same = try await draft(north), other = try await draft(south)
            #expect(try await batch(same).previewIsStale == false)
            try await submit(first) { res in #expect(res.status == .accepted) }
            #expect(try await JobWorker(engine: t.services.engine, name: "test").runNext())

            // The same file's draft would now create nothing: its page says the preview may be out of date.
            #expect(try await batch(same).previewIsStale == true)
            #expect(try await batch(same).entityCounts.first { $0.entity == "students" }?.created == 2, "still the old preview")
            let stalePage = try await Self.page(t, browser, "/uploads/\(same)")
            #expect(stalePage.contains("This preview may be out of date.") && stalePage.contains("/uploads/\(same)/recheck"))
            #expect(!stalePage.contains("Nothing to process"))
            #expect(!stalePage.contains("/uploads/\(same)/submit"), "Process is offered once the file is checked again")
            let list = try await Self.page(t, browser, "/uploads")
            let sameRow = try #require(list.components(separatedBy: "data-batch=\"\(same)\"").dropFirst().first?.components(separatedBy: "</tr>").first)
            #expect(sameRow.contains("preview may be out of date: open it to check the file again"))
            let firstRow = try #require(list.components(separatedBy: "data-batch=\"\(first)\"").dropFirst().first?.components(separatedBy: "</tr>").first)
            #expect(!firstRow.contains("out of date"))
            // Process on the page checks first: the preview changed, so the person is asked to look again; nothing is
            // queued.
            try await t.app.testing().test(.POST, "/uploads/\(same)/submit", beforeRequest: { req in
                req.headers.replaceOrAdd(name: .cookie, value: browser.cookie)
                try req.content.encode(["_csrf": browser.csrf, "confirm": "yes"], as: .urlEncodedForm)
            }, afterResponse: { res in
                #expect(res.status == .seeOther && res.headers.first(name: .location)?.contains("done=preview-changed") == true)
            })
            let rechecked = try await batch(same)
            #expect(rechecked.previewIsStale == false && rechecked.counts.ready == 0 && rechecked.counts.unchanged == 2)
            #expect(rechecked.entityCounts.first { $0.entity == "students" }?.unchanged == 2)
            let upToDate = try await Self.page(t, browser, "/uploads/\(same)?done=preview-changed")
            #expect(!upToDate.contains("This preview may be out of date.") && upToDate.contains("Nothing to process"))
            #expect(upToDate.contains("<p class=\"warning\" role=\"status\">Nothing was processed: the data changed after this preview was made"))
            #expect(upToDate.contains("Draft – preview"))

            // The other school's draft is stale too; the API's submit checks it again and, as it shows the same, goes ahead.
            #expect(try await batch(other).previewIsStale == true)
            try await submit(other) { res in #expect(res.status == .accepted, "\(res.body.string)") }
            #expect(try await JobWorker(engine: t.services.engine, name: "test").runNext())
            try await get(t, token, "/api/v1/students/1101") { res in #expect(res.status == .ok) }

            // An undo changes the data too; "Check the file again" on the page plans the draft anew.
            try await t.app.testing().test(.POST, "/uploads/\(first)/undo", beforeRequest: { req in
                req.headers.replaceOrAdd(name: .cookie, value: browser.cookie)
                try req.content.encode(["_csrf": browser.csrf, "confirm": "yes"], as: .urlEncodedForm)
            }, afterResponse: { res in #expect(res.status == .seeOther) })
            #expect(try await JobWorker(engine: t.services.engine, name: "test").runNext())
            #expect(try await batch(same).previewIsStale == true)
            try await t.app.testing().test(.POST, "/uploads/\(same)/recheck", beforeRequest: { req in
                req.headers.replaceOrAdd(name: .cookie, value: browser.cookie)
                try req.content.encode(["_csrf": browser.csrf], as: .urlEncodedForm)
            }, afterResponse: { res in
                #expect(res.status == .seeOther && res.headers.first(name: .location)?.contains("done=batch-rechecked") == true)
            })
            let again = try await batch(same)
            #expect(again.previewIsStale == false && again.counts.ready == 2)
            #expect(again.entityCounts.first { $0.entity == "students" }?.created == 2)
            let rechecked2 = try await Self.page(t, browser, "/uploads/\(same)?done=batch-rechecked")
            #expect(rechecked2.contains("/uploads/\(same)/submit") && rechecked2.contains("the preview below is up to date"))
            // A submitted batch is not checked again.
            try await t.app.testing().test(.POST, "/api/v1/batches/\(other)/recheck", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
            }, afterResponse: { res in #expect(res.status == .conflict) })
        }
    }
}
