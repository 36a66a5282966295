// Benchmarks of the Students list at district scale: 200 schools, 200,000 students, 5,000 classes.
// Times the queries a list page runs (first page with total, text search, filters, a deep page) on SQLite and,
// when DATABASE_URL names PostgreSQL, on PostgreSQL. Prints medians of repeated runs and writes
// docs/benchmarks.md (the list section).
import BatchCore
import BatchStore
import Foundation

let students = Int(ProcessInfo.processInfo.environment["BENCH_STUDENTS"] ?? "") ?? 200_000
let repeats = 9

func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
func medianInt(_ values: [Int]) -> Int { values.sorted()[values.count / 2] }

func measure(_ work: () async throws -> Void) async rethrows -> Double {
    var samples: [Double] = []
    for _ in 0..<repeats {
        let start = ContinuousClock.now
        try await work()
        let elapsed = ContinuousClock.now - start
        samples.append(Double(elapsed.components.attoseconds) / 1e15 + Double(elapsed.components.seconds) * 1000)
    }
    return median(samples)
}

func district() -> (schools: [School], classes: [SchoolClass], people: [Person], enrollments: [Enrollment]) {
    var random = SplitMix64(seed: 7)
    let surnames = ["Chan", "Wong", "Lee", "García", "Müller", "Nguyễn", "Smith", "陳", "黃", "Patel", "Rossi", "Novák"]
    let given = ["Wing Yan", "Ka Ho", "José", "Zoë", "Amélie", "Liam", "Emma", "詠欣", "Noah", "Mia", "Søren", "Aarav"]
    let schools = (0..<200).map { School(key: SchoolKey(rawValue: "school-\($0)"), schoolID: SchoolID(rawValue: String(format: "%04d", $0)), name: "School \($0)") }
    var classes: [SchoolClass] = []
    for (index, school) in schools.enumerated() {
        for c in 0..<25 {
            classes.append(SchoolClass(classID: ClassID(rawValue: "C\(index)-\(c)"), schoolKey: school.key, name: "\(c / 2 + 1)\(["A", "B"][c % 2])", grade: String(format: "%02d", c / 2 + 1)))
        }
    }
    var people: [Person] = []
    var enrollments: [Enrollment] = []
    people.reserveCapacity(students)
    for n in 0..<students {
        let schoolIndex = n % schools.count
        let classIndex = schoolIndex * 25 + random.next(25)
        let surname = surnames[random.next(surnames.count)], first = given[random.next(given.count)]
        people.append(Person(
            userID: UserID(rawValue: String(format: "%08d", n)), role: .student, loginID: LoginID(rawValue: "s\(n)"),
            firstName: first, lastName: surname, grade: classes[classIndex].grade, status: random.next(50) == 0 ? .left : .active,
            schoolKeys: [schools[schoolIndex].key]))
        enrollments.append(Enrollment(classID: classes[classIndex].classID, userID: people[n].userID, role: .student))
    }
    return (schools, classes, people, enrollments)
}

func run(_ name: String, _ store: Store) async throws -> [(String, Double)] {
    try await store.migrate()
    let data = district()
    let loadStart = ContinuousClock.now
    for school in data.schools { try await store.createSchool(school, by: .system) }
    try await store.insertNew(people: data.people, classes: data.classes, enrollments: data.enrollments)
    let load = ContinuousClock.now - loadStart
    print("\(name): loaded \(data.people.count) students in \(load)")
    let scope = AccessScope.schools(Set(data.schools.prefix(10).map(\.key)))
    var results: [(String, Double)] = []
    let cases: [(String, PersonQuery)] = [
        ("first page of all students, with total", PersonQuery(kind: .students, scope: .district)),
        ("text search \"garc\"", PersonQuery(kind: .students, scope: .district, text: "garc")),
        ("filter by grade 05", PersonQuery(kind: .students, scope: .district, grade: "05")),
        ("filter by one class", PersonQuery(kind: .students, scope: .district, classID: data.classes[1234].classID)),
        ("filter by school", PersonQuery(kind: .students, scope: .district, schoolKey: data.schools[17].key)),
        ("account scoped to 10 schools", PersonQuery(kind: .students, scope: scope)),
        ("page 2,000 (offset 99,950)", PersonQuery(kind: .students, scope: .district, offset: 99_950)),
    ]
    for (label, query) in cases {
        let ms = try await measure { _ = try await store.people(query) }
        print(String(format: "  %-42@ %8.1f ms", label as NSString, ms))
        results.append((label, ms))
    }
    let detail = try await measure { _ = try await store.person(data.people[150_000 % data.people.count].userID, scope: .district) }
    print(String(format: "  %-42@ %8.1f ms", "student page (one person)" as NSString, detail))
    results.append(("student page (one person)", detail))
    try await store.close()
    return results
}

