/**
 * The control API's hook endpoints: create or replace a hook, read its delivery log in full, send it a delivery.
 * (The REST view of the same logs is hook-routes.ts.)
 */
import type { DeliveryState, HookSeed } from "./control.ts";
import { type DeliveryRecord, deliver, type HookRecord } from "./hooks.ts";
import { type Namespace, repositoryOf } from "./state.ts";

export type ControlAnswer = { status: number; body: unknown };

const bad = (error: string): ControlAnswer => ({ status: 400, body: { error } });

export function createHook(ns: Namespace, seed: HookSeed): ControlAnswer {
  if (seed.kind === "repository" && !/^[^/\s]+\/[^/\s]+$/.test(seed.repository ?? "")) {
    return bad("a repository hook needs repository: owner/repo");
  }
  if (seed.kind === "organization" && (seed.organization ?? "") === "") {
    return bad("an organization hook needs organization");
  }
  if (seed.kind === "app" && (seed.appId === undefined || !ns.apps.has(seed.appId))) {
    return bad("an App hook needs the appId of a seeded App");
  }
  if (seed.url !== undefined && !URL.canParse(seed.url)) return bad("url is not a URL");
  const id = seed.id ?? ns.nextEntityId++;
  const hook: HookRecord = {
    id,
    kind: seed.kind,
    repository: seed.kind === "repository" ? seed.repository : undefined,
    organization: seed.kind === "organization" ? seed.organization : undefined,
    appId: seed.kind === "app" ? seed.appId : undefined,
    url: seed.url,
    secret: seed.secret,
    contentType: seed.contentType ?? "json",
    deliveries: ns.hooks.get(id)?.deliveries ?? [],
  };
  // An App has one hook: a new one replaces the old.
  if (hook.kind === "app") {
    for (const other of ns.hooks.values()) {
      if (other.kind === "app" && other.appId === hook.appId && other.id !== id) ns.hooks.delete(other.id);
    }
  }
  ns.hooks.set(id, hook);
  return { status: 200, body: { id } };
}

export function deliveryState(delivery: DeliveryRecord): DeliveryState {
  const { url, ...rest } = delivery;
  return url === undefined ? rest : { ...rest, url };
}

function numberAt(payload: Record<string, unknown>, key: string): number | null {
  const value: unknown = payload[key];
  if (typeof value !== "object" || value === null) return null;
  const id: unknown = Reflect.get(value, "id");
  return typeof id === "number" ? id : null;
}

/** A delivery of what the test says, with GitHub's metadata read from the payload as GitHub reads it. */
export async function sendDelivery(
  ns: Namespace,
  hook: HookRecord,
  input: {
    event: string;
    action?: string | null | undefined;
    payload: Record<string, unknown>;
    guid?: string | undefined;
    statusCode?: number | undefined;
  },
): Promise<DeliveryRecord> {
  const payloadAction = input.payload.action;
  let repositoryId = numberAt(input.payload, "repository");
  if (repositoryId === null && hook.kind === "repository") {
    const [owner = "", name = ""] = (hook.repository ?? "").split("/");
    repositoryId = repositoryOf(ns, owner, name).id;
  }
  return deliver(ns, hook, {
    event: input.event,
    action:
      input.action !== undefined ? input.action : typeof payloadAction === "string" ? payloadAction : null,
    payload: input.payload,
    guid: input.guid ?? crypto.randomUUID(),
    installationId: numberAt(input.payload, "installation"),
    repositoryId,
    ...(input.statusCode === undefined ? {} : { statusCode: input.statusCode }),
  });
}
