#!/usr/bin/env bash
# The whole suite: once on SQLite, then again on PostgreSQL when one is reachable.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
PG_URL="${XINFANG_TEST_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
status=0

echo "== SQLite =="
env -u DATABASE_URL "$BIN/python" -m pytest -n 2 --maxschedchunk 1 "$@" || status=$?

if "$BIN/python" - "$PG_URL" <<'PY' 2>/dev/null
import sys, psycopg
psycopg.connect(sys.argv[1].replace("postgres://", "postgresql://"), connect_timeout=3).close()
PY
then
  echo "== PostgreSQL ($PG_URL) =="
  # The browser tests, the accused-user crawls and the other slow tests (the schema fuzzer, the
  # serve process, the page walks) drive pages and processes whose database work the rest of the
  # suite covers on PostgreSQL too, so they run once; the crash tests (SKIP LOCKED claims) run
  # on both.
  DATABASE_URL="$PG_URL" "$BIN/python" -m pytest -n 2 --maxschedchunk 1 -m "not browser and not crawl and (not slow or crash)" -p no:cacheprovider "$@" || status=$?
else
  echo "PostgreSQL not reachable at $PG_URL: the PostgreSQL pass is skipped."
fi
exit $status
