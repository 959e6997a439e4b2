/**
 * The ledger's SQLite schema, applied in order; the `schema_version` table records how far a given object has
 * come. Append new statements, never edit old ones: objects already deployed have run them.
 */
export const MIGRATIONS: readonly string[] = [
  `CREATE TABLE jobs (
    job_id INTEGER PRIMARY KEY,
    repository TEXT NOT NULL,
    run_id INTEGER NOT NULL,
    run_attempt INTEGER NOT NULL,
    labels TEXT NOT NULL,
    installation_id INTEGER,
    state TEXT NOT NULL,
    runner_name TEXT,
    runner_id INTEGER,
    sandbox_id TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    lease_until INTEGER NOT NULL DEFAULT 0,
    received_at INTEGER NOT NULL,
    dispatch_started_at INTEGER,
    jit_issued_at INTEGER,
    sandbox_created_at INTEGER,
    in_progress_at INTEGER,
    completed_at INTEGER,
    conclusion TEXT,
    last_error TEXT,
    updated_at INTEGER NOT NULL
  )`,
  "CREATE INDEX jobs_by_state ON jobs (state, updated_at)",
  `CREATE TABLE cache (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL,
    expires_at INTEGER NOT NULL
  )`,
  // The per-owner runner cap: when a runner finished (GitHub named it on a completed job), and jobs waiting for
  // a free runner slot with the queue message that will be sent again when one frees up.
  "ALTER TABLE jobs ADD COLUMN runner_done_at INTEGER",
  "ALTER TABLE jobs ADD COLUMN parked_at INTEGER",
  "ALTER TABLE jobs ADD COLUMN parked_message TEXT",
  "CREATE INDEX jobs_parked ON jobs (parked_at) WHERE parked_at IS NOT NULL",
  "CREATE INDEX jobs_by_runner ON jobs (runner_name)",
  "ALTER TABLE jobs ADD COLUMN released_at INTEGER",
];

export function migrate(sql: SqlStorage): void {
  sql.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  const row = sql.exec<{ version: number }>("SELECT version FROM schema_version").toArray()[0];
  const version = row?.version ?? 0;
  for (let index = version; index < MIGRATIONS.length; index++) {
    const statement = MIGRATIONS[index];
    if (statement !== undefined) sql.exec(statement);
  }
  if (row === undefined) sql.exec("INSERT INTO schema_version (version) VALUES (?)", MIGRATIONS.length);
  else if (version < MIGRATIONS.length) sql.exec("UPDATE schema_version SET version = ?", MIGRATIONS.length);
}
