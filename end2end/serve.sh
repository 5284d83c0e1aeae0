#!/usr/bin/env bash
# Starts the release server for the browser tests on a fresh SQLite database with the
# demo class. Run from anywhere; paths are relative to the repository root.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
DB_DIR="${E2E_DB_DIR:-$ROOT/target/e2e}"
mkdir -p "$DB_DIR"
rm -f "$DB_DIR"/portal.db*
export DATABASE_URL="sqlite:$DB_DIR/portal.db"
export LEPTOS_SITE_ADDR="${E2E_ADDR:-127.0.0.1:3100}"
export LEPTOS_SITE_ROOT="$ROOT/target/site"
export RUST_LOG="${RUST_LOG:-warn}"
exec "$ROOT/target/release/server" --demo
