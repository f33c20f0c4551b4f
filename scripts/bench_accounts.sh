#!/usr/bin/env bash
# Many-account collection benchmark: a moto organisation (tests/support/seed_org.py: the
# management account and three members, one of whose roles is refused) behind the loopback
# proxy with LATENCY_MS added to every request, as AWS's round trips would. Times
#   - each single account × region that holds a NAT gateway (collect --accounts ID --region R),
#   - the whole organisation over REGIONS (collect --org --region ... --concurrency C),
#   - the whole organisation, every region moto lists (collect --org --all-regions),
# and prints the ratio of each whole to the slowest single one.
# moto answers about 100 requests a second in all, whatever the concurrency: with REPLAY=1 (the
# default) every command runs once untimed through the proxy, which keeps moto's answers, and
# the timed runs are answered from them after LATENCY_MS, so they measure natcost against a
# peer as fast as AWS's round trips rather than against moto. REPLAY=0 times moto itself.
#   LATENCY_MS=100 CONCURRENCY=128 REGIONS="ap-northeast-2 us-east-1 eu-west-1 ap-southeast-1" bash scripts/bench_accounts.sh
set -euo pipefail
cd "$(dirname "$0")/.."
LATENCY_MS="${LATENCY_MS:-100}"
CONCURRENCY="${CONCURRENCY:-128}"
REGIONS="${REGIONS:-ap-northeast-2 us-east-1 eu-west-1 ap-southeast-1}"
REPLAY="${REPLAY:-1}"
WORK="$(mktemp -d)"
trap 'kill $(jobs -p) "${PROXY_PID:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/python -c 'import moto' 2>/dev/null || .venv/bin/pip install --quiet --disable-pip-version-check 'moto[server]==5.2.5'
cargo build --release --quiet --bin natcost
BIN="${CARGO_TARGET_DIR:-target}/release/natcost"

port() { .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
MOTO=$(port)
NATCOST_MOTO_NAT_CREATE_TIME=2025-01-01T00:00:00 .venv/bin/python tests/support/moto_server.py -H 127.0.0.1 -p "$MOTO" >/dev/null 2>&1 &
until (echo > /dev/tcp/127.0.0.1/$MOTO) 2>/dev/null; do sleep 0.2; done
START=$(date -u -d '4 days ago' +%Y-%m-%dT%H:00:00)
IDS=$(.venv/bin/python tests/support/seed_org.py "http://127.0.0.1:$MOTO" "$START" 98)
id() { echo "$IDS" | .venv/bin/python -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
REPLAY_ARG=(); if [ "$REPLAY" = 1 ]; then REPLAY_ARG=(--replay); fi
coproc PROXY { exec .venv/bin/python tests/support/fault_proxy.py "$MOTO" --deny-assume "$(id legacy)" --latency-ms "$LATENCY_MS" "${REPLAY_ARG[@]}" 2>/dev/null; }
PROXY_PID=$PROXY_PID
read -r _ PROXY_PORT <&"${PROXY[0]}"
URL="http://127.0.0.1:$PROXY_PORT"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE="$WORK/none" AWS_SHARED_CREDENTIALS_FILE="$WORK/none"

seconds() { /usr/bin/time -f "%e" "$@" 2>&1 >/dev/null | tail -1; }
collections() { .venv/bin/python -c "import json; s=json.load(open('$1')); print(sum(len(a['regions']) for a in s['accounts']), 'account x region collections in', len(s['accounts']), 'accounts')"; }
REGION_ARGS=(); for r in $REGIONS; do REGION_ARGS+=(--region "$r"); done
PASSES=(timed); if [ "$REPLAY" = 1 ]; then PASSES=(warm timed); fi
for PASS in "${PASSES[@]}"; do
  if [ "$PASS" = warm ]; then echo "warm-up (moto answers, the proxy keeps them)..." >&2; fi
  SLOWEST=0
  for pair in "payments ap-northeast-2" "search us-east-1" "search ap-northeast-2"; do
    set -- $pair
    s=$(seconds "$BIN" collect --quiet --accounts "$(id "$1")" --role-name natcost-read --region "$2" --days 2 --endpoint-url "$URL" -o "$WORK/one.json")
    if [ "$PASS" = timed ]; then echo "single: $1 $2: $s s"; fi
    SLOWEST=$(echo "if ($s > $SLOWEST) $s else $SLOWEST" | bc)
  done
  SOME=$(seconds "$BIN" collect --quiet --org --role-name natcost-read "${REGION_ARGS[@]}" --days 2 --concurrency "$CONCURRENCY" --endpoint-url "$URL" -o "$WORK/some.json" || true)
  if [ "$PASS" = timed ]; then echo "whole organisation, $REGIONS: $SOME s for $(collections "$WORK/some.json"); whole / slowest single = $(echo "scale=2; $SOME / $SLOWEST" | bc)"; fi
  ALL=$(seconds "$BIN" collect --quiet --org --role-name natcost-read --all-regions --days 2 --concurrency "$CONCURRENCY" --endpoint-url "$URL" -o "$WORK/all.json" || true)
  if [ "$PASS" = timed ]; then echo "whole organisation, --all-regions: $ALL s for $(collections "$WORK/all.json"); whole / slowest single = $(echo "scale=2; $ALL / $SLOWEST" | bc)"; fi
done
echo "(latency $LATENCY_MS ms per request, --concurrency $CONCURRENCY, replay $REPLAY)"