/// Replaces (or adds) one `## ` section of docs/benchmarks.md.
func writeSection(_ heading: String, _ section: String) throws {
    let docs = URL(fileURLWithPath: "docs/benchmarks.md")
    var text = (try? String(contentsOf: docs, encoding: .utf8)) ?? "# Benchmarks\n\nProduced by `make bench` (scripts/bench.sh). Medians; the machine is shared and noisy.\n"
    if let start = text.range(of: heading) {
        let rest = text[start.upperBound...]
        let end = rest.range(of: "\n## ")?.lowerBound ?? text.endIndex
        text.replaceSubrange(start.lowerBound..<end, with: section)
    } else {
        text += "\n" + section
    }
    try text.write(to: docs, atomically: true, encoding: .utf8)
}

let only = ProcessInfo.processInfo.environment["BENCH_ONLY"] ?? ""
if only.isEmpty || only == "emails" {
    let rows = Int(ProcessInfo.processInfo.environment["BENCH_EMAIL_ROWS"] ?? "") ?? 200_000
    let section = try await EmailBench.section(students: rows, runs: 3)
    print(section)
    try writeSection("## E-mail batch of ", section)
}
if only == "emails" { exit(0) }
if only.isEmpty || only == "photos" {
    let section = try await PhotoBench.section()
    print(section)
    try writeSection("## Student photos (issue 5)", section)
}
if only == "photos" { exit(0) }
if only.isEmpty || only == "roster" || only == "roster-files" {
    let students = Int(ProcessInfo.processInfo.environment["BENCH_ROSTER_STUDENTS"] ?? "") ?? 200_000
    let (section, sqliteImport) = try RosterBench.section(schools: 200, students: students, runs: 3)
    print(section)
    // roster-files: reading and checking alone (for profiling), nothing written to docs/benchmarks.md.
    if only == "roster-files" { exit(0) }
    try writeSection("## Roster files at state size", section)
    let runs = Int(ProcessInfo.processInfo.environment["BENCH_ROSTER_RUNS"] ?? "") ?? 3
    let imports = try RosterImportBench.section(schools: 200, students: students, runs: runs, sqliteImport: sqliteImport)
    print(imports)
    try writeSection("## Roster import at state size", imports)
}
if only == "roster" { exit(0) }

let directory = FileManager.default.temporaryDirectory.appendingPathComponent("sb-bench-\(UUID().uuidString)")
try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
let sqlite = try await run("SQLite", Store(backend: SQLiteBackend(path: directory.appendingPathComponent("bench.sqlite").path)))
var postgres: [(String, Double)]? = nil
if let url = ProcessInfo.processInfo.environment["DATABASE_URL"], url.hasPrefix("postgres") {
    let schema = "bench_\(UInt32.random(in: 0...UInt32.max))"
    let admin = try PostgresBackend(url: url)
    _ = try await admin.write { db in try db.execute("CREATE SCHEMA \(schema)") }
    try await admin.close()
    postgres = try await run("PostgreSQL", Store(backend: PostgresBackend(url: url, searchPath: schema)))
}

var table = "| query (50 rows a page) | SQLite median ms |\(postgres == nil ? "" : " PostgreSQL median ms |")\n|---|---|\(postgres == nil ? "" : "---|")\n"
for (index, (label, ms)) in sqlite.enumerated() {
    table += "| \(label) | \(String(format: "%.1f", ms)) |"
    if let postgres { table += " \(String(format: "%.1f", postgres[index].1)) |" }
    table += "\n"
}
let section = """
    ## Students list at district scale

    \(students) students in 200 schools and 5,000 classes; each figure is the median of \(repeats) runs of the
    store query behind a list page (count + one page + the page's schools, classes and photos), release build,
    measured with `make bench` on this 2-core machine.

    \(table)
    """
print(section)
try writeSection("## Students list at district scale", section)
