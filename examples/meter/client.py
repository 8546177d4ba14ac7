"""Recording usage with the entitled-meter sidecar from Python (standard library only).

    meter = Meter("http://127.0.0.1:9464")
    meter.record("users", 3, tags={"team": "a"})
"""

import json
import time
import urllib.error
import urllib.request
import uuid


class MeterError(Exception):
    """The sidecar refused the record (400: fix the record) or could not keep it."""


class Meter:
    def __init__(self, url="http://127.0.0.1:9464", retries=5):
        self.url = url.rstrip("/")
        self.retries = retries

    def record(self, dimension, quantity, tags=None):
        """Records one unit of usage; returns once the sidecar has it on disk."""
        self.record_all([{"dimension": dimension, "quantity": quantity, "tags": tags or {}}])

    def record_all(self, records):
        """Records a batch, all or nothing."""
        body = json.dumps(records).encode()
        # One key for every try of this batch: if the sidecar kept it but its 202 was lost
        # (a restart mid-request), the resend is acknowledged without counting it twice.
        key = str(uuid.uuid4())
        for attempt in range(self.retries):
            request = urllib.request.Request(
                self.url + "/v1/usage",
                data=body,
                headers={"Content-Type": "application/json", "Idempotency-Key": key},
                method="POST",
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    if response.status == 202:
                        return
            except urllib.error.HTTPError as e:
                reason = e.read().decode(errors="replace").strip()
                if e.code != 503:
                    raise MeterError(f"HTTP {e.code}: {reason}") from None
                # 503: shutting down or the journal is full; nothing was kept, so retry.
            except urllib.error.URLError:
                pass  # the sidecar is restarting
            time.sleep(min(2**attempt * 0.1, 2))
        raise MeterError("the sidecar did not acknowledge the records")

    def status(self):
        with urllib.request.urlopen(self.url + "/v1/status", timeout=5) as response:
            return json.load(response)


if __name__ == "__main__":
    import os
    import sys

    meter = Meter(os.environ.get("METER_URL", "http://127.0.0.1:9464"))
    meter.record("users", 3, tags={"team": "a"})
    meter.record_all([{"dimension": "gb_scanned", "quantity": 120}])
    json.dump(meter.status(), sys.stdout, indent=2)
    print()
