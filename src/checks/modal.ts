/**
 * The Modal checks, with a client of their own (no cached auth token, no retries: a health check reports what it
 * sees). Direct mode: AuthTokenGet (the token pair), then AppGetOrCreate for MODAL_APP_NAME in MODAL_ENVIRONMENT
 * — idempotent, it creates the app only where the dispatcher would on its first job. Launcher mode: the launcher's
 * `/app`, which passes Modal's proxy auth, the launcher's signature check and its own AppGetOrCreate.
 */
import type { ModalConfig } from "../config/dispatch.ts";
import { UpstreamError } from "../errors.ts";
import { createModalClient } from "../sandboxes/direct/client.ts";
import { GrpcCode } from "../sandboxes/direct/grpc/status.ts";
import { createLauncherClient } from "../sandboxes/launcher/client.ts";
import { LAUNCHER_REASONS, PROXY_HINT, URL_HINT } from "../sandboxes/launcher/errors.ts";
import { CHECK_TIMEOUT_MS, type CheckDeps, type CheckResult, failed, messageOf, passed } from "./check.ts";

/** A cold launcher container takes a few seconds before it answers. */
const LAUNCHER_TIMEOUT_MS = 15_000;
const MODAL_STATUS = "https://status.modal.com";

const environmentName = (environment: string | undefined) =>
  environment === undefined ? "the workspace's default environment" : `environment ${environment}`;

function directFix(error: unknown, modal: Extract<ModalConfig, { mode: "direct" }>): string {
  const code = error instanceof UpstreamError ? error.grpcCode : undefined;
  const operation = error instanceof UpstreamError ? error.operation : "";
  switch (code) {
    case GrpcCode.UNAUTHENTICATED:
      return "MODAL_TOKEN_ID and MODAL_TOKEN_SECRET must be one token pair of the workspace the runners run in: create one (`modal token new`, or Settings → API Tokens) and set both";
    case GrpcCode.PERMISSION_DENIED:
      return operation === "AuthTokenGet"
        ? "Modal knows the token but lets it into no workspace: use a token of a member of the runners' workspace"
        : `the token may not use ${environmentName(modal.environment)}: use a token with access to it, or another MODAL_ENVIRONMENT`;
    case GrpcCode.NOT_FOUND:
      return modal.environment === undefined
        ? "Modal found no default environment for the token's workspace: set MODAL_ENVIRONMENT to one of its environments"
        : `MODAL_ENVIRONMENT names no environment of the token's workspace: create it (\`modal environment create ${modal.environment}\`) or unset MODAL_ENVIRONMENT for the default`;
    case GrpcCode.INVALID_ARGUMENT:
      return "Modal refused the app name: MODAL_APP_NAME must be 1-64 letters, digits, '.', '_' or '-'";
    case GrpcCode.UNIMPLEMENTED:
      return "MODAL_SERVER_URL is not Modal's API server (leave it unset for https://api.modal.com)";
    case GrpcCode.RESOURCE_EXHAUSTED:
      return "Modal is rate-limiting the token: check again in a minute";
    default:
      return `Modal did not answer as expected: check MODAL_SERVER_URL (unset means https://api.modal.com) and ${MODAL_STATUS}`;
  }
}

async function checkDirect(
  modal: Extract<ModalConfig, { mode: "direct" }>,
  deps: CheckDeps,
): Promise<CheckResult[]> {
  const client = createModalClient({
    serverUrl: modal.serverUrl,
    tokenId: modal.tokenId,
    tokenSecret: modal.tokenSecret,
    fetch: deps.fetch,
    now: deps.now,
    logger: deps.logger,
    timeoutMs: CHECK_TIMEOUT_MS,
    retry: { attempts: 1 },
    ...(modal.environment === undefined ? {} : { environment: modal.environment }),
  });
  try {
    await client.authenticate();
  } catch (error) {
    return [failed("modal.auth", messageOf(error), directFix(error, modal))];
  }
  const auth = passed("modal.auth", "Modal accepts MODAL_TOKEN_ID / MODAL_TOKEN_SECRET (AuthTokenGet)");
  try {
    await client.ensureApp(modal.appName, modal.environment);
  } catch (error) {
    return [auth, failed("modal.app", messageOf(error), directFix(error, modal))];
  }
  return [
    auth,
    passed(
      "modal.app",
      `the app ${modal.appName} is there in ${environmentName(modal.environment)} (AppGetOrCreate)`,
    ),
  ];
}

/** What to do about each way the launcher's `/app` can fail, in the operator's words. */
function launcherFix(reason: string): string {
  switch (reason) {
    case "proxy_unauthorized":
      return `Modal's proxy refused the proxy token before the launcher saw the request: ${PROXY_HINT}; create one under Settings → Proxy Auth Tokens of that workspace and set both`;
    case "bad_signature":
      return "LAUNCHER_SECRET differs from LAUNCHER_SECRET in the launcher's Modal secret (actions-on-modal-launcher): set both to the same value, then redeploy the launcher";
    case "modal_rejected":
      // `/app` only looks the app up: what Modal can refuse there is the environment (or the name).
      return "Modal refused the launcher's app lookup: MODAL_ENVIRONMENT must name an environment of the launcher's workspace (create it, or unset MODAL_ENVIRONMENT for the default), and MODAL_APP_NAME be a valid app name";
    case "stale_timestamp":
      return "the Worker's clock and the launcher's differ by more than 300 s: the signature's timestamp is refused (check the clock of wherever the Worker runs)";
    case "network":
    case "timeout":
    case "unavailable":
      return `the launcher did not answer: is MODAL_LAUNCHER_URL the URL \`modal deploy modal/launcher.py\` printed, and is the app deployed? (${MODAL_STATUS})`;
    default:
      return LAUNCHER_REASONS[reason]?.hint ?? URL_HINT;
  }
}

async function checkLauncher(
  modal: Extract<ModalConfig, { mode: "launcher" }>,
  deps: CheckDeps,
): Promise<CheckResult[]> {
  const client = createLauncherClient({
    url: modal.launcherUrl,
    proxyTokenId: modal.proxyTokenId,
    proxyTokenSecret: modal.proxyTokenSecret,
    launcherSecret: modal.launcherSecret,
    fetch: deps.fetch,
    now: deps.now,
    logger: deps.logger,
    timeoutMs: LAUNCHER_TIMEOUT_MS,
  });
  try {
    await client.ensureApp(modal.appName, modal.environment);
  } catch (error) {
    const reason = error instanceof UpstreamError ? error.reason : "unexpected";
    return [failed("modal.launcher", messageOf(error), launcherFix(reason))];
  }
  return [
    passed(
      "modal.launcher",
      `the launcher accepts the proxy token and LAUNCHER_SECRET, and has the app ${modal.appName} in ${environmentName(modal.environment)}`,
    ),
  ];
}

export function checkModal(modal: ModalConfig, deps: CheckDeps): Promise<CheckResult[]> {
  return modal.mode === "direct" ? checkDirect(modal, deps) : checkLauncher(modal, deps);
}
