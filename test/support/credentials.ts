/** Credentials the test Workers are configured with (vitest.config.ts) — none of them real. */
export const TEST_PROXY_TOKEN = { id: "wk-testproxy0000", secret: "ws-testproxy0000" };
