/**
 * The Cloudflare Access emulator: a team's signing keys at `/cdn-cgi/access/certs`, and a control API that mints
 * tokens with them and rotates them (control.ts). One namespace per `/ns/<name>` prefix, so test files keep apart.
 * Runtime-neutral; server.ts puts it on a Node HTTP server.
 */
import type { RawAnswer, RawRequest } from "../loopback-server.ts";
import {
  type AccessCerts,
  CERTS_PATH,
  CertsFailureSchema,
  type KeysState,
  SignRequestSchema,
} from "./control.ts";
import { generateSigningKey, type SigningKey, signJwt } from "./keys.ts";

interface Namespace {
  current: SigningKey;
  previous: SigningKey | undefined;
  retired: SigningKey[];
  fetches: number;
  failures: { status: number; remaining: number }[];
}

const PATH = /^(?:\/ns\/([A-Za-z0-9_.-]+))?(\/[^?]*)?(?:\?.*)?$/;

function json(status: number, body: unknown): RawAnswer {
  return { status, headers: { "content-type": "application/json" }, body: JSON.stringify(body) };
}

function parseBody(body: Uint8Array): unknown {
  const text = new TextDecoder().decode(body);
  if (text.trim() === "") return {};
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function certsOf(ns: Namespace): AccessCerts {
  const published = ns.previous === undefined ? [ns.current] : [ns.current, ns.previous];
  return {
    keys: published.map((key) => key.jwk),
    public_cert: { kid: ns.current.kid, cert: ns.current.cert },
    public_certs: published.map((key) => ({ kid: key.kid, cert: key.cert })),
  };
}

function stateOf(ns: Namespace): KeysState {
  return {
    current: ns.current.kid,
    previous: ns.previous?.kid ?? null,
    retired: ns.retired.map((key) => key.kid),
    fetches: ns.fetches,
  };
}

export function createAccessEmulator(options: { now?: () => number } = {}) {
  const now = options.now ?? Date.now;
  // Promises, so that concurrent first requests of a namespace share one pair of (slow to make) RSA keys.
  const namespaces = new Map<string, Promise<Namespace>>();
  const fresh = async (): Promise<Namespace> => {
    const [current, previous] = await Promise.all([generateSigningKey(now()), generateSigningKey(now())]);
    return { current, previous, retired: [], fetches: 0, failures: [] };
  };
  const namespace = (name: string): Promise<Namespace> => {
    let ns = namespaces.get(name);
    if (ns === undefined) {
      ns = fresh();
      namespaces.set(name, ns);
    }
    return ns;
  };

  async function control(ns: Namespace, name: string, operation: string, request: RawRequest) {
    const body = parseBody(request.body);
    if (body === undefined) return json(400, { error: "the body is not JSON" });
    if (request.method === "GET" && operation === "keys") return json(200, stateOf(ns));
    if (request.method !== "POST") return json(405, { error: "use POST" });
    switch (operation) {
      case "sign": {
        const parsed = SignRequestSchema.safeParse(body);
        if (!parsed.success) return json(400, { error: "expected { claims, kid?, header? }" });
        const kid = parsed.data.kid ?? ns.current.kid;
        const key = [ns.current, ns.previous, ...ns.retired].find((candidate) => candidate?.kid === kid);
        if (key === undefined) return json(404, { error: `no key ${kid} in this namespace` });
        return json(200, { token: await signJwt(key, parsed.data.claims, parsed.data.header) });
      }
      case "rotate": {
        if (ns.previous !== undefined) ns.retired.unshift(ns.previous);
        ns.previous = ns.current;
        ns.current = await generateSigningKey(now());
        return json(200, stateOf(ns));
      }
      case "fail": {
        const parsed = CertsFailureSchema.safeParse(body);
        if (!parsed.success) return json(400, { error: "expected { status, count? }" });
        ns.failures.push({ status: parsed.data.status, remaining: parsed.data.count ?? 1 });
        return json(200, { ok: true });
      }
      case "reset": {
        namespaces.delete(name);
        await namespace(name);
        return json(200, { ok: true });
      }
      default:
        return json(404, { error: `no control operation ${operation}` });
    }
  }

  async function handle(request: RawRequest): Promise<RawAnswer> {
    const match = PATH.exec(request.path);
    if (match === null) return json(404, { error: "not found" });
    const name = match[1] ?? "default";
    const path = match[2] ?? "/";
    const ns = await namespace(name);
    if (path.startsWith("/_emulator/")) return control(ns, name, path.slice("/_emulator/".length), request);
    if (path !== CERTS_PATH) return json(404, { error: "not found" });
    if (request.method !== "GET" && request.method !== "HEAD") return json(405, { error: "use GET" });
    ns.fetches += 1;
    const failure = ns.failures.find((candidate) => candidate.remaining > 0);
    if (failure !== undefined) {
      failure.remaining -= 1;
      return json(failure.status, { error: "injected by the Access emulator" });
    }
    return json(200, certsOf(ns));
  }

  return { handle };
}

export type AccessEmulator = ReturnType<typeof createAccessEmulator>;
