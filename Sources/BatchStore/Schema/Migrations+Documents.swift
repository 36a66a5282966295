extension Migrations {
    /// Student assessment documents (SPEC §7), with every earlier version kept; suggested students for items a
    /// batch could not match by itself.
    static let createDocuments = Migration(
        name: "CreateDocuments",
        statements: [
            """
            CREATE TABLE documents (
                document_id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES people (user_id) ON DELETE CASCADE,
                document_type TEXT NOT NULL,
                school_year TEXT NOT NULL,
                term TEXT NOT NULL,
                title TEXT,
                file_name TEXT NOT NULL,
                blob_key TEXT NOT NULL,
                byte_size BIGINT NOT NULL,
                encrypted BOOLEAN NOT NULL,
                is_current BOOLEAN NOT NULL,
                batch_id TEXT REFERENCES batches (batch_id) ON DELETE SET NULL,
                uploaded_by TEXT,
                uploaded_by_name TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX documents_person ON documents (user_id, is_current)",
            "CREATE INDEX documents_slot ON documents (user_id, document_type, school_year, term)",
            "ALTER TABLE batch_items ADD COLUMN suggestions TEXT NOT NULL DEFAULT '[]'",
        ])
}
