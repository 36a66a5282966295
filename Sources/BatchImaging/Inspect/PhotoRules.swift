import BatchCore
import Foundation

/// The school's rules for a student photo: JPEG by content, at most 10 MB, 480–960 × 600–1200 px as displayed.
public enum PhotoRules {
    public static let maxBytes = 10_485_760
    public static let widths = 480...960, heights = 600...1200
    public static let maxFiles = 200

    /// Everything a photo file is judged on: size, type by content, JPEG variant, dimensions as displayed.
    /// Returns the info when valid, or every problem found (size is checked first without reading pixels).
    public static func check(_ bytes: Data) -> Result<JPEGInfo, PhotoProblemList> {
        var problems: [PhotoProblem] = []
        if bytes.count > maxBytes { problems.append(ProblemText.fileTooLarge(bytes.count)) }
        switch JPEGInspector.inspect(bytes) {
        case .failure(let problem):
            problems.append(problem)
        case .success(let info):
            problems += variantProblems(info)
            problems += dimensionProblems(info)
            if problems.isEmpty { return .success(info) }
        }
        return .failure(PhotoProblemList(problems))
    }

    /// The JPEG variants refused: CMYK/YCCK, not 1 or 3 colour channels, 12-bit (or any precision but 8),
    /// arithmetic, lossless and hierarchical coding. Baseline, extended (8-bit Huffman) and progressive pass.
    public static func variantProblems(_ info: JPEGInfo) -> [PhotoProblem] {
        var problems: [PhotoProblem] = []
        switch info.process {
        case .baseline, .extended, .progressive: break
        case .arithmetic: problems.append(ProblemText.arithmetic)
        case .lossless: problems.append(ProblemText.lossless)
        case .hierarchical: problems.append(ProblemText.hierarchical)
        }
        if info.bitsPerSample != 8 && info.process != .lossless {
            problems.append(ProblemText.twelveBit(info.bitsPerSample))
        }
        switch info.colour {
        case .grey, .ycbcr, .rgb: break
        case .cmyk, .ycck: problems.append(ProblemText.cmyk)
        case .other: problems.append(ProblemText.unsupportedColour(info.components))
        }
        return problems
    }

    /// `too_narrow`, `too_wide`, `too_short`, `too_tall`, judged on the size as displayed.
    public static func dimensionProblems(_ info: JPEGInfo) -> [PhotoProblem] {
        let (width, height) = (info.displayWidth, info.displayHeight)
        var size = "The photo is \(width) × \(height) px as displayed"
        if info.displayWidth != info.width { size += " (the camera stored it turned, as \(info.width) × \(info.height))" }
        let rule = "a photo must be \(widths.lowerBound)–\(widths.upperBound) px wide and "
            + "\(heights.lowerBound)–\(heights.upperBound) px high."
        let larger = "Use the original photo from the camera or phone (copies sent by message or taken from a web "
            + "page are often shrunk), or take the photo again."
        func smaller(_ side: String, _ limit: Int) -> String {
            "Resize (or crop) the photo to at most \(limit) px \(side) — keeping it within "
                + "\(widths.lowerBound)–\(widths.upperBound) × \(heights.lowerBound)–\(heights.upperBound) px — and upload it again."
        }
        var problems: [PhotoProblem] = []
        if width < widths.lowerBound {
            problems.append(.init(code: "too_narrow", message: "\(size); it is too narrow: \(rule)", fix: larger))
        }
        if width > widths.upperBound {
            problems.append(.init(code: "too_wide", message: "\(size); it is too wide: \(rule)", fix: smaller("wide", widths.upperBound)))
        }
        if height < heights.lowerBound {
            problems.append(.init(code: "too_short", message: "\(size); it is not high enough: \(rule)", fix: larger))
        }
        if height > heights.upperBound {
            problems.append(.init(code: "too_tall", message: "\(size); it is too high: \(rule)", fix: smaller("high", heights.upperBound)))
        }
        return problems
    }
}

/// Every problem found in one file, in the order checked. A collection (so `map`, `first`, `for … in` work as on
/// an array) because `Result` needs its failure to be an `Error`, which `[PhotoProblem]` is not.
public struct PhotoProblemList: Error, Sendable, Hashable, RandomAccessCollection, ExpressibleByArrayLiteral {
    public var problems: [PhotoProblem]
    public init(_ problems: [PhotoProblem]) { self.problems = problems }
    public init(arrayLiteral problems: PhotoProblem...) { self.problems = problems }
    public var startIndex: Int { problems.startIndex }
    public var endIndex: Int { problems.endIndex }
    public subscript(position: Int) -> PhotoProblem { problems[position] }
    /// The stable codes, e.g. `["too_narrow", "too_short"]`.
    public var codes: [String] { problems.map(\.code) }
}

