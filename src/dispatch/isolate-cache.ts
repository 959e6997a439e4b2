/**
 * Ids that rarely change (Modal app and image ids, the runner version) kept in the isolate, in front of the
 * ledger's copy. A warm isolate dispatches a CPU job with one GitHub and one Modal call and nothing else.
 */
export interface CacheEntryInput {
  key: string;
  value: string;
  ttlMs: number;
}

export function createIsolateCache(now: () => number) {
  const entries = new Map<string, { value: string; expiresAt: number }>();
  return {
    get(key: string): string | undefined {
      const entry = entries.get(key);
      if (entry === undefined) return undefined;
      if (entry.expiresAt <= now()) {
        entries.delete(key);
        return undefined;
      }
      return entry.value;
    },
    set(entry: CacheEntryInput): void {
      entries.set(entry.key, { value: entry.value, expiresAt: now() + entry.ttlMs });
    },
    delete(key: string): void {
      entries.delete(key);
    },
  };
}

export type IsolateCache = ReturnType<typeof createIsolateCache>;

const DAY = 24 * 60 * 60 * 1000;

/** Cache keys and lifetimes, in one place. */
export const cacheKeys = {
  runnerVersion: { key: "github.runner-version", ttlMs: DAY },
  app: (name: string, environment: string | undefined) => ({
    key: `modal.app:${environment ?? ""}:${name}`,
    ttlMs: DAY,
  }),
  image: (appId: string, tag: string) => ({ key: `modal.image:${appId}:${tag}`, ttlMs: DAY }),
} as const;
