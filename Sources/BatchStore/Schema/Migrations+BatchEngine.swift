extension Migrations {
    /// The shared batch lifecycle: a batch's files, items and applied changes, its progress and report, and the
    /// durable job queue the workers claim from.
    static let createBatchEngine = Migration(
        name: "CreateBatchEngine",
        statements: [
            "ALTER TABLE batches ADD COLUMN progress_done BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE batches ADD COLUMN progress_total BIGINT NOT NULL DEFAULT 0",
            "ALTER TABLE batches ADD COLUMN counts TEXT NOT NULL DEFAULT '{}'",
            "ALTER TABLE batches ADD COLUMN report TEXT",
            "ALTER TABLE batches ADD COLUMN failure TEXT",
            "ALTER TABLE batches ADD COLUMN submitted_at BIGINT",
            "ALTER TABLE batches ADD COLUMN finished_at BIGINT",
            """
            CREATE TABLE batch_files (
                file_id TEXT PRIMARY KEY,
                batch_id TEXT NOT NULL REFERENCES batches (batch_id) ON DELETE CASCADE,
                file_name TEXT NOT NULL,
                blob_key TEXT NOT NULL,
                byte_size BIGINT NOT NULL,
                item_count BIGINT NOT NULL,
                issues TEXT NOT NULL,
                created_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX batch_files_batch ON batch_files (batch_id, created_at)",
            """
            CREATE TABLE batch_items (
                batch_id TEXT NOT NULL REFERENCES batches (batch_id) ON DELETE CASCADE,
                item_id BIGINT NOT NULL,
                file_name TEXT NOT NULL,
                row_number BIGINT,
                input TEXT NOT NULL,
                target TEXT,
                label TEXT NOT NULL,
                state TEXT NOT NULL,
                changes TEXT NOT NULL,
                issues TEXT NOT NULL,
                manual_target TEXT,
                PRIMARY KEY (batch_id, item_id)
            )
            """,
            "CREATE INDEX batch_items_state ON batch_items (batch_id, state, item_id)",
            """
            CREATE TABLE batch_changes (
                batch_id TEXT NOT NULL REFERENCES batches (batch_id) ON DELETE CASCADE,
                seq BIGINT NOT NULL,
                entity TEXT NOT NULL,
                entity_key TEXT NOT NULL,
                field TEXT NOT NULL,
                before_value TEXT,
                after_value TEXT,
                PRIMARY KEY (batch_id, seq)
            )
            """,
            """
            CREATE TABLE jobs (
                job_id {AUTO_ID},
                batch_id TEXT NOT NULL REFERENCES batches (batch_id) ON DELETE CASCADE,
                action TEXT NOT NULL,
                status TEXT NOT NULL,
                attempts BIGINT NOT NULL,
                max_attempts BIGINT NOT NULL,
                run_after BIGINT NOT NULL,
                lease_owner TEXT,
                lease_expires_at BIGINT,
                last_error TEXT,
                completions BIGINT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL,
                UNIQUE (batch_id, action)
            )
            """,
            "CREATE INDEX jobs_status ON jobs (status, run_after)",
            """
            CREATE TABLE job_locks (
                job_id BIGINT NOT NULL REFERENCES jobs (job_id) ON DELETE CASCADE,
                lock_key TEXT NOT NULL,
                PRIMARY KEY (job_id, lock_key)
            )
            """,
            "CREATE INDEX job_locks_key ON job_locks (lock_key, job_id)",
        ])
}
