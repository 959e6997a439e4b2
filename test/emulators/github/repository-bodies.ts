/**
 * Accounts and repositories as GitHub shows them: `simple-user` for an owner and `minimal-repository` for a
 * workflow run's repository and a webhook payload's (an App's `integration` is in app-bodies.ts). Every URL field GitHub marks
 * required is there; they point at the emulator.
 */
import { base64, simpleUser } from "./bodies.ts";
import { accountOf, type Namespace, type RepositoryRecord } from "./state.ts";

export function accountJson(ns: Namespace, login: string, base: string) {
  const account = accountOf(ns, login);
  const user = simpleUser(account.login, account.id, base, account.type);
  if (account.type !== "Organization") return user;
  // Organizations are addressed under /orgs in the API.
  const url = `${base}/orgs/${account.login}`;
  return {
    ...user,
    node_id: base64(`04:Organization${account.id}`),
    url,
    repos_url: `${url}/repos`,
    events_url: `${url}/events`,
  };
}

export function minimalRepositoryJson(ns: Namespace, repository: RepositoryRecord, base: string) {
  const fullName = `${repository.owner}/${repository.name}`;
  const url = `${base}/repos/${fullName}`;
  const at = (suffix: string) => `${url}/${suffix}`;
  return {
    id: repository.id,
    node_id: base64(`010:Repository${repository.id}`),
    name: repository.name,
    full_name: fullName,
    owner: accountJson(ns, repository.owner, base),
    private: repository.private,
    html_url: `https://github.com/${fullName}`,
    description: null,
    fork: false,
    url,
    archive_url: at("{archive_format}{/ref}"),
    assignees_url: at("assignees{/user}"),
    blobs_url: at("git/blobs{/sha}"),
    branches_url: at("branches{/branch}"),
    collaborators_url: at("collaborators{/collaborator}"),
    comments_url: at("comments{/number}"),
    commits_url: at("commits{/sha}"),
    compare_url: at("compare/{base}...{head}"),
    contents_url: at("contents/{+path}"),
    contributors_url: at("contributors"),
    deployments_url: at("deployments"),
    downloads_url: at("downloads"),
    events_url: at("events"),
    forks_url: at("forks"),
    git_commits_url: at("git/commits{/sha}"),
    git_refs_url: at("git/refs{/sha}"),
    git_tags_url: at("git/tags{/sha}"),
    hooks_url: at("hooks"),
    issue_comment_url: at("issues/comments{/number}"),
    issue_events_url: at("issues/events{/number}"),
    issues_url: at("issues{/number}"),
    keys_url: at("keys{/key_id}"),
    labels_url: at("labels{/name}"),
    languages_url: at("languages"),
    merges_url: at("merges"),
    milestones_url: at("milestones{/number}"),
    notifications_url: at("notifications{?since,all,participating}"),
    pulls_url: at("pulls{/number}"),
    releases_url: at("releases{/id}"),
    stargazers_url: at("stargazers"),
    statuses_url: at("statuses/{sha}"),
    subscribers_url: at("subscribers"),
    subscription_url: at("subscription"),
    tags_url: at("tags"),
    teams_url: at("teams"),
    trees_url: at("git/trees{/sha}"),
  };
}
