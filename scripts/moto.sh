#!/usr/bin/env bash
# Starts a local S3-compatible server (moto, from PyPI) for weir's lake tests and prints the
# variables to use:
#
#     eval "$(scripts/moto.sh)"     # sets WEIR_TEST_S3_ENDPOINT and credentials
#     cargo test -p weir-lake
#
# Installs `moto[server]` and `boto3` with pip if missing, starts `moto_server` on 127.0.0.1
# (port WEIR_MOTO_PORT, default 5055) unless something already answers there, and creates the
# bucket `weir-test`. Safe to run again at any time. Progress goes to stderr; stdout carries only
# the export lines. The server keeps running in the background (its log: $TMPDIR/weir-moto.log).
set -euo pipefail

log() { echo "moto.sh: $*" >&2; }

port="${WEIR_MOTO_PORT:-5055}"
endpoint="http://127.0.0.1:$port"
bucket="weir-test"
python="$(command -v python3 || command -v python)"

if ! "$python" -c 'import moto.server, boto3' >/dev/null 2>&1 || ! command -v moto_server >/dev/null 2>&1; then
    log "installing moto[server] and boto3 (pip)"
    "$python" -m pip install --quiet 'moto[server]' boto3 >&2
    hash -r
fi

answers() { curl -s -o /dev/null --max-time 2 "$endpoint/" 2>/dev/null; }

if ! answers; then
    logfile="${TMPDIR:-/tmp}/weir-moto.log"
    log "starting moto_server on $endpoint (log: $logfile)"
    # setsid: the server outlives this script and the shell that evaluates its output.
    setsid nohup moto_server -H 127.0.0.1 -p "$port" >"$logfile" 2>&1 < /dev/null &
    for _ in $(seq 1 100); do
        if answers; then break; fi
        sleep 0.2
    done
    if ! answers; then
        log "moto_server did not answer on $endpoint; see $logfile"
        exit 1
    fi
fi

# moto accepts any credentials; the tests and the lake use these.
export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1
"$python" - "$endpoint" "$bucket" >&2 <<'PY'
import sys
import boto3
endpoint, bucket = sys.argv[1], sys.argv[2]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1")
existing = {b["Name"] for b in s3.list_buckets().get("Buckets", [])}
if bucket not in existing:
    s3.create_bucket(Bucket=bucket)
    print(f"moto.sh: created bucket {bucket}")
PY

log "ready: $endpoint, bucket $bucket"
echo "export WEIR_TEST_S3_ENDPOINT=$endpoint"
echo "export WEIR_TEST_S3_BUCKET=$bucket"
echo "export AWS_ACCESS_KEY_ID=test"
echo "export AWS_SECRET_ACCESS_KEY=test"
echo "export AWS_DEFAULT_REGION=us-east-1"
