/**
 * The port the dispatcher depends on. Two adapters implement it: the direct gRPC client (`direct/client.ts`) and the
 * launcher client (`launcher/client.ts`), which calls a small app deployed on Modal with Modal's own SDK.
 *
 * App and image handles are opaque strings: the direct client returns Modal object ids (`ap-…`, `im-…`); the
 * launcher may return its own handles. Callers cache both, so a CPU job costs one call to `startRunner`.
 */
export interface RunnerSandboxSpec {
  appId: string;
  imageId: string;
  /** Unique among the app's running sandboxes: the natural idempotency key of one runner. */
  name: string;
  /** The entrypoint, e.g. `["/home/runner/run.sh"]`. Never carries a secret. */
  command: string[];
  /** Passed as a secret, never as arguments, tags or names (the JIT config lives here). */
  env: Record<string, string>;
  /** Physical cores, e.g. 2 (Modal counts 1,000 milli-CPU per core). */
  cpu: number;
  memoryMiB: number;
  timeoutSeconds: number;
  tags: Record<string, string>;
  /** A Modal GPU type such as `A10G`, optionally with a count: `H100:2`. */
  gpu?: string;
  /** Modal regions the sandbox may be scheduled in (e.g. `us-east`); any region when absent. */
  regions?: readonly string[];
}

export interface StartedSandbox {
  sandboxId: string;
  /** True when a sandbox with this name already existed and was reused. */
  alreadyStarted: boolean;
}

export interface SandboxSummary {
  sandboxId: string;
  name: string | undefined;
  tags: Record<string, string>;
  /** Milliseconds since the epoch. */
  createdAt: number;
}

export interface SandboxProvider {
  ensureApp(name: string, environment?: string): Promise<string>;
  ensureImage(appId: string, registryTag: string): Promise<string>;
  startRunner(spec: RunnerSandboxSpec): Promise<StartedSandbox>;
  /** Running sandboxes of the app whose tags include every given tag. */
  listRunners(appId: string, tags: Record<string, string>): Promise<SandboxSummary[]>;
  /** Ends a sandbox; one that is already gone is not an error. */
  terminate(sandboxId: string): Promise<void>;
}
