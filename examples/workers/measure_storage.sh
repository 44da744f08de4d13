#!/usr/bin/env bash
# What examples/workers/durable_object.ts costs in Durable Object storage, measured on workerd:
# the storage calls per published event (counted in workerd's --async-trace) and the bytes each
# event keeps (in the object's SQLite file). Needs sqlite3. From the repository root:
#
#   bash examples/workers/measure_storage.sh [events=1100] [payload characters=100] [port=8914]
set -euo pipefail
EVENTS=${1:-1100}
SIZE=${2:-100}
PORT=${3:-8914}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
mkdir -p "$DIR/dist" "$DIR/storage"
cp examples/workers/durable_object.capnp "$DIR/"
node_modules/.bin/bun build examples/workers/durable_object.ts --target=browser --format=esm \
  --outfile="$DIR/dist/durable_object.js" > /dev/null
node_modules/.bin/workerd serve "$DIR/durable_object.capnp" --directory-path do-storage="$DIR/storage" \
  --socket-addr http=127.0.0.1:"$PORT" --async-trace "$DIR/trace.jsonl" > "$DIR/workerd.log" 2>&1 &
WORKERD=$!
until curl -sf -o /dev/null "http://127.0.0.1:$PORT/stats"; do sleep 0.1; done
MSG=$(head -c "$SIZE" /dev/zero | tr '\0' x)
for _ in $(seq 1 "$EVENTS"); do
  curl -sf -o /dev/null -H 'content-type: application/json' -d "{\"topic\":\"news\",\"msg\":\"$MSG\"}" \
    "http://127.0.0.1:$PORT/publish"
done
echo "object: $(curl -sf "http://127.0.0.1:$PORT/stats")"
kill "$WORKERD"
wait "$WORKERD" || true
echo "storage calls for $EVENTS publishes (and one wake):"
grep '"e":"init"' "$DIR/trace.jsonl" | grep -o 'durable_object_storage_[a-z]*' | sort | uniq -c
DB=$(ls "$DIR"/storage/*/*.sqlite | grep -v metadata.sqlite)
sqlite3 "$DB" "PRAGMA wal_checkpoint(TRUNCATE);" > /dev/null
ROWS=$(sqlite3 "$DB" "select count(*) from _cf_KV")
echo "rows kept: $ROWS; key + value bytes per row:" \
  "$(sqlite3 "$DB" "select round(avg(length(key) + length(value)), 1) from _cf_KV")"
echo "SQLite file bytes per row: $(($(stat -c %s "$DB") / ROWS))"
