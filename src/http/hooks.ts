/**
 * Which webhook a genuine delivery came from, so the lost-delivery watcher knows whose deliveries to look through.
 * GitHub names the hook on every delivery (`X-GitHub-Hook-ID`, `X-GitHub-Hook-Installation-Target-Type`); the
 * repository or organization it belongs to is in the payload. Told to the control object once per isolate per
 * hook, after the response is on its way: never a cost per job.
 */
import * as z from "zod/mini";
import type { HookKind, HookSighting } from "../ledger/control.ts";

const PayloadSchema = z.object({
  repository: z.optional(z.object({ full_name: z.string(), owner: z.object({ login: z.string() }) })),
  organization: z.optional(z.object({ login: z.string() })),
  installation: z.optional(z.object({ id: z.number() })),
});

const KINDS: Record<string, HookKind> = {
  repository: "repository",
  organization: "organization",
  integration: "app",
};

export function hookSighting(
  headers: { id: string | undefined; targetType: string | undefined },
  payload: unknown,
  now: number,
): HookSighting | undefined {
  const kind = headers.targetType === undefined ? undefined : KINDS[headers.targetType];
  if (kind === undefined || headers.id === undefined || !/^\d{1,15}$/.test(headers.id)) return undefined;
  const parsed = PayloadSchema.safeParse(payload);
  if (!parsed.success) return undefined;
  const { repository, organization, installation } = parsed.data;
  const owner = repository?.owner.login ?? organization?.login;
  if (owner === undefined) return undefined;
  const target =
    kind === "repository"
      ? repository?.full_name
      : kind === "organization"
        ? (organization?.login ?? owner)
        : "app";
  if (target === undefined) return undefined;
  return { kind, hookId: Number(headers.id), target, owner, installationId: installation?.id ?? null, now };
}

const told = new Set<string>();

/** True the first time this isolate sees the hook (the caller then tells the control object). */
export function firstSighting(sighting: HookSighting): boolean {
  const key = `${sighting.kind}:${sighting.hookId}`;
  if (told.has(key)) return false;
  if (told.size > 1000) told.clear();
  told.add(key);
  return true;
}
