#!/usr/bin/env bash
# Runs the README walk-through against a throw-away home directory and a free port, then stops the broker.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
home=$(mktemp -d)
log="$home/broker.log"
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null; rm -rf "$home"; }
trap cleanup EXIT

export KEYBROKER_HOME="$home" KEYBROKER_LISTEN=127.0.0.1:0
keybroker() { node "$repo/bin/keybroker.js" "$@"; }

[ -f "$repo/dist/src/cli/main.js" ] || (cd "$repo" && npm run build >/dev/null)
node "$repo/bin/keybroker.js" serve --dev >/dev/null 2>"$log" &
pid=$!
for _ in $(seq 1 100); do grep -q 'keybroker listening on' "$log" && break; sleep 0.1; done
url=$(grep -o 'https://[^ ]*' "$log" | head -1)
[ -n "$url" ] || { echo "demo: the broker did not start:" >&2; cat "$log" >&2; exit 1; }
cd "$home"
echo "broker at $url"

keybroker ca issue-admin --name ops --out ./ops
head -c 32 /dev/urandom > secret.bin
keybroker admin set-resource --url "$url" --admin ./ops --cacert ca/bundle.pem default/key/db < secret.bin
keybroker client attest --url "$url" --tee sample --cacert ca/bundle.pem --out ./tee
curl -sS --cert tee/cert.pem --key tee/key.pem --cacert ca/bundle.pem "$url/kbs/v1/resource/default/key/db" > fetched.bin
cmp secret.bin fetched.bin && echo "demo: the secret fetched over mutual TLS matches"
