#!/usr/bin/env bash
# Many-account collection benchmark: a moto organisation (tests/support/seed_org.py: the
# management account and three members, one of whose roles is refused) behind a loopback
# proxy that adds LATENCY_MS to every request, as AWS's round trips would. Times
#   - each single account × region that holds a NAT gateway (collect --accounts ID --region R),
#   - the whole organisation over REGIONS (collect --org --region ... --concurrency C),
#   - the whole organisation, every region moto lists (collect --org --all-regions),
# RUNS times each (median), with natcost's CPU time and the peer's (the proxy that answers
# natcost, standing in for AWS, whose CPU is not on this machine in real use), and prints the
# ratio of each whole organisation to the slowest single one.
# moto answers about 100 requests a second in all, whatever the concurrency. With REPLAY=1 (the
# default) every command first runs once answered by moto, through tests/support/replay_proxy.py
# which keeps the answers; the timed runs are answered from them after LATENCY_MS, so they
# measure natcost against a peer as fast as AWS's round trips rather than against moto. Each
# timed snapshot must hold what the warm-up's did (the bench stops otherwise). REPLAY=0 times
# moto itself (fault_proxy.py --latency-ms).
#   LATENCY_MS=100 RUNS=3 CONCURRENCY=128 REGIONS="ap-northeast-2 us-east-1 eu-west-1 ap-southeast-1" bash scripts/bench_accounts.sh
set -euo pipefail
cd "$(dirname "$0")/.."
LATENCY_MS="${LATENCY_MS:-100}"
CONCURRENCY="${CONCURRENCY:-128}"
REGIONS="${REGIONS:-ap-northeast-2 us-east-1 eu-west-1 ap-southeast-1}"
REPLAY="${REPLAY:-1}"
RUNS="${RUNS:-3}"
WORK="$(mktemp -d)"
trap 'kill $(jobs -p) "${PEER_PID:-}" "${FAULTS_PID:-}" 2>/dev/null || true; rm -rf "$WORK"' EXIT
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
if [ "$REPLAY" = 1 ]; then
  .venv/bin/python tests/support/fault_proxy.py "$MOTO" --deny-assume "$(id legacy)" >"$WORK/faults" 2>/dev/null &
  FAULTS_PID=$!
  until [ -s "$WORK/faults" ]; do sleep 0.1; done
  read -r _ FAULTS_PORT <"$WORK/faults"
  coproc PEER { exec .venv/bin/python tests/support/replay_proxy.py "$FAULTS_PORT" --latency-ms "$LATENCY_MS" 2>/dev/null; }
else
  coproc PEER { exec .venv/bin/python tests/support/fault_proxy.py "$MOTO" --deny-assume "$(id legacy)" --latency-ms "$LATENCY_MS" 2>/dev/null; }
fi
PEER_PID=$PEER_PID
read -r _ PEER_PORT <&"${PEER[0]}"
URL="http://127.0.0.1:$PEER_PORT"
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_EC2_METADATA_DISABLED=true
export AWS_CONFIG_FILE="$WORK/none" AWS_SHARED_CREDENTIALS_FILE="$WORK/none"

