// The demo page's stylesheet (light and dark), inlined into the page by page.ts.

export const PAGE_CSS: string = /* css */ `  :root {
    color-scheme: light dark;
    --bg: #f5f6f8; --card: #fff; --text: #1c2330; --muted: #677185; --line: #e2e5eb;
    --accent: #3b5bdb; --ok: #2b8a3e; --warn: #c77700; --bad: #c92a2a; --code: #f1f3f5;
  }
  @media (prefers-color-scheme: dark) {
    :root { --bg: #12151b; --card: #1b2029; --text: #e6e9ef; --muted: #95a0b3; --line: #2b323e;
      --accent: #7c93ff; --ok: #51cf66; --warn: #fcc419; --bad: #ff6b6b; --code: #232a35; }
  }
  * { box-sizing: border-box; }
  body { margin: 0; background: var(--bg); color: var(--text);
    font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
  header { display: flex; flex-wrap: wrap; align-items: center; gap: 12px 20px; padding: 14px 24px;
    background: var(--card); border-bottom: 1px solid var(--line); }
  h1 { font-size: 18px; margin: 0 8px 0 0; letter-spacing: -0.01em; }
  h1 span { color: var(--muted); font-weight: 400; }
  h2 { font-size: 13px; text-transform: uppercase; letter-spacing: .06em; color: var(--muted); margin: 0 0 12px; }
  .stat { display: flex; flex-direction: column; min-width: 84px; }
  .stat small { color: var(--muted); font-size: 11px; text-transform: uppercase; letter-spacing: .05em; }
  .stat b { font-variant-numeric: tabular-nums; font-weight: 600; }
  .badge { display: inline-flex; align-items: center; gap: 6px; padding: 2px 10px; border-radius: 999px;
    font-size: 13px; font-weight: 600; background: var(--code); }
  .badge::before { content: ""; width: 8px; height: 8px; border-radius: 50%; background: currentColor; }
  .badge.open { color: var(--ok); } .badge.connecting { color: var(--warn); } .badge.closed { color: var(--bad); }
  main { display: grid; grid-template-columns: minmax(280px, 360px) 1fr; gap: 20px; padding: 20px 24px;
    max-width: 1200px; margin: 0 auto; }
  @media (max-width: 760px) { main { grid-template-columns: 1fr; } }
  section { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 16px; }
  aside { display: flex; flex-direction: column; gap: 20px; }
  label { display: block; font-size: 13px; color: var(--muted); margin: 10px 0 4px; }
  label:first-of-type { margin-top: 0; }
  label.check { display: flex; gap: 8px; align-items: baseline; color: var(--text); }
  label.check input { width: auto; }
  #failure { color: var(--warn); min-height: 1em; }
  input, textarea { width: 100%; padding: 8px 10px; border: 1px solid var(--line); border-radius: 6px;
    background: var(--bg); color: var(--text); font: inherit; }
  textarea { min-height: 96px; resize: vertical; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: 13px; }
  input:focus, textarea:focus { outline: 2px solid var(--accent); outline-offset: -1px; }
  .row { display: flex; gap: 8px; margin-top: 12px; align-items: center; }
  button { padding: 8px 14px; border: 0; border-radius: 6px; background: var(--accent); color: #fff;
    font: inherit; font-weight: 600; cursor: pointer; }
  button.secondary { background: var(--code); color: var(--text); }
  button:disabled { opacity: .5; cursor: default; }
  .hint { color: var(--muted); font-size: 12px; margin-top: 8px; }
  #result { font-size: 13px; min-height: 1.4em; }
  #result.error { color: var(--bad); } #result.ok { color: var(--ok); }
  .log-head { display: flex; justify-content: space-between; align-items: center; margin-bottom: 8px; }
  .log-head h2 { margin: 0; }
  .log-head button { padding: 4px 12px; font-size: 13px; }
  #log { list-style: none; margin: 0; padding: 0; max-height: calc(100vh - 190px); overflow: auto; }
  #log li { display: grid; grid-template-columns: 76px 1fr; gap: 4px 12px; padding: 10px 4px;
    border-top: 1px solid var(--line); animation: in .25s ease-out; }
  #log li:first-child { border-top: 0; }
  #log time { color: var(--muted); font-size: 12px; font-variant-numeric: tabular-nums; padding-top: 2px; }
  #log .meta { font-size: 12px; color: var(--muted); }
  #log .meta b { color: var(--accent); font-weight: 600; }
  #log li.reset .meta b { color: var(--warn); }
  #log pre { grid-column: 2; margin: 0; padding: 8px 10px; background: var(--code); border-radius: 6px;
    white-space: pre-wrap; word-break: break-word; font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, monospace; }
  #empty { color: var(--muted); text-align: center; padding: 32px 0; }
  @keyframes in { from { background: color-mix(in srgb, var(--accent) 12%, transparent); } to { background: transparent; } }
`;
