import Foundation

/// Small, valid one-page PDFs (with a correct cross-reference table) for tests and the demo, and their damaged
/// variants.
public enum PDFFixture {
    /// A one-page PDF showing `text`; `encrypted` adds an /Encrypt entry to the trailer as encrypted files have.
    public static func make(_ text: String, encrypted: Bool = false) -> Data {
        let safe = text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "(", with: "\\(")
            .replacingOccurrences(of: ")", with: "\\)")
        let stream = "BT /F1 18 Tf 72 720 Td (\(safe)) Tj ET"
        let objects = [
            "<< /Type /Catalog /Pages 2 0 R >>",
            "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
            "<< /Length \(stream.utf8.count) >>\nstream\n\(stream)\nendstream",
            "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        ] + (encrypted ? ["<< /Filter /Standard /V 1 /R 2 /O (x) /U (y) /P -4 >>"] : [])
        var body = "%PDF-1.4\n%\u{E2}\u{E3}\u{CF}\u{D3}\n"
        var offsets: [Int] = []
        for (index, object) in objects.enumerated() {
            offsets.append(body.utf8.count)
            body += "\(index + 1) 0 obj\n\(object)\nendobj\n"
        }
        let xref = body.utf8.count
        body += "xref\n0 \(objects.count + 1)\n0000000000 65535 f \n"
        for offset in offsets { body += String(format: "%010d 00000 n \n", offset) }
        body += "trailer\n<< /Size \(objects.count + 1) /Root 1 0 R\(encrypted ? " /Encrypt 6 0 R" : "") >>\nstartxref\n\(xref)\n%%EOF\n"
        return Data(body.utf8)
    }

    /// A PDF cut off halfway, as a failed copy leaves it.
    public static func truncated(_ text: String) -> Data {
        let whole = make(text)
        return whole.prefix(whole.count / 2)
    }

    /// The first bytes of a JPEG file: what a photo renamed to .pdf looks like.
    public static let jpegBytes = Data([0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10]) + Data("JFIF\0".utf8) + Data(repeating: 0x42, count: 200)
}
