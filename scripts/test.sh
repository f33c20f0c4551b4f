#!/usr/bin/env bash
# Runs every test. The live-collection tests talk to the moto AWS emulator, which they start
# themselves (one server per test, on a free loopback port) from the venv set up here.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv/bin/moto_server ]; then
  echo "setting up .venv with moto[server] (once)..." >&2
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check 'moto[server]==5.2.5'
fi
# DuckDB runs the SQL natcost sends to Athena over the same files (moto does not run SQL).
if ! .venv/bin/python -c 'import duckdb' 2>/dev/null; then
  echo "adding duckdb to .venv (once)..." >&2
  .venv/bin/pip install --quiet --disable-pip-version-check 'duckdb==2.0.1'
fi
export NATCOST_MOTO_PYTHON="$PWD/.venv/bin/python"
cargo test "$@"
