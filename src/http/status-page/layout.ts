/**
 * The shell every operator page shares: one inline style sheet (no external assets, no build step), and a nonce
 * the page's Content-Security-Policy names — so only our own inline style and script run, nothing injected.
 */
import { html, raw } from "hono/html";
import type { HtmlEscapedString } from "hono/utils/html";

export type Html = HtmlEscapedString | Promise<HtmlEscapedString>;

const STYLE = `
:root { color-scheme: light dark; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --bg: #ffffff;
  --panel: #f6f8fa; --ok: #1a7f37; --warn-bg: #fff8c5; --warn: #7d4e00; --bad-bg: #ffebe9; --bad: #a40e26;
  --info-bg: #ddf4ff; --accent: #0969da; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #e6edf3; --muted: #9198a1; --line: #3d444d; --bg: #0d1117; --panel: #151b23; --ok: #3fb950;
    --warn-bg: #3b2e00; --warn: #e3b341; --bad-bg: #3c0d12; --bad: #ff7b72; --info-bg: #0c2d48; --accent: #4493f8; }
}
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0; color: var(--fg);
  background: var(--bg); }
main { padding: 1rem 1.5rem 3rem; max-width: 110rem; }
a { color: var(--accent); }
h1 { font-size: 1.35rem; margin: 0; } h2 { font-size: 1.1rem; margin: 2rem 0 .4rem; }
h3 { font-size: 1rem; margin: 1.2rem 0 .3rem; }
header { display: flex; flex-wrap: wrap; gap: .5rem 1.5rem; align-items: baseline; padding: .8rem 1.5rem;
  border-bottom: 1px solid var(--line); background: var(--panel); }
header form { display: inline; }
.muted, caption { color: var(--muted); }
.banner { padding: .7rem 1rem; margin: 1rem 0; border-radius: 6px; display: flex; flex-wrap: wrap;
  gap: .6rem 1rem; align-items: center; border: 1px solid var(--line); }
.banner.paused { background: var(--bad-bg); border-color: var(--bad); }
.banner strong { font-size: 1.05rem; }
.issues { list-style: none; padding: 0; margin: .5rem 0; }
.issues li { padding: .4rem .7rem; margin: .25rem 0; border-radius: 4px; border-left: 4px solid; }
.issues .problem { background: var(--bad-bg); border-color: var(--bad); }
.issues .warning { background: var(--warn-bg); border-color: var(--warn); }
.tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(11rem, 1fr)); gap: .7rem; margin: 1rem 0; }
.tile { border: 1px solid var(--line); border-radius: 6px; padding: .6rem .8rem; background: var(--panel); }
.tile .value { display: block; font-size: 1.5rem; font-weight: 650; font-variant-numeric: tabular-nums; }
.tile.felt { border: 2px solid var(--accent); background: var(--info-bg); grid-column: span 2; }
.tile.felt .value { font-size: 1.8rem; } .tile.felt .value span { display: inline-block; margin-right: 1.2rem; }
dl.config { display: grid; grid-template-columns: repeat(auto-fill, minmax(24rem, 1fr)); gap: 0 1.5rem; margin: .3rem 0; }
dl.config div { display: flex; gap: .8rem; justify-content: space-between; border-bottom: 1px solid var(--line);
  padding: .25rem 0; }
dl.config dt { font-weight: 600; } dl.config dd { margin: 0; text-align: right; overflow-wrap: anywhere; }
.scroll { overflow-x: auto; }
table { border-collapse: collapse; margin: .3rem 0 .8rem; min-width: 30rem; }
caption { text-align: left; padding: .2rem 0; }
th, td { border-bottom: 1px solid var(--line); padding: .3rem .6rem; text-align: left; vertical-align: top; }
th { font-weight: 600; background: var(--panel); }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.felt td, tr.felt th { font-weight: 650; background: var(--info-bg); }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .92em; }
.why { max-width: 44rem; } .why div + div { margin-top: .15rem; }
.error { color: var(--bad); }
.state { display: inline-block; padding: 0 .45rem; border-radius: 1rem; border: 1px solid var(--line);
  white-space: nowrap; }
.state.running, .state.finished { border-color: var(--ok); color: var(--ok); }
.state.waiting, .state.queued, .state.dispatching { border-color: var(--warn); color: var(--warn); }
.state.failed { border-color: var(--bad); color: var(--bad); }
meter { width: 8rem; vertical-align: middle; }
button { font: inherit; padding: .35rem .8rem; border-radius: 6px; border: 1px solid var(--line);
  background: var(--bg); color: var(--fg); cursor: pointer; }
button.primary { background: var(--accent); border-color: var(--accent); color: #fff; }
button:focus-visible, a:focus-visible, input:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
.skip { position: absolute; left: -999px; } .skip:focus { left: 1rem; top: .5rem; background: var(--bg); }
`;

export function layout(options: {
  title: string;
  nonce: string;
  body: Html;
  /** Seconds between reloads, when the operator asked for it. */
  refreshSeconds?: number;
}): Html {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
${options.refreshSeconds === undefined ? "" : html`<meta http-equiv="refresh" content="${options.refreshSeconds}">`}
<title>${options.title}</title>
<style nonce="${options.nonce}">${raw(STYLE)}</style>
</head>
<body>
${options.body}
</body>
</html>`;
}
