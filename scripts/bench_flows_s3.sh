#!/usr/bin/env bash
# Flow logs from S3 vs the same files on disk: natcost reads SIZE_MB of generated gzip flow
# logs (FILES objects) from moto's S3 over loopback, then from the local folder, and prints
# both. moto serves S3 from one Python process, so this measures natcost's streaming against
# a slow peer, not real S3 (network-bound there: see the README).
#   SIZE_MB=300 FILES=48 bash scripts/bench_flows_s3.sh
set -euo pipefail
cd "$(dirname "$0")/.."
SIZE_MB="${SIZE_MB:-300}"
FILES="${FILES:-48}"
WORK="${WORK:-/tmp/natcost-bench-s3}"
RANGES=tests/data/ip-ranges-fixture.json
if [ ! -x .venv/bin/python ]; then python3 -m venv .venv; fi
.venv/bin/python -c 'import moto' 2>/dev/null || .venv/bin/pip install --quiet --disable-pip-version-check 'moto[server]==5.2.5'

TARGET="${CARGO_TARGET_DIR:-target}"
cargo build --release --quiet --features synth --bin natcost --example gen_flows
BIN="$TARGET/release/natcost"
STAMP="$SIZE_MB $FILES"
if [ "$(cat "$WORK/stamp" 2>/dev/null)" != "$STAMP" ]; then
  rm -rf "$WORK"; mkdir -p "$WORK/tree"
  echo "generating $SIZE_MB MB of flow logs in $FILES gzip files..." >&2
  "$TARGET/release/examples/gen_flows" "$WORK/tree/prod" "$SIZE_MB" --files "$FILES" --gzip --ip-ranges "$RANGES"
  rm -f "$WORK/tree/prod/truth.json"
  echo "$STAMP" > "$WORK/stamp"
fi
GZ_MB=$(du -sm "$WORK/tree/prod/AWSLogs" | cut -f1)

PORT=$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
.venv/bin/python tests/support/moto_server.py -H 127.0.0.1 -p "$PORT" >/dev/null 2>&1 &
MOTO=$!
trap 'kill $MOTO 2>/dev/null' EXIT
for _ in $(seq 100); do (echo > "/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
echo "uploading to moto's S3..." >&2
.venv/bin/python tests/support/upload_tree.py "http://127.0.0.1:$PORT" acme-flow-logs "$WORK/tree" >/dev/null
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=ap-northeast-2 AWS_EC2_METADATA_DISABLED=true

run() { # prints "seconds max_rss_kb"
  /usr/bin/time -f "%e %M" "$@" 2>&1 >/dev/null | tail -1
}
LOCAL=("$BIN" flows --sample --flow-logs "$WORK/tree/prod/AWSLogs" --ip-ranges "$RANGES" --format json)
S3=("$BIN" flows --sample --flow-logs s3://acme-flow-logs/prod/ --endpoint-url "http://127.0.0.1:$PORT" --ip-ranges "$RANGES" --format json)
# The same answer from both.
diff <("${LOCAL[@]}" | .venv/bin/python -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["nats"], sort_keys=True))') \
     <("${S3[@]}" | .venv/bin/python -c 'import json,sys; print(json.dumps(json.load(sys.stdin)["nats"], sort_keys=True))') \
  || { echo "S3 and local files disagree" >&2; exit 1; }
find "$WORK/tree" -type f -exec cat {} + > /dev/null
read -r L_S L_KB < <(run "${LOCAL[@]}")
read -r S_S S_KB < <(run "${S3[@]}")
echo "$FILES gzip objects, ${GZ_MB} MB compressed ($SIZE_MB MB of text); $(nproc) cores; moto $(.venv/bin/python -c 'import moto; print(moto.__version__)') on loopback"
echo "local files: ${L_S} s, peak RSS $((L_KB / 1024)) MB"
echo "moto S3:     ${S_S} s, peak RSS $((S_KB / 1024)) MB ($(echo "scale=2; $S_S / $L_S" | bc)x the local time; $(echo "scale=1; $GZ_MB / $S_S" | bc) MB/s from S3)"
