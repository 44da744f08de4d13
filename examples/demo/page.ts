// The demo page: one HTML document with inline CSS and JS, no external assets. It follows a
// topic (plus `system` ticks) with EventSource, shows the connection state, reconnections and
// the hub's live subscriber count (polled from /stats), and publishes through POST /publish.
// Every received value is written with textContent: anyone may publish, so nothing is HTML.

export const PAGE_HTML: string = /* html */ `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sse-hub demo</title>
<link rel="icon" href="data:,">
<style>
  :root {
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
</style>
</head>
<body>
<header>
  <h1>sse-hub <span>demo</span></h1>
  <div class="stat"><small>Connection</small><span id="state" class="badge connecting">connecting</span></div>
  <div class="stat"><small>Reconnects</small><b id="reconnects">0</b></div>
  <div class="stat"><small>Subscribers</small><b id="subscribers">–</b></div>
  <div class="stat"><small>Last event id</small><b id="last-id">–</b></div>
  <div class="stat"><small>Server tick</small><b id="tick">–</b></div>
</header>
<main>
  <aside>
    <section>
      <h2>Subscribe</h2>
      <form id="subscribe">
        <label for="topic">Topic</label>
        <input id="topic" name="topic" value="chat" required pattern="[A-Za-z0-9_][A-Za-z0-9_.:\\-]{0,127}" autocomplete="off">
        <div class="row">
          <button type="submit">Follow</button>
          <button type="button" id="toggle" class="secondary">Disconnect</button>
        </div>
        <p class="hint">Streams <code id="stream-url"></code>; ticks arrive on topic <code>system</code>.</p>
      </form>
    </section>
    <section>
      <h2>Publish</h2>
      <form id="publish">
        <label for="pub-topic">Topic</label>
        <input id="pub-topic" name="topic" value="chat" required autocomplete="off">
        <label for="pub-msg">Message</label>
        <textarea id="pub-msg" name="msg" required placeholder="Hello, world! Several lines are fine."></textarea>
        <div class="row">
          <button type="submit" id="send">Publish</button>
          <span id="result" role="status"></span>
        </div>
        <p class="hint">POST /publish · Ctrl+Enter sends</p>
      </form>
    </section>
  </aside>
  <section>
    <div class="log-head">
      <h2>Events <span id="count"></span></h2>
      <button type="button" id="clear" class="secondary">Clear</button>
    </div>
    <ul id="log" aria-live="polite"></ul>
    <p id="empty">No events yet. Publish something.</p>
  </section>
</main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
let source = null;
let opens = 0;
let received = 0;

function setState(state) {
  $("state").textContent = state;
  $("state").className = "badge " + state;
  $("toggle").textContent = state === "closed" ? "Connect" : "Disconnect";
}

function clock(date) {
  return date.toLocaleTimeString([], { hour12: false });
}

function addEntry(kind, id, data) {
  const li = document.createElement("li");
  li.dataset.event = kind;
  li.dataset.id = id;
  if (kind === "sse-hub:reset") li.className = "reset";
  const time = document.createElement("time");
  time.textContent = clock(new Date());
  const meta = document.createElement("div");
  meta.className = "meta";
  const type = document.createElement("b");
  type.textContent = kind;
  meta.append(type, id ? " · id " + id : "");
  const pre = document.createElement("pre");
  pre.textContent = data;
  li.append(time, meta, pre);
  $("log").prepend(li);
  received++;
  $("count").textContent = "(" + received + ")";
  $("empty").hidden = true;
}

function connect() {
  if (source) source.close();
  const topic = $("topic").value.trim();
  const url = "/events/" + (topic === "system" ? "system" : encodeURIComponent(topic) + ",system");
  $("stream-url").textContent = "GET " + url;
  history.replaceState(null, "", "#" + encodeURIComponent(topic));
  opens = 0;
  $("reconnects").textContent = "0";
  setState("connecting");
  const es = new EventSource(url);
  source = es;
  es.onopen = () => {
    if (source !== es) return;
    if (++opens > 1) $("reconnects").textContent = String(opens - 1);
    setState("open");
  };
  es.onerror = () => {
    if (source !== es) return;
    setState(es.readyState === EventSource.CLOSED ? "closed" : "connecting");
  };
  const show = (event) => {
    if (event.lastEventId) $("last-id").textContent = event.lastEventId;
    addEntry(event.type, event.lastEventId, event.data);
  };
  es.onmessage = show;
  es.addEventListener("sse-hub:reset", show);
  es.addEventListener("tick", (event) => {
    if (event.lastEventId) $("last-id").textContent = event.lastEventId;
    try {
      $("tick").textContent = clock(new Date(JSON.parse(event.data).time));
    } catch {
      $("tick").textContent = "?";
    }
  });
}

$("subscribe").addEventListener("submit", (event) => {
  event.preventDefault();
  $("pub-topic").value = $("topic").value.trim();
  connect();
});

$("toggle").addEventListener("click", () => {
  if (source && source.readyState !== EventSource.CLOSED) {
    source.close();
    setState("closed");
  } else connect();
});

$("clear").addEventListener("click", () => {
  $("log").replaceChildren();
  received = 0;
  $("count").textContent = "";
  $("empty").hidden = false;
});

$("publish").addEventListener("submit", async (event) => {
  event.preventDefault();
  const result = $("result");
  $("send").disabled = true;
  try {
    const response = await fetch("/publish", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ topic: $("pub-topic").value.trim(), msg: $("pub-msg").value }),
    });
    const body = await response.json();
    if (response.ok) {
      result.className = "ok";
      result.textContent = "✓ delivered to " + body.delivered + " · id " + body.id;
      $("pub-msg").value = "";
    } else {
      result.className = "error";
      result.textContent = response.status + ": " + body.error;
    }
  } catch (error) {
    result.className = "error";
    result.textContent = "network error: " + error.message;
  } finally {
    $("send").disabled = false;
  }
});

$("pub-msg").addEventListener("keydown", (event) => {
  if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) $("publish").requestSubmit();
});

async function pollStats() {
  try {
    const response = await fetch("/stats", { cache: "no-store" });
    if (response.ok) $("subscribers").textContent = String((await response.json()).subscribers);
  } catch {
    $("subscribers").textContent = "–";
  }
}

try {
  const fromHash = decodeURIComponent(location.hash.slice(1));
  if (fromHash) $("topic").value = $("pub-topic").value = fromHash;
} catch {
  // Not a topic: keep the default.
}
connect();
pollStats();
setInterval(pollStats, 2000);
</script>
</body>
</html>
`;
