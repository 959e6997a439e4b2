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
  // The lifecycle (reconciler) and "waiting is not failing": a job keeps its queue message for as long as it may need
  // another runner; a waiting job says why and when it is due; `check_at` is the job's next deadline (a stuck check,
  // a re-check asked by a redelivery); `ended_at` is set for every terminal state, for retention.
  "ALTER TABLE jobs ADD COLUMN message TEXT",
  "UPDATE jobs SET message = parked_message WHERE parked_message IS NOT NULL",
  "ALTER TABLE jobs ADD COLUMN wait_reason TEXT",
  "ALTER TABLE jobs ADD COLUMN wake_at INTEGER",
  "UPDATE jobs SET wait_reason = 'cap' WHERE parked_at IS NOT NULL",
  "ALTER TABLE jobs ADD COLUMN check_at INTEGER",
  "ALTER TABLE jobs ADD COLUMN recheck TEXT",
  "ALTER TABLE jobs ADD COLUMN ran_on TEXT",
  "ALTER TABLE jobs ADD COLUMN dispatch_reason TEXT",
  "ALTER TABLE jobs ADD COLUMN ended_at INTEGER",
  "UPDATE jobs SET ended_at = COALESCE(completed_at, updated_at) WHERE state IN ('finished', 'failed', 'cancelled')",
  "CREATE INDEX jobs_check ON jobs (check_at) WHERE check_at IS NOT NULL",
  "CREATE INDEX jobs_wake ON jobs (wake_at) WHERE wake_at IS NOT NULL",
  "CREATE INDEX jobs_ended ON jobs (ended_at) WHERE ended_at IS NOT NULL",
  // One row per runner we started (a job may get several: a runner is not bound to its job). What counts against
  // the cap, what the reconciler watches and what it removes all live here, indexed by liveness so that the cost
  // of a claim or a cycle follows the runners in flight, not the owner's history.
  `CREATE TABLE runners (
    runner_name TEXT PRIMARY KEY,
    job_id INTEGER NOT NULL,
    attempt INTEGER NOT NULL,
    repository TEXT NOT NULL,
    labels TEXT NOT NULL,
    installation_id INTEGER,
    reason TEXT NOT NULL,
    state TEXT NOT NULL,
    runner_id INTEGER,
    sandbox_id TEXT,
    claimed_at INTEGER NOT NULL,
    requested_at INTEGER,
    busy_job_id INTEGER,
    busy_at INTEGER,
    done_at INTEGER,
    retire_reason TEXT,
    retire_at INTEGER,
    retire_tries INTEGER NOT NULL DEFAULT 0,
    deregistered_at INTEGER,
    terminated_at INTEGER,
    sandbox_gone_at INTEGER,
    github_status TEXT,
    github_seen_at INTEGER,
    idle_since INTEGER,
    offline_since INTEGER,
    absent_since INTEGER,
    check_at INTEGER,
    last_error TEXT,
    updated_at INTEGER NOT NULL
  )`,
  `INSERT INTO runners (runner_name, job_id, attempt, repository, labels, installation_id, reason, state, runner_id,
     sandbox_id, claimed_at, requested_at, done_at, check_at, updated_at)
   SELECT runner_name, job_id, MAX(attempts, 1), repository, labels, installation_id, 'first dispatch',
     CASE WHEN state = 'failed' THEN 'gone' WHEN runner_done_at IS NOT NULL THEN 'done'
          WHEN state = 'dispatching' THEN 'starting' ELSE 'live' END,
     runner_id, sandbox_id, COALESCE(dispatch_started_at, received_at), sandbox_created_at, runner_done_at,
     CASE WHEN state = 'failed' THEN NULL ELSE updated_at END, updated_at
   FROM jobs WHERE runner_name IS NOT NULL`,
  "CREATE INDEX runners_live ON runners (state) WHERE state != 'gone'",
  "CREATE INDEX runners_check ON runners (check_at) WHERE check_at IS NOT NULL",
  "CREATE INDEX runners_by_job ON runners (job_id)",
  "CREATE INDEX runners_gone ON runners (updated_at) WHERE state = 'gone'",
  // What is left of finished jobs after retention: one row per UTC day.
  `CREATE TABLE daily (
    day TEXT PRIMARY KEY,
    finished INTEGER NOT NULL DEFAULT 0,
    failed INTEGER NOT NULL DEFAULT 0,
    cancelled INTEGER NOT NULL DEFAULT 0,
    runners INTEGER NOT NULL DEFAULT 0,
    sandbox_seconds REAL NOT NULL DEFAULT 0,
    pickup_ms TEXT NOT NULL DEFAULT '[]',
    total_ms TEXT NOT NULL DEFAULT '[]'
  )`,
  // Small values of the object itself: the runner limits last given, a reconcile lease, sweep times, pause.
  "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
  // The status page's window of recent jobs (not read on the dispatch path).
  "CREATE INDEX jobs_received ON jobs (received_at)",
  // Each sandbox's size as requested (a job's `modal-*` labels, or the default), so that the cost estimate prices
  // what was asked for: cores, MiB, GPU type (upper case) and count. NULL in rows from before: priced at the
  // configured default size, which is what such a sandbox most likely had.
  "ALTER TABLE jobs ADD COLUMN sandbox_cpu REAL",
  "ALTER TABLE jobs ADD COLUMN sandbox_memory_mib INTEGER",
  "ALTER TABLE jobs ADD COLUMN sandbox_gpu TEXT",
  "ALTER TABLE jobs ADD COLUMN sandbox_gpu_count INTEGER",
  "ALTER TABLE runners ADD COLUMN sandbox_cpu REAL",
  "ALTER TABLE runners ADD COLUMN sandbox_memory_mib INTEGER",
  "ALTER TABLE runners ADD COLUMN sandbox_gpu TEXT",
  "ALTER TABLE runners ADD COLUMN sandbox_gpu_count INTEGER",
  // A day's resource-seconds (src/ledger/usage.ts): `unsized_seconds` are sandbox seconds of unknown size — every
  // second a day counted before this migration — and the rest is core-, GiB- and per-type GPU-seconds (JSON).
  "ALTER TABLE daily ADD COLUMN unsized_seconds REAL NOT NULL DEFAULT 0",
  "UPDATE daily SET unsized_seconds = sandbox_seconds",
  "ALTER TABLE daily ADD COLUMN cpu_seconds REAL NOT NULL DEFAULT 0",
  "ALTER TABLE daily ADD COLUMN memory_gib_seconds REAL NOT NULL DEFAULT 0",
  "ALTER TABLE daily ADD COLUMN gpu_seconds TEXT NOT NULL DEFAULT '{}'",
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
