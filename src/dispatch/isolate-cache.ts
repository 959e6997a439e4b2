/**
 * Ids that rarely change (Modal app and image ids, the runner version) kept in the isolate, in front of the
 * ledger's copy. A warm isolate dispatches a CPU job with one GitHub and one Modal call and nothing else; a cold
 * one looks each id up once, however many messages arrive together: concurrent lookups of one key share one
 * request in flight.
 */
export interface CacheEntryInput {
  key: string;
  value: string;
  ttlMs: number;
}

export interface Loaded {
  value: string;
  ttlMs: number;
}

export function createIsolateCache(now: () => number) {
  const entries = new Map<string, { value: string; expiresAt: number }>();
  const inFlight = new Map<string, Promise<string>>();
  const get = (key: string): string | undefined => {
    const entry = entries.get(key);
    if (entry === undefined) return undefined;
    if (entry.expiresAt <= now()) {
      entries.delete(key);
      return undefined;
    }
    return entry.value;
  };
  const set = (entry: CacheEntryInput): void => {
    entries.set(entry.key, { value: entry.value, expiresAt: now() + entry.ttlMs });
  };
  return {
    get,
    set,
    delete(key: string): void {
      entries.delete(key);
    },
    /** The cached value, or the one `load` finds — started once for every concurrent caller. */
    async getOrLoad(key: string, load: () => Promise<Loaded>): Promise<string> {
      const cached = get(key);
      if (cached !== undefined) return cached;
      let pending = inFlight.get(key);
      if (pending === undefined) {
        pending = load()
          .then((loaded) => {
            set({ key, ...loaded });
            return loaded.value;
          })
          .finally(() => inFlight.delete(key));
        inFlight.set(key, pending);
      }
      return pending;
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
