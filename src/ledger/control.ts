/**
 * The deployment's one global object, kept off the dispatch path: nothing here is read or written per job.
 *
 * - hooks: the webhooks that deliver to us, learnt from the headers GitHub puts on every delivery
 *   (`X-GitHub-Hook-ID`, `X-GitHub-Hook-Installation-Target-Type`; the target from the payload) — once per isolate
 *   per hook — with the
 *   cursor of the lost-delivery watcher (src/reconcile/deliveries.ts) and how often each delivery was redelivered;
 * - owners: the repository owners whose ledger has had work, enrolled by each ledger's first claim, for the status page,
 *   pause / resume and `POST /api/reconcile`;
 * - pause: `POST /api/pause`, passed on to every ledger;
 * - leases: one cron cycle at a time.
 */
import { DurableObject } from "cloudflare:workers";

export const HOOK_KINDS = ["repository", "organization", "app"] as const;
export type HookKind = (typeof HOOK_KINDS)[number];

export interface HookRecord {
  kind: HookKind;
  hookId: number;
  /** The repository (`owner/repo`) of a repository hook, the organization of an organization hook. */
  target: string;
  owner: string;
  installationId: number | null;
  firstSeenAt: number;
  lastSeenAt: number;
  /** The newest delivery id the watcher has looked at. */
  cursor: number | null;
  scannedAt: number | null;
  lastError: string | null;
}

export interface HookSighting {
  kind: HookKind;
  hookId: number;
  target: string;
  owner: string;
  installationId: number | null;
  now: number;
}

const MIGRATIONS = [
  `CREATE TABLE hooks (
    kind TEXT NOT NULL,
    hook_id INTEGER NOT NULL,
    target TEXT NOT NULL,
    owner TEXT NOT NULL,
    installation_id INTEGER,
    first_seen_at INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,
    cursor INTEGER,
    scanned_at INTEGER,
    last_error TEXT,
    PRIMARY KEY (kind, hook_id)
  )`,
  "CREATE TABLE redeliveries (guid TEXT PRIMARY KEY, count INTEGER NOT NULL, last_at INTEGER NOT NULL)",
  "CREATE INDEX redeliveries_by_time ON redeliveries (last_at)",
  "CREATE TABLE owners (owner TEXT PRIMARY KEY, first_seen_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL)",
  "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
];

