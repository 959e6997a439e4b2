/**
 * Webhook delivery logs over REST, for repository hooks, organization hooks and the App's hook: list (newest
 * first, `per_page`, `cursor` paging through `Link`, `status` success|failure), one delivery in full, and a
 * redelivery (202; sent after the answer, as on GitHub). Access as GitHub documents it: "Webhooks" on the
 * repository (`repository_hooks`) or organization (`organization_hooks`), read to look and write to redeliver;
 * the App's hook only with the App's own JWT.
 */
import {
  type ApiRequest,
  type ApiResponse,
  fail,
  invalidEnum,
  jwtRequired,
  notFound,
  perPageOf,
  type Route,
  selfUrl,
} from "./api.ts";
import { authorize } from "./auth.ts";
import {
  type DeliveryRecord,
  deliveryItemJson,
  deliveryJson,
  type HookRecord,
  redeliver,
  track,
} from "./hooks.ts";
import { organizationExists, repositoryExists } from "./state.ts";

const REPO_DOCS = "https://docs.github.com/rest/repos/webhooks";
const ORG_DOCS = "https://docs.github.com/rest/orgs/webhooks";
const APP_DOCS = "https://docs.github.com/rest/apps/webhooks";
const STATUS_FILTERS = ["success", "failure"] as const;
/** Our cursors: `v1_` and the id of the first delivery of the page (GitHub's are opaque strings too). */
const CURSOR = /^v1_(\d+)$/;

/** The hook a request is about, or GitHub's refusal: 404 for what the caller cannot see, then its access. */
function hookOf(request: ApiRequest, level: "read" | "write"): HookRecord | ApiResponse {
  const { ns, identity, params } = request;
  const hookId = Number(params.hook_id);
  if (params.org !== undefined) {
    if (!organizationExists(ns, params.org)) return notFound(ORG_DOCS);
    const permission = "organization_hooks";
    const denial = authorize(identity, { account: params.org, permission, level });
    if (denial !== undefined) return fail(denial.status, denial.message, ORG_DOCS);
    const hook = ns.hooks.get(hookId);
    const org = params.org.toLowerCase();
    return hook?.kind === "organization" && hook.organization?.toLowerCase() === org
      ? hook
      : notFound(ORG_DOCS);
  }
  if (params.owner !== undefined) {
    const { owner, repo = "" } = params;
    if (!repositoryExists(ns, owner, repo)) return notFound(REPO_DOCS);
    const denial = authorize(identity, { account: owner, permission: "repository_hooks", level });
    if (denial !== undefined) return fail(denial.status, denial.message, REPO_DOCS);
    const hook = ns.hooks.get(hookId);
    const repository = `${owner}/${repo}`.toLowerCase();
    return hook?.kind === "repository" && hook.repository?.toLowerCase() === repository
      ? hook
      : notFound(REPO_DOCS);
  }
  if (identity.kind !== "app") return jwtRequired();
  const hook = [...ns.hooks.values()].find(
    (candidate) => candidate.kind === "app" && candidate.appId === identity.appId,
  );
  return hook ?? notFound(APP_DOCS);
}

function isRefusal(value: HookRecord | ApiResponse): value is ApiResponse {
  return "status" in value;
}

function deliveryOf(request: ApiRequest, hook: HookRecord): DeliveryRecord | undefined {
  const id = Number(request.params.delivery_id);
  return hook.deliveries.find((delivery) => delivery.id === id);
}

/** GitHub's ranges for `status`: success is a status code of 200–399, failure 400–599. */
function matchesStatus(delivery: DeliveryRecord, status: string | null): boolean {
  if (status === null) return true;
  const code = delivery.statusCode;
  return status === "success" ? code >= 200 && code <= 399 : code >= 400 && code <= 599;
}

function listDeliveries(request: ApiRequest): ApiResponse {
  const hook = hookOf(request, "read");
  if (isRefusal(hook)) return hook;
  const query = request.url.searchParams;
  const status = query.get("status");
  if (status !== null && !STATUS_FILTERS.some((allowed) => allowed === status)) {
    return invalidEnum("status", status, STATUS_FILTERS);
  }
  const cursor = query.get("cursor");
  const from = cursor === null ? undefined : CURSOR.exec(cursor)?.[1];
  if (cursor !== null && from === undefined) return fail(400, "Invalid cursor");
  const deliveries = hook.deliveries
    .filter(
      (delivery) => matchesStatus(delivery, status) && (from === undefined || delivery.id <= Number(from)),
    )
    .sort((a, b) => b.id - a.id);
  const perPage = perPageOf(request.url);
  const next = deliveries[perPage];
  const headers: Record<string, string> = {};
  if (next !== undefined) {
    const url = selfUrl(request);
    url.searchParams.set("cursor", `v1_${next.id}`);
    headers.link = `<${url.toString()}>; rel="next"`;
  }
  return { status: 200, body: deliveries.slice(0, perPage).map(deliveryItemJson), headers };
}

function getDelivery(request: ApiRequest): ApiResponse {
  const hook = hookOf(request, "read");
  if (isRefusal(hook)) return hook;
  const delivery = deliveryOf(request, hook);
  return delivery === undefined ? notFound() : { status: 200, body: deliveryJson(delivery) };
}

function redeliverDelivery(request: ApiRequest): ApiResponse {
  const hook = hookOf(request, "write");
  if (isRefusal(hook)) return hook;
  const delivery = deliveryOf(request, hook);
  if (delivery === undefined) return notFound();
  void track(request.ns, redeliver(request.ns, hook, delivery));
  return { status: 202, body: {} };
}

const REPO = "/repos/{owner}/{repo}/hooks/{hook_id}/deliveries";
const ORG = "/orgs/{org}/hooks/{hook_id}/deliveries";
const APP = "/app/hook/deliveries";

export const HOOK_ROUTES: Route[] = [REPO, ORG, APP].flatMap((list) => [
  { method: "GET", template: list, handle: listDeliveries },
  { method: "GET", template: `${list}/{delivery_id}`, handle: getDelivery },
  { method: "POST", template: `${list}/{delivery_id}/attempts`, handle: redeliverDelivery },
]);
