# workerd config for examples/workers/worker.ts. Bundle the worker first (one ES module):
#
#   bun build examples/workers/worker.ts --target=browser --format=esm --outfile=examples/workers/dist/worker.js
#   node_modules/.bin/workerd serve examples/workers/config.capnp
#
# then: curl -N http://127.0.0.1:8787/events/news   and, in another shell,
#   curl -H 'content-type: application/json' -d '{"topic":"news","msg":"hi"}' http://127.0.0.1:8787/publish
# Override the address with `--socket-addr http=127.0.0.1:9000` (port 0 picks a free one; `--control-fd`
# reports it).
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [(name = "main", worker = .sseHubWorker)],
  sockets = [(name = "http", address = "127.0.0.1:8787", http = (), service = "main")],
);

const sseHubWorker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "dist/worker.js")],
  compatibilityDate = "2026-01-01",
  bindings = [(name = "KEEP_ALIVE_MS", text = "15000")],
);