export class Control extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    this.sql.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
    const version = this.sql
      .exec<{ version: number }>("SELECT version FROM schema_version")
      .toArray()[0]?.version;
    for (let index = version ?? 0; index < MIGRATIONS.length; index++) {
      const statement = MIGRATIONS[index];
      if (statement !== undefined) this.sql.exec(statement);
    }
    if (version === undefined) this.sql.exec("INSERT INTO schema_version VALUES (?)", MIGRATIONS.length);
    else this.sql.exec("UPDATE schema_version SET version = ?", MIGRATIONS.length);
  }

  seeHook(sighting: HookSighting): void {
    this.sql.exec(
      `INSERT INTO hooks (kind, hook_id, target, owner, installation_id, first_seen_at, last_seen_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (kind, hook_id) DO UPDATE SET target = excluded.target, owner = excluded.owner,
         installation_id = COALESCE(excluded.installation_id, installation_id), last_seen_at = excluded.last_seen_at`,
      sighting.kind,
      sighting.hookId,
      sighting.target,
      sighting.owner.toLowerCase(),
      sighting.installationId,
      sighting.now,
      sighting.now,
    );
  }

  hooks(): HookRecord[] {
    return this.sql
      .exec<{
        kind: HookKind;
        hook_id: number;
        target: string;
        owner: string;
        installation_id: number | null;
        first_seen_at: number;
        last_seen_at: number;
        cursor: number | null;
        scanned_at: number | null;
        last_error: string | null;
      }>("SELECT * FROM hooks ORDER BY COALESCE(scanned_at, 0)")
      .toArray()
      .map((row) => ({
        kind: row.kind,
        hookId: row.hook_id,
        target: row.target,
        owner: row.owner,
        installationId: row.installation_id,
        firstSeenAt: row.first_seen_at,
        lastSeenAt: row.last_seen_at,
        cursor: row.cursor,
        scannedAt: row.scanned_at,
        lastError: row.last_error,
      }));
  }

  hookScanned(
    kind: HookKind,
    hookId: number,
    cursor: number | null,
    now: number,
    error: string | null,
  ): void {
    this.sql.exec(
      "UPDATE hooks SET cursor = COALESCE(?, cursor), scanned_at = ?, last_error = ? WHERE kind = ? AND hook_id = ?",
      cursor,
      now,
      error === null ? null : error.slice(0, 500),
      kind,
      hookId,
    );
  }

  /** Counts a redelivery of `guid`; false (and nothing counted) when it had `max` already. */
  countRedelivery(guid: string, max: number, now: number): boolean {
    const count = this.sql
      .exec<{ count: number }>("SELECT count FROM redeliveries WHERE guid = ?", guid)
      .toArray()[0]?.count;
    if (count !== undefined && count >= max) return false;
    this.sql.exec(
      `INSERT INTO redeliveries (guid, count, last_at) VALUES (?, 1, ?)
       ON CONFLICT (guid) DO UPDATE SET count = count + 1, last_at = excluded.last_at`,
      guid,
      now,
    );
    // GitHub keeps deliveries a few days: so do we.
    this.sql.exec("DELETE FROM redeliveries WHERE last_at < ?", now - 7 * 24 * 60 * 60 * 1000);
    return true;
  }

  registerOwner(owner: string, now: number): boolean {
    const known =
      this.sql.exec("SELECT 1 FROM owners WHERE owner = ?", owner.toLowerCase()).toArray().length > 0;
    this.sql.exec(
      `INSERT INTO owners (owner, first_seen_at, last_seen_at) VALUES (?, ?, ?)
       ON CONFLICT (owner) DO UPDATE SET last_seen_at = excluded.last_seen_at`,
      owner.toLowerCase(),
      now,
      now,
    );
    return !known;
  }

  /**
   * A ledger's first claim: the owner joins the list a pause is passed on to, and learns whether one is in force.
   * One object, one thread: a pause set before this call is answered here, one set after it reaches the owner.
   */
  enroll(owner: string, now: number): boolean {
    this.registerOwner(owner, now);
    return this.isPaused();
  }

  owners(): string[] {
    return this.sql
      .exec<{ owner: string }>("SELECT owner FROM owners ORDER BY last_seen_at DESC LIMIT 1000")
      .toArray()
      .map((row) => row.owner);
  }

  setPaused(paused: boolean): void {
    this.setMeta("paused", paused ? "true" : "false");
  }

  isPaused(): boolean {
    return this.getMeta("paused") === "true";
  }

  /** A lease named `name` until `now + leaseMs`; false while another holds it. */
  acquire(name: string, now: number, leaseMs: number): boolean {
    const held = Number(this.getMeta(`lease:${name}`) ?? "0");
    if (held > now) return false;
    this.setMeta(`lease:${name}`, String(now + leaseMs));
    return true;
  }

  releaseLease(name: string): void {
    this.sql.exec("DELETE FROM meta WHERE key = ?", `lease:${name}`);
  }

  /** When the periodic task `name` last ran, and marks it run now if it is due. */
  due(name: string, now: number, everyMs: number): boolean {
    const last = Number(this.getMeta(`ran:${name}`) ?? "0");
    if (now - last < everyMs) return false;
    this.setMeta(`ran:${name}`, String(now));
    return true;
  }

  private getMeta(key: string): string | undefined {
    return this.sql.exec<{ value: string }>("SELECT value FROM meta WHERE key = ?", key).toArray()[0]?.value;
  }

  private setMeta(key: string, value: string): void {
    this.sql.exec(
      "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
      key,
      value,
    );
  }
}

/** The deployment's control object; `name` lets tests keep their own. */
export function controlFor(
  namespace: DurableObjectNamespace<Control>,
  name = "control",
): DurableObjectStub<Control> {
  return namespace.get(namespace.idFromName(name));
}
