/**
 * A webhook's delivery log and redelivery: how a lost `workflow_job` delivery is found and sent again (GitHub
 * never redelivers on its own). Repository and organization hooks are read with the PAT or the installation
 * token; the App's hook only with the App's JWT (`appSend`), which GitHub requires there.
 *
 * One page per call, newest first: the caller decides how far back to look, and passes `nextCursor` on.
 */
import type { Send, SendSpec } from "./credentials.ts";
import { badResponse } from "./errors.ts";
import { nextLink } from "./pages.ts";
import { type HookDelivery, HookDeliveryListSchema, parseResponse, toHookDelivery } from "./schemas.ts";
import type { CallResult, OctokitRequest } from "./transport.ts";

export type HookRef =
  | { kind: "repository"; owner: string; repo: string; hookId: number }
  | { kind: "organization"; org: string; hookId: number }
  | { kind: "app" };

export interface ListHookDeliveriesOptions {
  /** From a previous page's `nextCursor`. */
  cursor?: string | undefined;
  /** 1–100; default 100. */
  perPage?: number;
}

export interface HookDeliveryPage {
  deliveries: HookDelivery[];
  /** Undefined on the last page. */
  nextCursor: string | undefined;
}

const DEFAULT_PER_PAGE = 100;

function describeHook(hook: HookRef): string {
  if (hook.kind === "repository") return `${hook.owner}/${hook.repo} hook ${hook.hookId}`;
  if (hook.kind === "organization") return `org ${hook.org} hook ${hook.hookId}`;
  return "the App's webhook";
}

function hookPermission(hook: HookRef, level: "read" | "write"): string {
  const webhooks = level === "read" ? `"Webhooks: read"` : `"Webhooks: read & write"`;
  if (hook.kind === "repository") {
    const classic = level === "read" ? `"read:repo_hook"` : `"write:repo_hook"`;
    return `${webhooks} on ${hook.owner}/${hook.repo} (fine-grained token or GitHub App), or the classic token scope ${classic}`;
  }
  if (hook.kind === "organization") {
    return `${webhooks} on the organization ${hook.org} (fine-grained token or GitHub App), or the classic token scope "admin:org_hook"`;
  }
  return "the App's own JWT (GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY); installation tokens and PATs cannot read the App's webhook";
}

/** The route and its parameters for a hook's deliveries, `suffix` appended (`/{delivery_id}/attempts`). */
function route(hook: HookRef, method: "GET" | "POST", suffix: string) {
  if (hook.kind === "repository") {
    return {
      route: `${method} /repos/{owner}/{repo}/hooks/{hook_id}/deliveries${suffix}`,
      params: { owner: hook.owner, repo: hook.repo, hook_id: hook.hookId },
    };
  }
  if (hook.kind === "organization") {
    return {
      route: `${method} /orgs/{org}/hooks/{hook_id}/deliveries${suffix}`,
      params: { org: hook.org, hook_id: hook.hookId },
    };
  }
  return { route: `${method} /app/hook/deliveries${suffix}`, params: {} };
}

export interface HookDeliveryApi {
  list(hook: HookRef, options?: ListHookDeliveriesOptions): Promise<HookDeliveryPage>;
  redeliver(hook: HookRef, deliveryId: number): Promise<void>;
}

export function createHookDeliveryApi(senders: {
  send: Send;
  appSend: Send;
  baseUrl: string;
}): HookDeliveryApi {
  const origin = new URL(senders.baseUrl).origin;
  const sendFor = (hook: HookRef) => (hook.kind === "app" ? senders.appSend : senders.send);
  const call = (hook: HookRef, spec: SendSpec, method: "GET" | "POST", suffix: string, query: object) => {
    const { route: name, params } = route(hook, method, suffix);
    return sendFor(hook)(
      spec,
      (request: OctokitRequest): Promise<CallResult> => request(name, { ...params, ...query }),
    );
  };

  return {
    async list(hook, options = {}) {
      const spec = {
        operation: "listHookDeliveries",
        subject: describeHook(hook),
        permission: hookPermission(hook, "read"),
      };
      const perPage = Math.min(Math.max(1, Math.trunc(options.perPage ?? DEFAULT_PER_PAGE)), 100);
      const result = await call(hook, spec, "GET", "", {
        per_page: perPage,
        ...(options.cursor === undefined ? {} : { cursor: options.cursor }),
      });
      const deliveries = parseResponse(HookDeliveryListSchema, spec.operation, result.data).map(
        toHookDelivery,
      );
      const next = nextLink(result);
      if (next === undefined) return { deliveries, nextCursor: undefined };
      // The cursor is all we take from the link; a link elsewhere still means the answer is not GitHub's.
      if (!URL.canParse(next) || new URL(next).origin !== origin) throw badResponse(spec.operation);
      const cursor = new URL(next).searchParams.get("cursor");
      if (cursor === null || cursor === "") throw badResponse(spec.operation);
      return { deliveries, nextCursor: cursor };
    },

    async redeliver(hook, deliveryId) {
      await call(
        hook,
        {
          operation: "redeliverHookDelivery",
          subject: `${describeHook(hook)} delivery ${deliveryId}`,
          permission: hookPermission(hook, "write"),
        },
        "POST",
        "/{delivery_id}/attempts",
        { delivery_id: deliveryId },
      );
    },
  };
}
