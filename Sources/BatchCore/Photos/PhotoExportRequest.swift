/// What a photo group download (SPEC §5.2) asks for: which students, at what size, under which file names. Stored
/// as the options of a `photo_export` batch, so the job that writes the ZIP (in any worker process) reads the same
/// request the person made.
///
/// Within one kind of group the choices add up (two schools = both schools); the kinds narrow each other (a school
/// and a grade = that grade of that school). Chosen students (`userIds`) are taken whatever their status; otherwise
/// only active students are included.
public struct PhotoExportRequest: Sendable, Hashable, Codable {
    public var schoolIds: [String]
    public var grades: [String]
    public var classIds: [String]
    public var userIds: [String]
    /// `original`, or a maximum box `WxH` (`240x300`).
    public var size: String
    /// Empty = `{loginId}`.
    public var namePattern: String
    public var folderPerClass: Bool

    public init(
        schoolIds: [String] = [], grades: [String] = [], classIds: [String] = [], userIds: [String] = [],
        size: String = "original", namePattern: String = "", folderPerClass: Bool = false
    ) {
        self.schoolIds = schoolIds
        self.grades = grades
        self.classIds = classIds
        self.userIds = userIds
        self.size = size
        self.namePattern = namePattern
        self.folderPerClass = folderPerClass
    }

    enum CodingKeys: String, CodingKey { case schoolIds, grades, classIds, userIds, size, namePattern, folderPerClass }

    /// Every field may be left out (all students the account sees, original size, `{loginId}.jpg`).
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            schoolIds: try c.decodeIfPresent([String].self, forKey: .schoolIds) ?? [],
            grades: try c.decodeIfPresent([String].self, forKey: .grades) ?? [],
            classIds: try c.decodeIfPresent([String].self, forKey: .classIds) ?? [],
            userIds: try c.decodeIfPresent([String].self, forKey: .userIds) ?? [],
            size: try c.decodeIfPresent(String.self, forKey: .size) ?? "original",
            namePattern: try c.decodeIfPresent(String.self, forKey: .namePattern) ?? "",
            folderPerClass: try c.decodeIfPresent(Bool.self, forKey: .folderPerClass) ?? false)
    }

    /// The sizes the download page offers besides a custom box.
    public static let presets: [(value: String, label: String)] = [
        ("original", "Original size"), ("240x300", "Small — at most 240 × 300 px"),
        ("480x600", "Medium — at most 480 × 600 px"),
    ]

    /// A custom box's sides must lie in this range (px).
    public static let sideRange = 16...4000

    /// The largest box a photo is scaled into, or nil for the original size.
    public var box: PhotoBox? { PhotoBox(size) }

    /// Every problem with the request's own fields, in words for the person who made it (empty = fine). The groups
    /// are checked against the district by the store.
    public var problems: [String] {
        var problems: [String] = []
        if size != "original" && PhotoBox(size) == nil {
            problems.append(
                "Photo size “\(size)” is not understood: use “original” or a maximum width × height such as “240x300” "
                    + "(each side \(Self.sideRange.lowerBound)–\(Self.sideRange.upperBound) px).")
        }
        let unknown = FileNamePattern(namePattern).unknownTokens
        if !unknown.isEmpty {
            problems.append(
                "The file name uses \(unknown.map { "{\($0)}" }.joined(separator: ", ")), which "
                    + "\(unknown.count == 1 ? "is" : "are") not a known part. Use: "
                    + FileNamePattern.personTokens.map { "{\($0)}" }.joined(separator: " ") + " and any text.")
        }
        if userIds.count > 20_000 {
            problems.append("Choose at most 20,000 students by userId at once (got \(userIds.count)).")
        }
        return problems
    }

    /// The request in words, for the export's page: "School: …; grades 05, 06; 240 × 300 px; {loginId}.jpg".
    public var sizeWords: String {
        guard let box else { return "Original size" }
        return "At most \(box.width) × \(box.height) px (never enlarged)"
    }
}

/// A maximum width × height a photo is scaled into, keeping its shape.
public struct PhotoBox: Sendable, Hashable {
    public var width: Int
    public var height: Int

    public init?(width: Int, height: Int) {
        guard PhotoExportRequest.sideRange.contains(width), PhotoExportRequest.sideRange.contains(height) else {
            return nil
        }
        self.width = width
        self.height = height
    }

    /// `240x300` (also `240×300`, `240 X 300`).
    public init?(_ text: String) {
        let parts = text.lowercased().replacingOccurrences(of: "×", with: "x").split(separator: "x")
            .map { $0.trimmingCharacters(in: .whitespaces) }
        guard parts.count == 2, let width = Int(parts[0]), let height = Int(parts[1]) else { return nil }
        self.init(width: width, height: height)
    }
}

/// What a finished export holds, for its page, the API and the command line.
public struct ExportSummary: Sendable, Hashable, Codable {
    /// Photos in the ZIP.
    public var files: Int
    /// Chosen students without a photo (listed in missing.csv).
    public var missing: Int
    /// Names made unique with `_2`, `_3` (listed in renamed.csv).
    public var renamed: Int
    /// Students chosen.
    public var students: Int
    /// Size of the ZIP in bytes.
    public var bytes: Int64
    /// The name the ZIP is downloaded under.
    public var downloadName: String

    public init(files: Int, missing: Int, renamed: Int, students: Int, bytes: Int64, downloadName: String) {
        self.files = files
        self.missing = missing
        self.renamed = renamed
        self.students = students
        self.bytes = bytes
        self.downloadName = downloadName
    }
}
