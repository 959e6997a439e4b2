/** How the status page writes durations, moments, money and states: short, and the same everywhere. */
import { html } from "hono/html";
import { type JobRecord, WAIT_REASONS, type WaitReason } from "../../ledger/types.ts";
import type { Html } from "./layout.ts";

export function duration(ms: number | null): string {
  if (ms === null) return "—";
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 120_000) return `${(ms / 1000).toFixed(1)} s`;
  if (ms < 7_200_000) return `${Math.round(ms / 60_000)} min`;
  if (ms < 172_800_000) return `${(ms / 3_600_000).toFixed(1)} h`;
  return `${Math.round(ms / 86_400_000)} d`;
}

/** "3.2 s ago", with the exact moment for a hover and for screen readers' `datetime`. */
export function ago(now: number, at: number | null): Html | string {
  if (at === null) return "—";
  const iso = new Date(at).toISOString();
  return html`<time datetime="${iso}" title="${iso}">${duration(Math.max(0, now - at))}</time>`;
}

/** "12 s" since `at`, for an age column (no "ago": the column says what it counts). */
export function age(now: number, at: number | null): Html | string {
  if (at === null) return "—";
  const iso = new Date(at).toISOString();
  return html`<time datetime="${iso}" title="since ${iso}">${duration(Math.max(0, now - at))}</time>`;
}

export function usd(value: number | null): string {
  if (value === null) return "—";
  if (value === 0) return "$0";
  return value < 0.01 ? `$${value.toFixed(4)}` : `$${value.toFixed(2)}`;
}

export function clock(iso: string): string {
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

/** What releases each kind of wait, in the operator's words. */
export const WAIT_EXPLAINED: Record<WaitReason, string> = {
  cap: "the owner is at MAX_RUNNERS_PER_OWNER; goes when one of its runners finishes",
  rate_limited: "GitHub's rate limit or the JIT pace; goes when it is due",
  config: "the dispatch variables do not parse (see Problems); goes once they are fixed",
  paused: "dispatch is paused; goes on Resume",
  unauthenticated: "GitHub refused the credential; tried once more before the job fails",
  modal_busy: "Modal is out of capacity; goes when it is due",
};

export function waitExplained(reason: string): string {
  const known = WAIT_REASONS.find((candidate) => candidate === reason);
  return known === undefined ? reason : WAIT_EXPLAINED[known];
}

/** The job's state as an operator reads it: a waiting job says what for. */
export function stateLabel(job: JobRecord): string {
  if (job.waitReason !== null) return `waiting: ${job.waitReason}`;
  if (job.state === "started") return "runner started";
  return job.state;
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}
