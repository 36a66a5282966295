import BatchCore

extension Store {
    /// The district's settings.
    public func settings() async throws -> DistrictSettings {
        try await backend.read { db in try Self.settings(db) }
    }

    static func settings(_ db: any SQLConnection) throws -> DistrictSettings {
        guard let row = try db.first("SELECT * FROM district_settings WHERE id = 1") else {
            return DistrictSettings()
        }
        return DistrictSettings(
            districtName: try row.text("district_name"),
            batchUploadEnabled: row.bool("batch_upload_enabled"),
            gradeLevels: JSONText.decode([String].self, row.optionalText("grade_levels")) ?? GradeLevels.oneRoster,
            documentTypes: JSONText.decode([String].self, row.optionalText("document_types")) ?? [],
            changeThreshold: Int(try row.int("change_threshold")))
    }

    /// Replaces the district's settings and records the change.
    public func updateSettings(_ settings: DistrictSettings, by actor: Actor) async throws {
        try await backend.write { db in
            let before = try Self.settings(db)
            try db.execute(
                """
                UPDATE district_settings SET district_name = ?, batch_upload_enabled = ?, grade_levels = ?,
                    document_types = ?, change_threshold = ? WHERE id = 1
                """,
                [
                    .text(settings.districtName), .bool(settings.batchUploadEnabled),
                    .text(JSONText.encode(settings.gradeLevels)), .text(JSONText.encode(settings.documentTypes)),
                    .int(Int64(settings.changeThreshold)),
                ])
            let changes = AuditEntry.diff(before: before.auditFields, after: settings.auditFields)
            if !changes.isEmpty {
                try Self.appendAudit(
                    db, actor: actor, action: "settings.update", targetType: "settings", targetID: "district",
                    changes: changes)
            }
        }
    }

    /// The roster activation gate, judged on the current settings and schools.
    public func activationGate() async throws -> ActivationGate {
        try await backend.read { db in
            ActivationGate.evaluate(settings: try Self.settings(db), schools: try Self.schools(db))
        }
    }
}

extension DistrictSettings {
    var auditFields: [String: String?] {
        [
            "districtName": districtName, "batchUploadEnabled": String(batchUploadEnabled),
            "gradeLevels": gradeLevels.joined(separator: ","), "documentTypes": documentTypes.joined(separator: ","),
            "changeThreshold": String(changeThreshold),
        ]
    }
}
