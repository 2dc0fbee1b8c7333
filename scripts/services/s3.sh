#!/usr/bin/env bash
# A private S3-compatible server for the tests on 127.0.0.1:59000: s3rver (an npm devDependency
# of the backend; Debian has no MinIO and only npm and Debian packages are installable here).
# It speaks the S3 REST API, multipart upload included. Known gaps: it does not implement
# AbortMultipartUpload (405), so tests cannot prove an abort, only that an unfinished upload never
# appears as an object; it checks the access key id but not SigV4 signatures, so a wrong secret
# key passes. Its one key pair is fixed (S3RVER / S3RVER).
#   start: prints `export` lines once it answers:
#     FS_TEST_S3_ENDPOINT   http://127.0.0.1:59000 (path-style)
#     FS_TEST_S3_REGION, FS_TEST_S3_ACCESS_KEY, FS_TEST_S3_SECRET_KEY
#     FS_TEST_S3_BUCKET     a bucket created at start (tests use their own prefixes in it)
#   stop:  stops it.
#   running: exits 0 when it already answers.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
DIR="${FS_SERVICES_DIR:-/tmp/fieldstation-services}/s3"
PORT=59000
BUCKET=fieldstation-test

answers() {
  # An anonymous request is refused (403) by a running s3rver; no answer at all means it is down.
  [ "$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$PORT/" 2>/dev/null)" != "000" ]
}

case "${1:-}" in
  start)
    mkdir -p "$DIR/data"
    if ! answers; then
      [ -f "$DIR/s3rver.pid" ] && kill "$(cat "$DIR/s3rver.pid")" 2>/dev/null || true
      nohup "$ROOT/node_modules/.bin/s3rver" -d "$DIR/data" -a 127.0.0.1 -p "$PORT" --silent \
        --no-vhost-buckets --configure-bucket "$BUCKET" >"$DIR/s3rver.log" 2>&1 &
      echo $! >"$DIR/s3rver.pid"
      for _ in $(seq 1 100); do
        answers && break
        sleep 0.1
      done
    fi
    answers || { echo "s3rver did not start (see $DIR/s3rver.log)" >&2; exit 1; }
    echo "export FS_TEST_S3_ENDPOINT=http://127.0.0.1:$PORT"
    echo "export FS_TEST_S3_REGION=us-east-1"
    echo "export FS_TEST_S3_ACCESS_KEY=S3RVER"
    echo "export FS_TEST_S3_SECRET_KEY=S3RVER"
    echo "export FS_TEST_S3_BUCKET=$BUCKET"
    ;;
  running) answers ;;
  stop)
    if [ -f "$DIR/s3rver.pid" ]; then
      kill "$(cat "$DIR/s3rver.pid")" 2>/dev/null || true
      rm -f "$DIR/s3rver.pid"
    fi
    ;;
  *) echo "usage: $0 start|stop|running" >&2; exit 2 ;;
esac
