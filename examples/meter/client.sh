#!/bin/sh
# Recording usage with curl. METER_URL is what the sidecar prints after `listening on`:
# http://127.0.0.1:9464 by default (Kubernetes, ECS awsvpc), or unix:PATH for a Unix
# socket (ECS bridge mode), which curl reaches with --unix-socket.
set -eu
METER_URL=${METER_URL:-http://127.0.0.1:9464}
case $METER_URL in
unix:*) set -- --unix-socket "${METER_URL#unix:}"; base=http://meter ;;
*) set --; base=$METER_URL ;;
esac

# One record: 202 once it is durable; 400 with a reason; 503 while shutting down or when
# the journal cannot be written (retry later: nothing was kept). Resend a request that got
# no answer with the same Idempotency-Key, so it is counted once.
key=$(cat /proc/sys/kernel/random/uuid)
curl -fsS "$@" -X POST "$base/v1/usage" \
    -H 'Content-Type: application/json' \
    -H "Idempotency-Key: $key" \
    -d '{"dimension": "users", "quantity": 3, "tags": {"team": "a"}}'

# A batch, all or nothing.
curl -fsS "$@" -X POST "$base/v1/usage" \
    -H 'Content-Type: application/json' \
    -d '[{"dimension": "gb_scanned", "quantity": 120}, {"dimension": "users", "quantity": 1}]'

# Pending hours, last report, last error, entitled or not.
curl -fsS "$@" "$base/v1/status"
