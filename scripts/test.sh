#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting and lints, then every test of every crate
# against real SQLite and a real PostgreSQL, and the lake against a local directory and an
# S3-compatible server (both servers started here, installed first if missing).
set -euo pipefail
cd "$(dirname "$0")/.."

eval "$(scripts/postgres.sh)"
export WEIR_TEST_POSTGRES_URL
# The S3-compatible server the lake suite runs against (moto, installed with pip if missing).
eval "$(scripts/moto.sh)"
# boto3 and the AWS CLI: the Lambda API's end-to-end tests and docs/functions.md drive them.
if ! python3 -c 'import boto3' >/dev/null 2>&1; then
  python3 -m pip install --quiet boto3 >&2
fi
# DuckDB with pyarrow: the reference `weir bench transforms` and the SQL benchmark compare with.
if ! python3 -c 'import duckdb, pyarrow' >/dev/null 2>&1; then
  python3 -m pip install --quiet duckdb pyarrow >&2
fi
if ! command -v aws >/dev/null 2>&1; then
  python3 -m pip install --quiet awscli >&2
  hash -r
fi

# openssl makes the TLS tests' self-signed certificates, as docs/security.md shows.
if ! command -v openssl >/dev/null 2>&1; then
  (apt-get update -qq && apt-get install -y -qq openssl) >&2
fi
# Headless Chromium and its WebDriver: the dashboard's tests drive a real browser (browser.rs).
if ! command -v chromedriver >/dev/null 2>&1; then
  (apt-get update -qq && apt-get install -y -qq chromium chromium-driver) >&2
fi

cargo fmt --all --check

# Lint while building, what `cargo clippy -- -D warnings` does in a check-only pass: with
# clippy-driver as the workspace's compiler wrapper, weir's own crates are linted and compiled in
# one go, and the dependencies (DataFusion among them) are compiled once instead of twice. The
# tests below run with the same settings, so they reuse this build.
RUSTC_WORKSPACE_WRAPPER="$(command -v clippy-driver || rustup which clippy-driver)"
export RUSTC_WORKSPACE_WRAPPER
export CLIPPY_ARGS="-D__CLIPPY_HACKERY__warnings__CLIPPY_HACKERY__"
cargo build --workspace --all-targets --quiet

if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi
