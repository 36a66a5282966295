import BatchCore
import BatchTestSupport
import Foundation
import Testing

@Suite("Documents (SPEC §7): PDFs judged by content, names matched to login IDs, settings checked")
struct DocumentRulesTests {
    @Test("a PDF passes; a .pdf that is really a JPEG, an empty file and a cut-off PDF are errors naming why")
    func judgedByContent() {
        #expect(DocumentBatch.check(fileName: "19chanw1.pdf", bytes: PDFFixture.make("Chan Wing")).isEmpty)
        let jpeg = DocumentBatch.check(fileName: "19chanw1.pdf", bytes: PDFFixture.jpegBytes)
        #expect(jpeg.map(\.code) == ["not_pdf"])
        #expect(jpeg[0].message.contains("a JPEG image"))
        #expect(jpeg[0].severity == .error)
        #expect(DocumentBatch.check(fileName: "a.pdf", bytes: Data()).map(\.code) == ["empty_file"])
        #expect(DocumentBatch.check(fileName: "a.pdf", bytes: PDFFixture.truncated("x")).map(\.code) == ["pdf_truncated"])
        let word = DocumentBatch.check(fileName: "report.pdf", bytes: Data([0x50, 0x4B, 0x03, 0x04]) + Data(count: 100))
        #expect(word.first?.message.contains("Word") == true)
    }

    @Test("an encrypted PDF is accepted with a warning")
    func encrypted() {
        let issues = DocumentBatch.check(fileName: "19chanw1.pdf", bytes: PDFFixture.make("secret", encrypted: true))
        #expect(issues.map(\.code) == ["pdf_encrypted"])
        #expect(issues[0].severity == .warning)
    }

    @Test(
        "a file name stands for its stem, then the stem cut before _, - or a space",
        arguments: [
            ("19chanw1.pdf", "19chanw1"), ("19chanw1_T1.pdf", "19chanw1"), ("19chanw1 - report.pdf", "19chanw1"),
            ("19CHANW1-2025.PDF", "19chanw1"), ("19chanw1 report card.pdf", "19chanw1"),
        ])
    func candidates(fileName: String, loginID: String) {
        let candidates = DocumentBatch.candidates(forFileName: fileName)
        #expect(candidates.contains(loginID))
        #expect(candidates.first == DocumentBatch.stem(of: fileName).lowercased().trimmingCharacters(in: .whitespaces))
    }

    @Test("settings: the type must be one of the district's, the year like 2025-2026, term and title short")
    func options() throws {
        let types = ["Assessment Report", "Report Card"]
        let good = try DocumentBatch.Options.validate(
            ["documentType": "assessment report", "schoolYear": "2025-2026", "term": " T1 "], documentTypes: types
        ).get()
        #expect(good == DocumentBatch.Options(documentType: "Assessment Report", schoolYear: "2025-2026", term: "T1"))
        guard case .failure(let bad) = DocumentBatch.Options.validate(
            ["documentType": "Diploma", "schoolYear": "2025-2027"], documentTypes: types)
        else { Issue.record("expected a failure"); return }
        #expect(bad.problems.count == 2)
        #expect(bad.problems[0].contains("“Diploma” is not one of"))
        #expect(bad.problems[1].contains("2025-2026"))
        guard case .failure(let missing) = DocumentBatch.Options.validate([:], documentTypes: types) else {
            Issue.record("expected a failure"); return
        }
        #expect(missing.problems.count == 2)
    }

    @Test("the school year starts in August")
    func schoolYear() {
        let july = Date(timeIntervalSince1970: 1_783_000_000)  // 2026-07-02
        let september = Date(timeIntervalSince1970: 1_788_000_000)  // 2026-08-29
        #expect(SchoolYear.current(july) == "2025-2026")
        #expect(SchoolYear.current(september) == "2026-2027")
        #expect(SchoolYear.isValid("2025-2026") && !SchoolYear.isValid("2025/2026") && !SchoolYear.isValid("25-26"))
    }

    @Test("file types are named from their bytes")
    func sniff() {
        #expect(FileType.sniff(PDFFixture.make("x")) == .pdf)
        #expect(FileType.sniff(PDFFixture.jpegBytes) == .jpeg)
        #expect(FileType.sniff(Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0])) == .png)
        #expect(FileType.sniff(Data("hello, world\n".utf8)) == .text)
        #expect(FileType.sniff(Data()) == .empty)
    }
}
