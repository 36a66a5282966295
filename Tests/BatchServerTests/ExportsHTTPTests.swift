import BatchCore
import BatchServer
import BatchStore
import BatchTestSupport
import Foundation
import Testing
import VaporTesting

@Suite("HTTP: Download your data (users.csv, demographics.csv)")
struct ExportsHTTPTests {
    @Test("users.csv for one school in the upload format, as an attachment; a viewer gets 403; an unknown school 422", arguments: TestDatabase.all)
    func usersCSV(database: TestDatabase) async throws {
        try await TestApp.with(database) { t in
            try await t.services.store.upsert(demographics: [Demographics(userID: "0001", birthDate: "2014-09-02", sex: "female")])
            let token = try await t.token("admin")
            try await t.app.testing().test(.GET, "/api/v1/exports/users.csv?schoolId=N&include=students", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
            }, afterResponse: { res in
                #expect(res.status == .ok)
                #expect(res.headers.contentType?.subType == "csv")
                // The name says which school and which people it holds.
                #expect(res.headers.first(name: .contentDisposition)?.contains("filename=\"users-N-students.csv\"") == true)
                let lines = res.body.string.components(separatedBy: "\r\n").filter { !$0.isEmpty }
                // UTF-8's byte order mark first, so that Excel opening the file reads its names as UTF-8.
                #expect(Array(res.body.readableBytesView.prefix(3)) == [0xEF, 0xBB, 0xBF])
                #expect(lines.first == "\u{FEFF}" + RosterGenerator.usersHeader.joined(separator: ","))
                #expect(lines.dropFirst() == [",N,North School,0001,student,19chanw1,Wing Yan,Chan,,,,01,active,,,,,,,"], "\(lines)")
            })
            try await t.app.testing().test(.GET, "/api/v1/exports/demographics.csv", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
            }, afterResponse: { res in
                #expect(res.status == .ok)
                #expect(res.body.string.contains("\r\n0001,2014-09-02,female,"))
                #expect(res.headers.first(name: .contentDisposition)?.contains("filename=\"demographics.csv\"") == true)
            })
            try await t.app.testing().test(.GET, "/api/v1/exports/users.csv?schoolId=NOPE", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: token)
            }, afterResponse: { res in #expect(res.status == .unprocessableEntity) })
            let viewer = try await t.token("viewer")
            try await t.app.testing().test(.GET, "/api/v1/exports/users.csv", beforeRequest: { req in
                req.headers.bearerAuthorization = .init(token: viewer)
            }, afterResponse: { res in #expect(res.status == .forbidden) })
        }
    }

    @Test("the Students list downloads the ticked students, or everyone matching its filters, as users.csv", arguments: TestDatabase.all)
    func fromTheList(database: TestDatabase) async throws {
        try await TestApp.with(database) { t in
            let admin = try await t.signIn("admin")
            func userIDs(_ path: String) async throws -> [String] {
                var ids: [String] = []
                try await t.app.testing().test(.GET, path, beforeRequest: { req in
                    req.headers.replaceOrAdd(name: .cookie, value: admin.cookie)
                }, afterResponse: { res in
                    #expect(res.status == .ok)
                    let table = try CSVTable.read(bytes: Data(res.body.string.utf8), fileName: "users.csv", dictionary: RosterDictionaries.users).get()
                    ids = table.records.map { table.value("userId", in: $0) }
                })
                return ids
            }
            #expect(try await userIDs("/students/users.csv?userIds%5B%5D=0002") == ["0002"])
            #expect(try await userIDs("/students/users.csv?school=north") == ["0001"])
            #expect(Set(try await userIDs("/students/users.csv")) == ["0001", "0002"])
            var page = ""
            try await t.app.testing().test(.GET, "/students", beforeRequest: { req in
                req.headers.replaceOrAdd(name: .cookie, value: admin.cookie)
            }, afterResponse: { res in page = res.body.string })
            #expect(page.contains("Download the ticked as users.csv") && page.contains("Download all 2 matching as users.csv"))
            let viewer = try await t.signIn("viewer")
            try await t.app.testing().test(.GET, "/students/users.csv", beforeRequest: { req in
                req.headers.replaceOrAdd(name: .cookie, value: viewer.cookie)
            }, afterResponse: { res in #expect(res.status == .forbidden) })
        }
    }
}
