/**
 * Which installation of our App is on an account: the repository's owner, or an organization. Only the App
 * itself may ask (its JWT); GitHub answers 404 when the App is not installed there, which is an answer here,
 * not an error.
 */
import { PermanentError } from "../errors.ts";
import type { Send } from "./credentials.ts";
import { InstallationSchema, parseResponse } from "./schemas.ts";

export interface Installation {
  id: number;
}

const permission = (account: string) =>
  `the App's own JWT (GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY), and the App installed on ${account}`;

async function orUndefined(lookup: Promise<Installation>): Promise<Installation | undefined> {
  try {
    return await lookup;
  } catch (error) {
    if (error instanceof PermanentError && error.status === 404) return undefined;
    throw error;
  }
}

export function getRepoInstallation(
  appSend: Send,
  owner: string,
  repo: string,
): Promise<Installation | undefined> {
  return orUndefined(
    appSend(
      { operation: "getRepoInstallation", subject: `${owner}/${repo}`, permission: permission(owner) },
      (request) => request("GET /repos/{owner}/{repo}/installation", { owner, repo }),
    ).then((result) => ({ id: parseResponse(InstallationSchema, "getRepoInstallation", result.data).id })),
  );
}

export function getOrgInstallation(appSend: Send, org: string): Promise<Installation | undefined> {
  return orUndefined(
    appSend(
      { operation: "getOrgInstallation", subject: `org ${org}`, permission: permission(org) },
      (request) => request("GET /orgs/{org}/installation", { org }),
    ).then((result) => ({ id: parseResponse(InstallationSchema, "getOrgInstallation", result.data).id })),
  );
}
