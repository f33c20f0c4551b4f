#!/usr/bin/env bash
# Runs every test. The live-collection tests talk to the moto AWS emulator, which they start
# themselves (one server per test, on a free loopback port) from the venv set up here.
set -euo pipefail
cd "$(dirname "$0")/.."
# Every Python package is pinned (tests/support/requirements.txt says why); the venv is made
# again whenever that file changes. DuckDB runs the SQL natcost sends to Athena over the same
# files (moto does not run SQL).
REQUIREMENTS=tests/support/requirements.txt
STAMP=.venv/natcost-requirements.sha256
if [ ! -x .venv/bin/moto_server ] || ! sha256sum --quiet --check "$STAMP" >/dev/null 2>&1; then
  echo "setting up .venv from $REQUIREMENTS (once)..." >&2
  rm -rf .venv
  python3 -m venv .venv
  .venv/bin/pip install --quiet --disable-pip-version-check -r "$REQUIREMENTS"
  sha256sum "$REQUIREMENTS" > "$STAMP"
fi
# LibreOffice opens the CSVs as a spreadsheet user would (tests/report_cli.rs); installed from
# Debian's packages where this runs as root with apt-get (about 20 s), else that part is skipped.
if ! command -v soffice >/dev/null && command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
  echo "installing libreoffice-calc-nogui (once)..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq --no-install-recommends libreoffice-calc-nogui >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && apt-get install -y -qq --no-install-recommends libreoffice-calc-nogui >/dev/null; } ||
    echo "could not install libreoffice-calc-nogui: the LibreOffice checks are skipped" >&2
fi
export NATCOST_MOTO_PYTHON="$PWD/.venv/bin/python"
cargo test "$@"