cpu_of() { awk -v t="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / t}' "/proc/$1/stat"; }
# What a snapshot holds, per account × region: its NAT gateways and metric series. A timed
# run must hold what the warm-up (moto's own answers) held, or the replay answered wrongly.
content() { .venv/bin/python -c "
import json, sys
s = json.load(open(sys.argv[1]))
print(sorted((a['account_id'], r['region'], sorted(n['nat_gateway_id'] for n in r.get('nat_gateways', [])), len(r.get('metrics', []))) for a in s['accounts'] for r in a['regions']))" "$1"; }
forwarded() { if [ "$REPLAY" = 1 ]; then curl -s "$URL/__replay_stats" | .venv/bin/python -c 'import json,sys; print(json.load(sys.stdin)["forwarded"])'; else echo 0; fi; }
# measure NAME OUTPUT COMMAND...: RUNS runs; sets WALL (the median), CPU (natcost's), PEER (the
# replay proxy's, or with REPLAY=0 fault_proxy's, over the same run), MOTO (the most requests
# of one run that were not replayed but answered by moto), and checks each snapshot against
# the first run's. A run must exit 0 or 3 (partial: the refused role) and write its snapshot.
declare -A KEPT
measure() {
  local name=$1 out=$2; shift 2
  local walls=() cpus=() peers=(); MOTO=0
  for _ in $(seq "$RUNS"); do
    local p0 f0 rc=0; p0=$(cpu_of "$PEER_PID"); f0=$(forwarded)
    rm -f "$out"
    /usr/bin/time -f "%e %U %S" -o "$WORK/time" "$@" -o "$out" >/dev/null 2>"$WORK/stderr" || rc=$?
    if [ "$rc" != 0 ] && [ "$rc" != 3 ] || [ ! -s "$out" ]; then
      echo "bench_accounts: $name failed (exit $rc):" >&2; cat "$WORK/stderr" >&2; exit 1
    fi
    read -r e u s < <(tail -1 "$WORK/time")
    walls+=("$e"); cpus+=("$(echo "$u + $s" | bc)"); peers+=("$(echo "$(cpu_of "$PEER_PID") - $p0" | bc)")
    local f=$(( $(forwarded) - f0 )); if [ "$f" -gt "$MOTO" ]; then MOTO=$f; fi
    local got; got=$(content "$out")
    if [ -z "${KEPT[$name]:-}" ]; then KEPT[$name]=$got
    elif [ "${KEPT[$name]}" != "$got" ]; then echo "bench_accounts: $name: the snapshot differs from the first run's; the replayed answers are wrong" >&2; exit 1
    fi
  done
  median() { printf '%s\n' "$@" | sort -n | sed -n "$(( ($# + 1) / 2 ))p"; }
  WALL=$(median "${walls[@]}"); CPU=$(median "${cpus[@]}"); PEER=$(median "${peers[@]}")
}
collections() { .venv/bin/python -c "import json; s=json.load(open('$1')); print(sum(len(a['regions']) for a in s['accounts']), 'account × region collections,', len(s['accounts']), 'accounts')"; }
REGION_ARGS=(); for r in $REGIONS; do REGION_ARGS+=(--region "$r"); done
COMMON=(collect --quiet --role-name natcost-read --days 2 --endpoint-url "$URL")
if [ "$REPLAY" = 1 ]; then
  echo "warm-up: every command once, answered by moto; the replay proxy keeps the answers..." >&2
  WARM=$RUNS; RUNS=1
  for pair in "payments ap-northeast-2" "search us-east-1" "search ap-northeast-2"; do
    set -- $pair
    measure "$1 $2" "$WORK/one.json" "$BIN" "${COMMON[@]}" --accounts "$(id "$1")" --region "$2"
  done
  measure some "$WORK/some.json" "$BIN" "${COMMON[@]}" --org "${REGION_ARGS[@]}" --concurrency "$CONCURRENCY"
  measure all "$WORK/all.json" "$BIN" "${COMMON[@]}" --org --all-regions --concurrency "$CONCURRENCY"
  RUNS=$WARM
fi
printf '%-52s %8s %12s %9s %8s %8s\n' "collection (median of $RUNS runs)" "wall s" "natcost CPU" "peer CPU" "to moto" "ratio"
SLOWEST=0
for pair in "payments ap-northeast-2" "search us-east-1" "search ap-northeast-2"; do
  set -- $pair
  measure "$1 $2" "$WORK/one.json" "$BIN" "${COMMON[@]}" --accounts "$(id "$1")" --region "$2"
  printf '%-52s %8s %12s %9s %8s\n' "single: $1 $2" "$WALL" "$CPU" "$PEER" "$MOTO"
  SLOWEST=$(echo "if ($WALL > $SLOWEST) $WALL else $SLOWEST" | bc)
done
measure some "$WORK/some.json" "$BIN" "${COMMON[@]}" --org "${REGION_ARGS[@]}" --concurrency "$CONCURRENCY"
printf '%-52s %8s %12s %9s %8s %7s×\n' "organisation, $(echo "$REGIONS" | wc -w) regions ($(collections "$WORK/some.json" | cut -d' ' -f1) collections)" "$WALL" "$CPU" "$PEER" "$MOTO" "$(echo "scale=2; $WALL / $SLOWEST" | bc)"
measure all "$WORK/all.json" "$BIN" "${COMMON[@]}" --org --all-regions --concurrency "$CONCURRENCY"
printf '%-52s %8s %12s %9s %8s %7s×\n' "organisation, --all-regions ($(collections "$WORK/all.json" | cut -d' ' -f1) collections)" "$WALL" "$CPU" "$PEER" "$MOTO" "$(echo "scale=2; $WALL / $SLOWEST" | bc)"
echo "(latency $LATENCY_MS ms per request, --concurrency $CONCURRENCY, replay $REPLAY; to moto: requests of a run not replayed, such as the refused AssumeRole; ratio: to the slowest single)"
