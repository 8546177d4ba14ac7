"""Recording usage with the entitled-meter sidecar from Python (standard library only).

    meter = Meter()                                           # http://127.0.0.1:9464
    meter = Meter("unix:/var/lib/entitled-meter/meter.sock")  # ECS bridge mode
    meter.record("users", 3, tags={"team": "a"})

The address is what the sidecar prints after `listening on`: `http://HOST:PORT` for
`--listen HOST:PORT` (the default is 127.0.0.1:9464), `unix:PATH` for `--listen unix:PATH`.
Run as a script, it takes the address from METER_URL.
"""

import http.client
import json
import socket
import time
import urllib.parse
import uuid

DEFAULT_URL = "http://127.0.0.1:9464"


class MeterError(Exception):
    """The sidecar refused the record (400: fix the record) or could not keep it."""


class _UnixConnection(http.client.HTTPConnection):
    """HTTP/1.1 over a Unix socket, for the sidecar's `--listen unix:PATH`."""

    def __init__(self, path, timeout):
        super().__init__("meter", timeout=timeout)
        self._path = path

    def connect(self):
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(self._path)
        except OSError:
            sock.close()
            raise
        self.sock = sock


class Meter:
    def __init__(self, url=DEFAULT_URL, retries=5, timeout=5):
        if url.startswith("unix:"):
            path = url[len("unix:"):]
            self._connection = lambda: _UnixConnection(path, timeout)
        else:
            parts = urllib.parse.urlsplit(url)
            if parts.scheme != "http" or not parts.hostname:
                raise ValueError(f"{url!r}: give http://HOST:PORT or unix:PATH, as the sidecar prints it")
            host, port = parts.hostname, parts.port or 80
            self._connection = lambda: http.client.HTTPConnection(host, port, timeout=timeout)
        self.retries = retries

    def record(self, dimension, quantity, tags=None):
        """Records one unit of usage; returns once the sidecar has it on disk."""
        self.record_all([{"dimension": dimension, "quantity": quantity, "tags": tags or {}}])

    def record_all(self, records):
        """Records a batch, all or nothing."""
        body = json.dumps(records).encode()
        # One key for every try of this batch: if the sidecar kept it but its 202 was lost
        # (a restart mid-request), the resend is acknowledged without counting it twice.
        headers = {"Content-Type": "application/json", "Idempotency-Key": str(uuid.uuid4())}
        for attempt in range(self.retries):
            try:
                status, text = self._request("POST", "/v1/usage", body, headers)
            except (OSError, http.client.HTTPException):
                pass  # the sidecar is restarting
            else:
                if status == 202:
                    return
                if status != 503:
                    raise MeterError(f"HTTP {status}: {text.decode(errors='replace').strip()}")
                # 503: shutting down or the journal is full; nothing was kept, so retry.
            time.sleep(min(2**attempt * 0.1, 2))
        raise MeterError("the sidecar did not acknowledge the records")

    def status(self):
        """The sidecar's status (JSON), also when it answers 503 (shutting down)."""
        _, text = self._request("GET", "/v1/status")
        return json.loads(text)

    def _request(self, method, path, body=None, headers=None):
        connection = self._connection()
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            return response.status, response.read()
        finally:
            connection.close()


if __name__ == "__main__":
    import os
    import sys

    meter = Meter(os.environ.get("METER_URL", DEFAULT_URL))
    meter.record("users", 3, tags={"team": "a"})
    meter.record_all([{"dimension": "gb_scanned", "quantity": 120}])
    json.dump(meter.status(), sys.stdout, indent=2)
    print()