/// The problems' wording, in one place.
enum ProblemText {
    static func notJPEG(_ raw: UnsafeRawBufferPointer) -> PhotoProblem {
        let type = FileType.sniff(Data(raw.prefix(FileType.pdfHeaderWindow)))
        let resave = "Open it in a photo or image editor, save (export) it as JPEG, and upload the .jpg file."
        switch type {
        case .heic:
            return PhotoProblem(
                code: "not_jpeg", message: "This file is really a HEIC image (iPhone), not a JPEG photo.",
                fix: "Export or share the photo from the iPhone as JPEG (or set Settings › Camera › Formats to "
                    + "“Most Compatible” for new photos), then upload the .jpg file.")
        case .png, .gif, .webp, .tiff, .bmp:
            return PhotoProblem(code: "not_jpeg", message: "This file is really \(type.words), not a JPEG photo.", fix: resave)
        case .pdf:
            return PhotoProblem(
                code: "not_jpeg", message: "This file is really a PDF document, not a photo.",
                fix: "Choose the student's photo itself (a .jpg file), not a document containing it.")
        case .empty:
            return PhotoProblem(
                code: "not_jpeg", message: "This file is empty (0 bytes) — not an image.",
                fix: "Copy the photo again from the source and upload the new copy.")
        case .jpeg, .unknown:
            return PhotoProblem(
                code: "not_jpeg", message: "This file is not an image that can be recognised as a JPEG photo.",
                fix: "Choose the student's photo (a .jpg file) and upload it again.")
        case .officeZip, .officeLegacy, .rtf, .html, .text:
            return PhotoProblem(
                code: "not_jpeg", message: "This file is not an image: it is \(type.words).",
                fix: "Choose the student's photo (a .jpg file) instead.")
        }
    }

    static func truncated(_ count: Int) -> PhotoProblem {
        PhotoProblem(
            code: "truncated",
            message: "The file is incomplete: it stops before the end of the picture (only \(grouped(count)) bytes).",
            fix: "Copy it again from the source (camera, phone or shared folder) and upload the new copy.")
    }

    static func corrupt(_ detail: String) -> PhotoProblem {
        PhotoProblem(
            code: "corrupt", message: "The file is a damaged JPEG: \(detail).",
            fix: "Open it in a photo viewer; if it shows, save it again as JPEG. Otherwise copy it again from the source.")
    }

    static func tooLargePixels(width: Int, height: Int) -> PhotoProblem {
        let megapixels = Double(width) * Double(height) / 1_000_000
        return PhotoProblem(
            code: "too_large_pixels",
            message: "The file declares a picture of \(grouped(width)) × \(grouped(height)) px "
                + "(\(grouped(Int(megapixels.rounded()))) megapixels), far larger than any photo, so it was not opened.",
            fix: "Resize the photo to \(PhotoRules.widths.lowerBound)–\(PhotoRules.widths.upperBound) px wide and "
                + "\(PhotoRules.heights.lowerBound)–\(PhotoRules.heights.upperBound) px high and upload it again.")
    }

    static func fileTooLarge(_ count: Int) -> PhotoProblem {
        let limitMB = PhotoRules.maxBytes / 1_048_576
        return PhotoProblem(
            code: "file_too_large",
            message: "The file is \(megabytes(count)) (\(grouped(count)) bytes), more than the \(limitMB) MB "
                + "(\(grouped(PhotoRules.maxBytes)) bytes) allowed.",
            fix: "Save the photo smaller or at a lower quality (a school photo needs 1–2 MB at most) and upload it again.")
    }

    static let cmyk = PhotoProblem(
        code: "cmyk",
        message: "This JPEG uses CMYK colours (the printers' format); browsers show such photos with wrong colours.",
        fix: "Open it in an image editor and save it as an RGB JPEG (“sRGB” or “for web”), then upload it again.")

    static func twelveBit(_ bits: Int) -> PhotoProblem {
        PhotoProblem(
            code: "twelve_bit",
            message: "This JPEG stores \(bits) bits per colour, a rare variant (used by medical and scientific "
                + "cameras) that browsers cannot show.",
            fix: "Save it again as a standard (8-bit) JPEG from any photo editor.")
    }

    static let arithmetic = PhotoProblem(
        code: "arithmetic",
        message: "This JPEG uses arithmetic coding, a rare variant that most browsers cannot show.",
        fix: "Save it again as a standard JPEG from any photo editor.")

    static let lossless = PhotoProblem(
        code: "lossless",
        message: "This is a lossless JPEG, a rare variant (used by medical scanners) that browsers cannot show.",
        fix: "Save it again as a standard JPEG from any photo editor.")

    static let hierarchical = PhotoProblem(
        code: "hierarchical",
        message: "This is a hierarchical JPEG, a rare variant that browsers cannot show.",
        fix: "Save it again as a standard JPEG from any photo editor.")

    static func unsupportedColour(_ components: Int) -> PhotoProblem {
        PhotoProblem(
            code: "unsupported_colour",
            message: "This JPEG has \(components) colour channels; browsers only show JPEGs with 1 (grey) or 3 (colour).",
            fix: "Save it again as a standard colour JPEG from any photo editor.")
    }

    /// "10,485,761": thousands separated, independent of the server's locale.
    static func grouped(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var out = ""
        for (index, digit) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { out.append(",") }
            out.append(digit)
        }
        return value < 0 ? "-" + out : out
    }

    /// "10.0 MB" with MB = 1,048,576 bytes, as the 10 MB limit counts them; never rounds up to the limit itself.
    static func megabytes(_ count: Int) -> String {
        let tenths = count * 10 / 1_048_576
        return "\(tenths / 10).\(tenths % 10) MB"
    }
}
