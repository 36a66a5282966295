import BatchCore

/// The schema's history, oldest first.
public enum Migrations {
    public static let all: [Migration] = [createFoundation, createBatch, createBatchEngine, createDocuments, addEntityCounts, addPlanDigests, addDataVersion, addItemsWithIssuesIndex, addInputColumns, dropItemsBatchKeyCheckOnPostgres,
        checkRosterKeysByStatementOnPostgres, compareKeysBytewiseOnPostgres, addInputFiles, numberBatchItemsOnSQLite,
        numberBatchItemsOnPostgres, checkOwnRosterKeysOnPostgres, indexOnlyItemsNeedingAttention,
        attentionIndexWithoutList, enrollmentsKeyAsIndexOnSQLite, addIssueKinds, addPlannedVersion, packItems,
        packsCompressedByLZ4OnPostgres, demographicsFlagsAsTextOnSQLite, demographicsFlagsAsTextOnPostgres,
    ]

    /// Demographics flags stored as one character a flag (`Demographics.flagsText`: "1", "0", "-" not recorded)
    /// instead of a JSON object: 11 bytes a student instead of 321 (docs/decisions.md, round 42). Each database reads
    /// the JSON its own way; a flag missing from it, or neither true nor false, is not recorded.
    static let demographicsFlagsAsTextOnSQLite = Migration(
        name: "DemographicsFlagsAsTextOnSQLite",
        statements: [
            demographicsFlagsAsText { "CASE json_extract(flags, '$.\($0)') WHEN 1 THEN '1' WHEN 0 THEN '0' ELSE '-' END" }
                + " AND json_valid(flags)"
        ],
        only: [.sqlite])
    static let demographicsFlagsAsTextOnPostgres = Migration(
        name: "DemographicsFlagsAsTextOnPostgres",
        statements: [demographicsFlagsAsText { "CASE flags::jsonb ->> '\($0)' WHEN 'true' THEN '1' WHEN 'false' THEN '0' ELSE '-' END" }],
        only: [.postgres])

    /// The UPDATE of every record whose flags are a JSON object; `flag(name)`: the expression of one flag's character.
    static func demographicsFlagsAsText(_ flag: (String) -> String) -> String {
        "UPDATE demographics SET flags = " + Demographics.flagColumns.map { "(" + flag($0.column) + ")" }.joined(separator: " || ")
            + " WHERE flags LIKE '{%'"
    }

    /// Items stored several to a row (`ItemPack`): a pack's row keeps the number of its last item, NULL in a row of
    /// one item; the index finds the pack holding an item (taken apart before the item is changed,
    /// `Store.unpack`).
    static let packItems = Migration(
        name: "PackItems",
        statements: [
            "ALTER TABLE batch_items ADD COLUMN pack_end BIGINT",
            "CREATE INDEX batch_items_packs ON batch_items (batch_no, item_id) WHERE pack_end IS NOT NULL",
        ])

    /// PostgreSQL compresses a long text with pglz unless told otherwise, and a pack's texts are tens of kilobytes:
    /// a state-size roster's items stored in packs took 3.9 s with pglz, 1.8 s with lz4 and 2.3 s uncompressed, against
    /// 4.1 s one row an item (docs/decisions.md, round 29). lz4 where the server was built with it; otherwise the
    /// default stays.
    static let packsCompressedByLZ4OnPostgres = Migration(
        name: "PacksCompressedByLZ4OnPostgres",
        statements: [
            """
            DO $$ BEGIN
                ALTER TABLE batch_items ALTER COLUMN input SET COMPRESSION lz4, ALTER COLUMN changes SET COMPRESSION lz4;
            EXCEPTION WHEN OTHERS THEN NULL;
            END $$
            """
        ],
        only: [.postgres])

