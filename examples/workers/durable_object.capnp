# workerd config for examples/workers/durable_object.ts: the Worker and its Durable Object class
# in one module; the objects' storage is SQLite files in /tmp/sse-hub-do-storage (another
# directory: `--directory-path do-storage=/some/dir`; it must exist). Bundle first:
#
#   bun build examples/workers/durable_object.ts --target=browser --format=esm --outfile=examples/workers/dist/durable_object.js
#   mkdir -p /tmp/sse-hub-do-storage
#   node_modules/.bin/workerd serve examples/workers/durable_object.capnp
#
# then: curl -N http://127.0.0.1:8787/events/news   and, in another shell,
#   curl -H 'content-type: application/json' -d '{"topic":"news","msg":"hi"}' http://127.0.0.1:8787/publish
# Stop workerd, start it again, and `curl -N -H 'Last-Event-ID: <an id you saw>' …/events/news`
# replays what came after it from storage. (`durableObjectStorage = (inMemory = void)` keeps the
# objects in memory instead: replay then survives nothing.)
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .sseHubObjects),
    (name = "do-storage", disk = (path = "/tmp/sse-hub-do-storage", writable = true)),
  ],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "main")],
);

const sseHubObjects :Workerd.Worker = (
  modules = [(name = "durable_object.js", esModule = embed "dist/durable_object.js")],
  compatibilityDate = "2026-01-01",
  durableObjectNamespaces = [(className = "HubObject", uniqueKey = "sse-hub-example-hub-object")],
  durableObjectStorage = (localDisk = "do-storage"),
  bindings = [
    (name = "HUB", durableObjectNamespace = "HubObject"),
    (name = "KEEP_ALIVE_MS", text = "15000"),
  ],
);
