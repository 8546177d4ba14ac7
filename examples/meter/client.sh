#!/bin/sh
# Recording usage with curl. METER_URL is http://127.0.0.1:PORT (Kubernetes, ECS awsvpc);
# with a Unix socket (ECS bridge mode) add --unix-socket "$METER_SOCKET" and use
# http://meter as the URL.
set -eu
METER_URL=${METER_URL:-http://127.0.0.1:9464}

# One record: 202 once it is durable; 400 with a reason; 503 while shutting down or when
# the journal cannot be written (retry later: nothing was kept). Resend a request that got
# no answer with the same Idempotency-Key, so it is counted once.
key=$(cat /proc/sys/kernel/random/uuid)
curl -fsS -X POST "$METER_URL/v1/usage" \
    -H 'Content-Type: application/json' \
    -H "Idempotency-Key: $key" \
    -d '{"dimension": "users", "quantity": 3, "tags": {"team": "a"}}'

# A batch, all or nothing.
curl -fsS -X POST "$METER_URL/v1/usage" \
    -H 'Content-Type: application/json' \
    -d '[{"dimension": "gb_scanned", "quantity": 120}, {"dimension": "users", "quantity": 1}]'

# Pending hours, last report, last error, entitled or not.
curl -fsS "$METER_URL/v1/status"