    /// Districts settings, schools, people, classes, enrollments, demographics, photos, accounts, sessions,
    /// API tokens, sign-in throttling and the audit log.
    static let createFoundation = Migration(
        name: "CreateFoundation",
        statements: [
            """
            CREATE TABLE district_settings (
                id BIGINT PRIMARY KEY,
                district_name TEXT NOT NULL,
                batch_upload_enabled BOOLEAN NOT NULL,
                grade_levels TEXT NOT NULL,
                document_types TEXT NOT NULL,
                change_threshold BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE schools (
                school_key TEXT PRIMARY KEY,
                school_id TEXT UNIQUE,
                name TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE people (
                user_id TEXT PRIMARY KEY,
                user_role TEXT NOT NULL,
                login_id TEXT UNIQUE,
                first_name TEXT NOT NULL,
                middle_name TEXT,
                last_name TEXT NOT NULL,
                preferred_first_name TEXT,
                user_email TEXT,
                email_key TEXT UNIQUE,
                user_grade TEXT,
                user_status TEXT NOT NULL,
                user_district_id TEXT,
                user_state_id TEXT,
                search_text TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX people_role_name ON people (user_role, last_name, first_name, user_id)",
            "CREATE INDEX people_grade ON people (user_grade)",
            """
            CREATE TABLE person_schools (
                user_id TEXT NOT NULL REFERENCES people (user_id) ON DELETE CASCADE,
                school_key TEXT NOT NULL REFERENCES schools (school_key),
                PRIMARY KEY (user_id, school_key)
            )
            """,
            "CREATE INDEX person_schools_school ON person_schools (school_key, user_id)",
            """
            CREATE TABLE classes (
                class_id TEXT PRIMARY KEY,
                school_key TEXT NOT NULL REFERENCES schools (school_key),
                class_name TEXT NOT NULL,
                class_grade TEXT,
                class_subject TEXT,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX classes_school ON classes (school_key, class_name)",
            """
            CREATE TABLE enrollments (
                class_id TEXT NOT NULL REFERENCES classes (class_id) ON DELETE CASCADE,
                user_id TEXT NOT NULL REFERENCES people (user_id) ON DELETE CASCADE,
                role TEXT NOT NULL,
                primary_teacher BOOLEAN NOT NULL,
                PRIMARY KEY (class_id, user_id)
            )
            """,
            "CREATE INDEX enrollments_user ON enrollments (user_id)",
            """
            CREATE TABLE demographics (
                user_id TEXT PRIMARY KEY REFERENCES people (user_id) ON DELETE CASCADE,
                birth_date TEXT,
                sex TEXT,
                flags TEXT NOT NULL,
                home_language TEXT,
                country_of_birth_code TEXT,
                updated_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE photos (
                photo_id TEXT PRIMARY KEY,
                user_id TEXT NOT NULL REFERENCES people (user_id) ON DELETE CASCADE,
                version BIGINT NOT NULL,
                is_current BOOLEAN NOT NULL,
                blob_key TEXT NOT NULL,
                thumbnail_key TEXT NOT NULL,
                content_hash TEXT NOT NULL,
                width BIGINT NOT NULL,
                height BIGINT NOT NULL,
                byte_size BIGINT NOT NULL,
                uploaded_by TEXT,
                batch_id TEXT,
                created_at BIGINT NOT NULL,
                UNIQUE (user_id, version)
            )
            """,
            "CREATE INDEX photos_current ON photos (user_id, is_current)",
            """
            CREATE TABLE accounts (
                account_id TEXT PRIMARY KEY,
                username TEXT NOT NULL UNIQUE,
                display_name TEXT NOT NULL,
                role TEXT NOT NULL,
                district_wide BOOLEAN NOT NULL,
                password_hash TEXT NOT NULL,
                disabled BOOLEAN NOT NULL,
                created_at BIGINT NOT NULL,
                last_sign_in_at BIGINT
            )
            """,
            """
            CREATE TABLE account_schools (
                account_id TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
                school_key TEXT NOT NULL REFERENCES schools (school_key),
                PRIMARY KEY (account_id, school_key)
            )
            """,
            """
            CREATE TABLE sessions (
                token_hash TEXT PRIMARY KEY,
                account_id TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
                csrf_token TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                expires_at BIGINT NOT NULL
            )
            """,
            """
            CREATE TABLE api_tokens (
                token_hash TEXT PRIMARY KEY,
                account_id TEXT NOT NULL REFERENCES accounts (account_id) ON DELETE CASCADE,
                name TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                last_used_at BIGINT
            )
            """,
            """
            CREATE TABLE sign_in_failures (
                id {AUTO_ID},
                username TEXT NOT NULL,
                remote_address TEXT NOT NULL,
                at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX sign_in_failures_user ON sign_in_failures (username, at)",
            """
            CREATE TABLE audit_log (
                id {AUTO_ID},
                at BIGINT NOT NULL,
                actor_id TEXT,
                actor_name TEXT NOT NULL,
                action TEXT NOT NULL,
                target_type TEXT NOT NULL,
                target_id TEXT NOT NULL,
                batch_id TEXT,
                changes TEXT NOT NULL
            )
            """,
            "CREATE INDEX audit_log_at ON audit_log (at)",
        ])

    /// A planned batch's problems by kind (`IssueKind`), counted from its items when they are planned: counting them
    /// from the stored items took 8 s for a state-size users.csv whose every row had an error, on each view of its page.
    static let addIssueKinds = Migration(name: "AddIssueKinds", statements: ["ALTER TABLE batches ADD COLUMN issue_kinds TEXT"])

    /// The data version (`addDataVersion`) a draft's items were last planned at, all of them at once: a draft planned
    /// before the data last changed shows a preview that may no longer hold (`Store.previewIsStale`).
    static let addPlannedVersion = Migration(
        name: "AddPlannedVersion", statements: ["ALTER TABLE batches ADD COLUMN planned_version BIGINT"])

    /// Per-entity counts of roster batches (preview and report).
    static let addEntityCounts = Migration(
        name: "AddEntityCounts", statements: ["ALTER TABLE batches ADD COLUMN entity_counts TEXT"])

    /// What Process needs of a whole planned batch (`PlanDigest`), apart from the batch row: a state-size roster's
    /// holds 200,000 userIds, which every list of batches would otherwise read.
    static let addPlanDigests = Migration(
        name: "AddPlanDigests",
        statements: [
            """
            CREATE TABLE batch_plan_digests (
                batch_id TEXT PRIMARY KEY REFERENCES batches (batch_id) ON DELETE CASCADE,
                digest TEXT NOT NULL
            )
            """
        ])

    /// One number that every write to the records a roster plan reads (people, their schools, schools, classes,
    /// enrollments, demographics, photos and documents through `FieldWriter`) moves on. A plan made at version N
    /// still holds at apply if the version is still N, so the apply writes the kept plan instead of planning every
    /// row again (`Store.bumpDataVersion`).
    static let addDataVersion = Migration(
        name: "AddDataVersion",
        statements: [
            "CREATE TABLE data_version (id INTEGER PRIMARY KEY, version BIGINT NOT NULL)",
            "INSERT INTO data_version (id, version) VALUES (1, 0)",
        ])

    /// The items that have an error or a warning, usually a handful of a long file's rows: counting the warnings,
    /// the Warnings filter and the error report read them through this index instead of every item's issues
    /// (a full pass over a 1.4-million-row roster's items took about a second each time).
    static let addItemsWithIssuesIndex = Migration(
        name: "AddItemsWithIssuesIndex",
        statements: ["CREATE INDEX batch_items_issues ON batch_items (batch_id, item_id) WHERE \(Store.hasIssues)"])

    /// A CSV file's column names, kept once per batch and file: its items' `input` is then the row's values only
    /// (`FlatJSON.values`), a third less to write for a long roster. Items written as objects read as before.
    static let addInputColumns = Migration(
        name: "AddInputColumns",
        statements: [
            """
            CREATE TABLE batch_input_columns (
                batch_id TEXT NOT NULL REFERENCES batches (batch_id) ON DELETE CASCADE,
                file_name TEXT NOT NULL,
                columns TEXT NOT NULL,
                PRIMARY KEY (batch_id, file_name)
            )
            """
        ])

    /// The kept file (its blob key) whose rows a file's items are read from again: such an item's `input` is where its
    /// row is in that file (`FileSpan.text`), not its cells a second time (at state size 300 MB of a roster's items).
    static let addInputFiles = Migration(
        name: "AddInputFiles", statements: ["ALTER TABLE batch_input_columns ADD COLUMN blob_key TEXT"])

    /// A batch's items are keyed by the batch's number (`batch_numbers`), not its 36-character ID: the ID was in every
    /// item and in both its indexes, compared at every step down them (about 170 MB of a state-size roster's items;
    /// in the `sqlite3` shell its items went in 1.6–2.3 s faster keyed by a number). The items' table is made again
    /// with the number and the items copied over. Queries find a batch's number by its ID (`Store.itemsOfBatch`).
    static let numberBatchItemsOnSQLite = Migration(
        name: "NumberBatchItemsOnSQLite", statements: numberBatchItems(sqlite: true), only: [.sqlite])
    /// The same on PostgreSQL, the IDs and states compared byte by byte as before (`compareKeysBytewiseOnPostgres`), and
    /// no key from the items to their batch (`dropItemsBatchKeyCheckOnPostgres`).
    static let numberBatchItemsOnPostgres = Migration(
        name: "NumberBatchItemsOnPostgres", statements: numberBatchItems(sqlite: false), only: [.postgres])

    static func numberBatchItems(sqlite: Bool) -> [String] {
        let bytewise = sqlite ? "" : " COLLATE \"C\""
        let columns = ["item_id", "file_name", "row_number", "input", "target", "label", "state", "changes", "issues", "manual_target", "suggestions"]
        return [
            """
            CREATE TABLE batch_numbers (
                batch_no {AUTO_ID},
                batch_id TEXT\(bytewise) NOT NULL UNIQUE REFERENCES batches (batch_id) ON DELETE CASCADE
            )
            """,
            "INSERT INTO batch_numbers (batch_id) SELECT batch_id FROM batches ORDER BY created_at, batch_id",
            """
            CREATE TABLE batch_items_numbered (
                batch_no BIGINT NOT NULL\(sqlite ? " REFERENCES batch_numbers (batch_no) ON DELETE CASCADE" : ""),
                item_id BIGINT NOT NULL,
                file_name TEXT NOT NULL,
                row_number BIGINT,
                input TEXT NOT NULL,
                target TEXT,
                label TEXT NOT NULL,
                state TEXT\(bytewise) NOT NULL,
                changes TEXT NOT NULL,
                issues TEXT NOT NULL,
                manual_target TEXT,
                suggestions TEXT NOT NULL DEFAULT '[]',
                PRIMARY KEY (batch_no, item_id)
            )
            """,
            """
            INSERT INTO batch_items_numbered (batch_no, \(columns.joined(separator: ", ")))
            SELECT n.batch_no, \(columns.map { "i." + $0 }.joined(separator: ", "))
            FROM batch_items i JOIN batch_numbers n ON n.batch_id = i.batch_id
            """,
            "DROP TABLE batch_items",
            "ALTER TABLE batch_items_numbered RENAME TO batch_items",
            "CREATE INDEX batch_items_state ON batch_items (batch_no, state, item_id)",
            "CREATE INDEX batch_items_issues ON batch_items (batch_no, item_id) WHERE \(Store.hasIssues)",
        ] + (sqlite ? [] : ["ALTER TABLE batch_items RENAME CONSTRAINT batch_items_numbered_pkey TO batch_items_pkey"])
    }

    /// PostgreSQL checks a foreign key with a trigger and a query for every inserted row: storing a state-size
    /// roster's 1.6 million items took 16.3 s with the key to `batches` and 9.3 s without (docs/decisions.md).
    /// Items are written only by the batch engine, inside the transaction that reads their batch, and batches are
    /// never deleted, so the key guarded nothing. SQLite checks it at no measurable cost and keeps it (dropping a
    /// key there means copying the table).
    static let dropItemsBatchKeyCheckOnPostgres = Migration(
        name: "DropItemsBatchKeyCheckOnPostgres",
        statements: ["ALTER TABLE batch_items DROP CONSTRAINT IF EXISTS batch_items_batch_id_fkey"],
        only: [.postgres])

    /// The foreign keys of the tables a roster batch fills, checked once a statement on PostgreSQL.
    ///
    /// PostgreSQL checks a foreign key with a trigger and a query for every row: a state-size roster's 1.43 million
    /// enrollments took 18.4 s to insert with their two keys and 5.4 s without, its 206,000 school memberships 3.9 s
    /// and 0.8 s (psql, same rows). Here each key keeps its guarantees, checked once a statement over all of its rows
    /// (`REFERENCING NEW TABLE` / `OLD TABLE`): every row written must name a parent that exists, which is locked
    /// `FOR KEY SHARE` as the key's own check locks it (a transaction deleting it waits); deleting a parent deletes
    /// the rows naming it (`ON DELETE CASCADE`) or fails while rows name it (`NO ACTION`), and so does changing its
    /// key. A failed check is a `foreign_key_violation`, as before. The enrollments' insert took 8.9 s this way
    /// (docs/decisions.md, round 15). The triggers rely on each of their queries seeing what committed before it:
    /// writes run at READ COMMITTED (`PostgresBackend`). SQLite keeps its keys: it checks them at no cost we could
    /// measure.
    static let checkRosterKeysByStatementOnPostgres = Migration(
        name: "CheckRosterKeysByStatementOnPostgres", statements: RosterKey.all.flatMap(\.statements), only: [.postgres])

    /// IDs and codes are compared byte by byte on PostgreSQL (`COLLATE "C"`), as SQLite compares every text. With a
    /// language's collation every comparison of an index on them went through the C library's `strcoll`: a
    /// tenth of the server's time writing a state-size roster under `C.UTF-8`, and more under a language's
    /// collation such as `en_US.UTF-8`. In psql, the 1.43 million enrollments inserted in 5.17 → 4.58 s and the 206,000
    /// people in 1.80 → 1.62 s under `C.UTF-8`. Names keep the database's collation: lists sorted by name are sorted
    /// for people. (Under `C.UTF-8`, the byte order of UTF-8 is the order it already had.)
    static let compareKeysBytewiseOnPostgres = Migration(
        name: "CompareKeysBytewiseOnPostgres",
        statements: [
            ("people", ["user_id", "login_id", "email_key", "user_role", "user_grade"]),
            ("schools", ["school_key", "school_id"]),
            ("person_schools", ["user_id", "school_key"]),
            ("classes", ["class_id", "school_key"]),
            ("enrollments", ["class_id", "user_id"]),
            ("demographics", ["user_id"]),
            ("photos", ["user_id"]),
            ("documents", ["user_id", "batch_id"]),
            ("account_schools", ["school_key"]),
            ("batches", ["batch_id"]),
            ("batch_items", ["batch_id", "state"]),
            ("batch_files", ["batch_id"]),
            ("batch_changes", ["batch_id"]),
            ("batch_input_columns", ["batch_id"]),
            ("batch_plan_digests", ["batch_id"]),
            ("jobs", ["batch_id"]),
        ].map { table, columns in
            "ALTER TABLE \(table) " + columns.map { "ALTER COLUMN \($0) TYPE TEXT COLLATE \"C\"" }.joined(separator: ", ")
        },
        only: [.postgres])

    /// A transaction that checks the keys of what it writes itself (`DatabaseBackend.writeCheckingOwnKeys`: a roster
    /// apply that only adds, which looks up and locks each parent its new rows name once, `RosterWriter.check`) sets
    /// `schoolbatch.own_keys` to its own transaction ID, for itself alone (`set_config(…, true)`), and the statement
    /// triggers that check the roster tables' keys then leave them to it: at state size they were 5 of the apply's
    /// 16 s. Every other transaction keeps them (a value set any other way names no other transaction). The
    /// triggers that follow a parent's removal are unchanged.
    static let checkOwnRosterKeysOnPostgres = Migration(
        name: "CheckOwnRosterKeysOnPostgres",
        statements: RosterKey.all.map {
            $0.checkFunction(create: "CREATE OR REPLACE", ownKeys: "    IF \(PostgresBackend.ownKeysHeld) THEN RETURN NULL; END IF;\n")
        },
        only: [.postgres])

    /// Only the items that need a person's attention (an error, unmatched, skipped: a handful of a long file's rows)
    /// are indexed by state; a batch's ready and unchanged items, nearly all of them, are read through its items in
    /// order. An entry for every item was written for queries that read most of the batch's items anyway (the
    /// apply's ready changes, in item order) or that the stored counts answer (a page's total of one state): storing a
    /// state-size roster's 1.6 million items on PostgreSQL takes about half a second less without it (docs/decisions.md,
    /// round 21).
    static let indexOnlyItemsNeedingAttention = Migration(
        name: "IndexOnlyItemsNeedingAttention",
        statements: [
            "DROP INDEX batch_items_state",
            "CREATE INDEX batch_items_attention ON batch_items (batch_no, state, item_id) WHERE state IN ('error', 'unmatched', 'skipped')",
        ])

    /// The same index with its condition written as `state = … OR …` instead of `state IN (…)`: SQLite evaluates a
    /// partial index's condition on every row written, and a list costs it about half a microsecond a row where
    /// three comparisons cost nearly nothing. Storing 1.6 million items in the sqlite3 shell: 1.74 s with the list,
    /// 1.01 s with the comparisons, 0.94 s with no such index (docs/decisions.md, round 22).
    static let attentionIndexWithoutList = Migration(
        name: "AttentionIndexWithoutList",
        statements: [
            "DROP INDEX batch_items_attention",
            "CREATE INDEX batch_items_attention ON batch_items (batch_no, state, item_id) WHERE \(Store.needsAttention)",
        ])

    /// SQLite: the enrollments' key a unique index of its own, not the table's primary key, so that a district's
    /// first roster can load the empty table without its indexes and build them after
    /// (`SQLConnection.withIndexesBuiltAfter`; SQLite cannot drop the index of a table's primary key). The same columns
    /// are as unique as before, and `ON CONFLICT (class_id, user_id)` finds the index as it found the key. PostgreSQL
    /// keeps its primary key.
    static let enrollmentsKeyAsIndexOnSQLite = Migration(
        name: "EnrollmentsKeyAsIndexOnSQLite",
        statements: [
            """
            CREATE TABLE enrollments_keyed_by_index (
                class_id TEXT NOT NULL REFERENCES classes (class_id) ON DELETE CASCADE,
                user_id TEXT NOT NULL REFERENCES people (user_id) ON DELETE CASCADE,
                role TEXT NOT NULL,
                primary_teacher BOOLEAN NOT NULL
            )
            """,
            "INSERT INTO enrollments_keyed_by_index (class_id, user_id, role, primary_teacher) SELECT class_id, user_id, role, primary_teacher FROM enrollments",
            "DROP TABLE enrollments",
            "ALTER TABLE enrollments_keyed_by_index RENAME TO enrollments",
            "CREATE UNIQUE INDEX enrollments_key ON enrollments (class_id, user_id)",
            "CREATE INDEX enrollments_user ON enrollments (user_id)",
        ],
        only: [.sqlite])

    /// A foreign key of a table a roster batch fills (`checkRosterKeysByStatementOnPostgres`).
    struct RosterKey {
        let child: String, column: String, parent: String, parentColumn: String, cascades: Bool

        static let all = [
            RosterKey(child: "enrollments", column: "user_id", parent: "people", parentColumn: "user_id", cascades: true),
            RosterKey(child: "enrollments", column: "class_id", parent: "classes", parentColumn: "class_id", cascades: true),
            RosterKey(child: "person_schools", column: "user_id", parent: "people", parentColumn: "user_id", cascades: true),
            RosterKey(child: "person_schools", column: "school_key", parent: "schools", parentColumn: "school_key", cascades: false),
            RosterKey(child: "demographics", column: "user_id", parent: "people", parentColumn: "user_id", cascades: true),
            RosterKey(child: "classes", column: "school_key", parent: "schools", parentColumn: "school_key", cascades: false),
        ]

        /// The function of the triggers that check the child's rows a statement writes: their parents must exist,
        /// and are locked (`FOR KEY SHARE`) until the transaction ends. `ownKeys`: SQL put first (the migration
        /// `CheckOwnRosterKeysOnPostgres`).
        func checkFunction(create: String, ownKeys: String) -> String {
            """
            \(create) FUNCTION \(child)_\(column)_check() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
            DECLARE wanted BIGINT; locked BIGINT; missing TEXT;
            BEGIN
            \(ownKeys)    SELECT count(DISTINCT \(column)) INTO wanted FROM written;
                PERFORM 1 FROM \(parent) p WHERE p.\(parentColumn) IN (SELECT \(column) FROM written) FOR KEY SHARE OF p;
                GET DIAGNOSTICS locked = ROW_COUNT;
                IF locked < wanted THEN
                    SELECT w.\(column) INTO missing FROM written w
                        WHERE NOT EXISTS (SELECT 1 FROM \(parent) p WHERE p.\(parentColumn) = w.\(column)) LIMIT 1;
                    RAISE foreign_key_violation USING
                        MESSAGE = format('a row of \(child) names \(column) %s, which is not in \(parent)', missing);
                END IF;
                RETURN NULL;
            END $$
            """
        }

        /// Drops the key and puts in its place its two functions (plain SQL, planned once a session) and four
        /// statement triggers. Function and trigger names are the child's table and column (at most 63 bytes).
        var statements: [String] {
            let name = "\(child)_\(column)"
            let parentGone =
                cascades
                ? """
                    IF TG_OP = 'DELETE' THEN
                        DELETE FROM \(child) c USING (SELECT DISTINCT \(parentColumn) AS k FROM gone) g WHERE c.\(column) = g.k;
                        RETURN NULL;
                    END IF;
                    """ : ""
            return [
                "ALTER TABLE \(child) DROP CONSTRAINT IF EXISTS \(name)_fkey",
                // `written`: the child's rows inserted or updated by the statement.
                checkFunction(create: "CREATE", ownKeys: ""),
                // `gone`: the parent's rows deleted, or updated as they were before; `kept`: updated, as they are after.
                """
                CREATE FUNCTION \(name)_follow() RETURNS trigger LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
                DECLARE held TEXT;
                BEGIN
                \(parentGone)
                    IF TG_OP = 'DELETE' THEN
                        SELECT c.\(column) INTO held FROM (SELECT DISTINCT \(parentColumn) AS k FROM gone) g
                            JOIN \(child) c ON c.\(column) = g.k LIMIT 1;
                    ELSE
                        SELECT c.\(column) INTO held FROM (SELECT \(parentColumn) AS k FROM gone EXCEPT SELECT \(parentColumn) FROM kept) g
                            JOIN \(child) c ON c.\(column) = g.k LIMIT 1;
                    END IF;
                    IF held IS NOT NULL THEN
                        RAISE foreign_key_violation USING
                            MESSAGE = format('\(parentColumn) %s is still named by \(child) and cannot be removed or changed', held);
                    END IF;
                    RETURN NULL;
                END $$
                """,
                """
                CREATE TRIGGER \(name)_inserted AFTER INSERT ON \(child) REFERENCING NEW TABLE AS written
                    FOR EACH STATEMENT EXECUTE FUNCTION \(name)_check()
                """,
                """
                CREATE TRIGGER \(name)_updated AFTER UPDATE ON \(child) REFERENCING NEW TABLE AS written
                    FOR EACH STATEMENT EXECUTE FUNCTION \(name)_check()
                """,
                """
                CREATE TRIGGER \(name)_parent_deleted AFTER DELETE ON \(parent) REFERENCING OLD TABLE AS gone
                    FOR EACH STATEMENT EXECUTE FUNCTION \(name)_follow()
                """,
                """
                CREATE TRIGGER \(name)_parent_updated AFTER UPDATE ON \(parent) REFERENCING OLD TABLE AS gone NEW TABLE AS kept
                    FOR EACH STATEMENT EXECUTE FUNCTION \(name)_follow()
                """,
            ]
        }
    }
 /// Batches: one row per upload or export, with its lifecycle status.
    static let createBatch = Migration(
        name: "CreateBatch",
        statements: [
            """
            CREATE TABLE batches (
                batch_id TEXT PRIMARY KEY,
                kind TEXT NOT NULL,
                status TEXT NOT NULL,
                options TEXT NOT NULL,
                created_by TEXT REFERENCES accounts (account_id) ON DELETE SET NULL,
                created_by_name TEXT NOT NULL,
                district_wide BOOLEAN NOT NULL,
                scope_schools TEXT NOT NULL,
                created_at BIGINT NOT NULL,
                updated_at BIGINT NOT NULL
            )
            """,
            "CREATE INDEX batches_created ON batches (created_at)",
        ])
}
