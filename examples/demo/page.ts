// The demo page: one HTML document with inline CSS and JS; its one other asset is sse-hub's own
// client, imported from GET /client.js (the bundle of client.ts). It follows a topic (plus
// `system` ticks) with `connect()`, optionally as a private stream behind `Authorization: Bearer`
// with a fresh single-use ticket for every reconnect; it shows the connection state,
// reconnections, the last failure, the hub's reset event (and reloads its state on it), and
// the live subscriber count (polled from /stats), who is here on every instance (`presence`
// snapshots, merged by instance), and publishes through POST /publish.
// Every received value is written with textContent: anyone may publish, so nothing is HTML.

import { PAGE_CSS } from "./page_style.ts";

export const PAGE_HTML: string = /* html */ `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>sse-hub demo</title>
<link rel="icon" href="data:,">
<style>
${PAGE_CSS}</style>
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
        <input id="topic" name="topic" value="chat" required pattern="(?!.*\\.\\.)[A-Za-z0-9_][A-Za-z0-9_.:\\-]{0,127}" autocomplete="off">
        <label class="check"><input type="checkbox" id="private"><span>Private:
          <code>Authorization: Bearer</code> with a fresh ticket on every connect</span></label>
        <div class="row">
          <button type="submit">Follow</button>
          <button type="button" id="toggle" class="secondary">Disconnect</button>
        </div>
        <p class="hint">Streams <code id="stream-url"></code>; ticks arrive on topic <code>system</code>.</p>
        <p class="hint" id="failure" role="status"></p>
      </form>
    </section>
    <section>
      <h2>Who is here <span id="here-count"></span></h2>
      <label for="name">Your name</label>
      <input id="name" maxlength="32" pattern="[\\p{L}\\p{N} _.\\-]{1,32}" autocomplete="nickname">
      <ul id="here"></ul>
      <p class="hint">Every instance publishes who is connected to it on topic <code>presence</code>.</p>
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
<script type="module">
import { connect } from "/client.js";

const $ = (id) => document.getElementById(id);
let connection = null;
let received = 0;
const here = new Map(); // instance → { names, until }: the latest snapshot of each instance

function showHere() {
  const names = new Set();
  for (const [instance, snapshot] of here) {
    if (snapshot.until < Date.now()) here.delete(instance); // not heard from for 3 heartbeats
    else for (const name of snapshot.names) names.add(name);
  }
  $("here").replaceChildren(...[...names].sort().map((name) => {
    const li = document.createElement("li");
    li.textContent = name;
    return li;
  }));
  $("here-count").textContent = "(" + names.size + ")";
}

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

// A single-use ticket for every (re)connect: the client calls this before each attempt.
async function ticketHeader() {
  const response = await fetch("/private/token", { method: "POST" });
  const { token } = await response.json();
  return { authorization: "Bearer " + token };
}

async function follow(current) {
  try {
    for await (const item of current) {
      if (connection !== current) return;
      if (item.id) $("last-id").textContent = item.id;
      if (item.type === "reset") {
        // Events were missed that no replay can bring back: say so, and reload what the page keeps.
        addEntry("sse-hub:reset", item.id, "missed events cannot be replayed (" + item.reason + "); state reloaded");
        pollStats();
      } else if (item.event === "presence") {
        try {
          const { instance, names, heartbeatMs } = JSON.parse(item.data);
          here.set(instance, { names, until: Date.now() + 3 * heartbeatMs });
        } catch {
          // Not a snapshot: anyone may publish to any topic.
        }
        showHere();
      } else if (item.event === "tick") {
        try {
          $("tick").textContent = clock(new Date(JSON.parse(item.data).time));
        } catch {
          $("tick").textContent = "?";
        }
      } else addEntry(item.event, item.id, item.data);
    }
  } catch (error) {
    if (connection === current) $("failure").textContent = "stopped: " + error.message;
  }
}

function start() {
  if (connection) connection.close();
  const topic = $("topic").value.trim();
  const topics = [...new Set([topic, "system", "presence"])].map(encodeURIComponent).join(",");
  const isPrivate = $("private").checked;
  const name = $("name").value.trim();
  localStorage.setItem("sse-hub-demo-name", name);
  const url = (isPrivate ? "/private/events/" : "/events/") + topics + (name ? "?name=" + encodeURIComponent(name) : "");
  $("stream-url").textContent = "GET " + url + (isPrivate ? " (Authorization: Bearer …)" : "");
  history.replaceState(null, "", "#" + encodeURIComponent(topic) + (isPrivate ? ";private" : ""));
  $("reconnects").textContent = "0";
  $("failure").textContent = "";
  const current = connect(url, {
    headers: isPrivate ? ticketHeader : {},
    pauseWhenHidden: true,
    onState: (state) => {
      if (connection !== current) return;
      setState(state);
      $("reconnects").textContent = String(current.reconnects);
      if (state === "open") $("failure").textContent = "";
    },
    onFailure: ({ error, delay }) => {
      if (connection === current) {
        $("failure").textContent = error.message + (delay === undefined ? "" : " · retrying in " + (delay / 1000).toFixed(1) + " s");
      }
      return undefined; // the default policy
    },
  });
  connection = current;
  setState("connecting");
  follow(current);
}

$("subscribe").addEventListener("submit", (event) => {
  event.preventDefault();
  $("pub-topic").value = $("topic").value.trim();
  start();
});

$("toggle").addEventListener("click", () => {
  if (connection && connection.state !== "closed") connection.close();
  else start();
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
  const [fromHash, mode] = location.hash.slice(1).split(";");
  const topic = decodeURIComponent(fromHash);
  if (topic) $("topic").value = $("pub-topic").value = topic;
  $("private").checked = mode === "private";
} catch {
  // Not a topic: keep the default.
}
$("name").value = localStorage.getItem("sse-hub-demo-name") ?? "guest-" + Math.random().toString(16).slice(2, 6);
$("name").addEventListener("change", () => $("name").checkValidity() && start());
start();
pollStats();
setInterval(showHere, 1000);
setInterval(pollStats, 2000);
</script>
</body>
</html>
`;
