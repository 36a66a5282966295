/// The student e-mail batch (SPEC §6): one CSV keyed by `loginId` or `userId`, with `userEmail`.
///
/// This file holds the pure part: the data dictionary, and the checks one row can get without the database.
/// Matching students and the district-wide uniqueness check happen when the batch is planned.
public enum EmailBatch {
    public static let dictionary = DataDictionary(
        fileName: "emails.csv",
        columns: [
            .init(
                "loginId", .conditional, meaning: "The student's login ID (WebloginID)",
                format: "Text; not case-sensitive", example: "19chanw1"),
            .init(
                "userId", .conditional, meaning: "The student's user ID, when there is no loginId column",
                format: "Text, 1–64 of A–Z a–z 0–9 . _ -; leading zeros are kept", example: "00123"),
            .init(
                "userEmail", .required, meaning: "The student's new e-mail address",
                format: "name@domain; at most 254 characters; unique in the district", example: "chan.wing@school.edu.hk"),
        ],
        oneOf: [["loginId", "userId"]])

    public static let template = dictionary.template(exampleRows: [
        ["loginId": "19chanw1", "userEmail": "chan.wing@school.edu.hk"],
        ["loginId": "19leem2", "userEmail": "lee.mei@school.edu.hk"],
    ])

    /// Turns the rows of a checked file into items, with every problem a row has on its own: no student named,
    /// no address, an address that cannot work, the same address or student twice in the file.
    public static func items(from table: CSVTable, firstID: Int64) -> [BatchItem] {
        var items: [BatchItem] = []
        items.reserveCapacity(table.records.count)
        var firstRowOfAddress: [String: Int] = [:]
        var firstRowOfStudent: [String: Int] = [:]
        let keyColumn = table.index["loginId"] != nil ? "loginId" : "userId"
        for (offset, record) in table.records.enumerated() {
            let input = table.values(of: record)
            let student = input[keyColumn] ?? ""
            let address = input["userEmail"] ?? ""
            var issues: [BatchIssue] = []
            if student.isEmpty {
                issues.append(
                    .error(
                        "missing_student", "Row \(record.line): \(keyColumn) is empty, so the row names no student.",
                        fix: "Fill in the student's \(keyColumn).", column: keyColumn, value: ""))
            } else if let first = firstRowOfStudent[student.lowercased()] {
                issues.append(
                    .error(
                        "duplicate_student", "Row \(record.line): \(keyColumn) \"\(student)\" already appears on row \(first).",
                        fix: "Keep one row per student and delete the other.", column: keyColumn, value: student))
            } else {
                firstRowOfStudent[student.lowercased()] = record.line
            }
            if address.isEmpty {
                issues.append(
                    .error(
                        "missing_email", "Row \(record.line): userEmail is empty.",
                        fix: "Type the student's e-mail address, or delete the row if it should not change.",
                        column: "userEmail", value: ""))
            } else if let problem = EmailAddress.problem(with: address) {
                issues.append(
                    .error(
                        problem.code, "Row \(record.line): userEmail \"\(address)\" cannot be used: \(problem.reason).",
                        fix: "Correct the address so it looks like name@school.edu.", column: "userEmail", value: address))
            } else if let first = firstRowOfAddress[EmailAddress.key(address)] {
                issues.append(
                    .error(
                        "duplicate_email", "Row \(record.line): userEmail \"\(address)\" is also on row \(first).",
                        fix: "Every student needs an address of their own; correct one of the two rows.",
                        column: "userEmail", value: address))
            } else {
                firstRowOfAddress[EmailAddress.key(address)] = record.line
            }
            items.append(
                BatchItem(
                    id: firstID + Int64(offset), fileName: table.fileName, row: record.line, input: input,
                    label: student, state: issues.isEmpty ? .ready : .error, issues: issues))
        }
        return items
    }
}
