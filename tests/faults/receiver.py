"""A county system's webhook receiver on 127.0.0.1 (a real HTTP server in a thread), shaped by
the published contract, and told to fail on demand: answer 500, or hold the request past the
sender's timeout.

It verifies either signing scheme the service has published, so the case outlives the move
between them: Standard Webhooks (``webhook-id``, ``webhook-timestamp``, ``webhook-signature`` =
space-separated ``v1,<base64 HMAC-SHA256(key, "{id}.{timestamp}.{body}")>``, the key being the
base64 after ``whsec_``), or the earlier ``X-KCBX-Signature`` (hex HMAC-SHA256 with the secret's
UTF-8 over ``"{timestamp}.{body}"``, id in ``X-KCBX-Event-Id``). Either way the id in the
headers must be the body's ``id``."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Hit:
    at: float
    mode: str  # what the receiver did: "500", "timeout" or "ok"
    event_id: str
    event_type: str
    body: bytes
    signed: bool


class Receiver:
    def __init__(self, secret: str, hold_seconds: float = 4.0) -> None:
        self.secret = secret
        self.hold_seconds = hold_seconds
        self.mode = "500"
        self.hits: list[Hit] = []
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                event_id, signed = receiver.verify(self.headers, body)
                try:
                    payload: dict[str, Any] = json.loads(body)
                except ValueError:
                    payload = {}
                if payload.get("id") != event_id:
                    signed = False
                mode = receiver.mode
                with receiver.lock:
                    receiver.hits.append(
                        Hit(
                            time.monotonic(),
                            mode,
                            event_id,
                            self.headers.get("X-KCBX-Event-Type", ""),
                            body,
                            signed,
                        )
                    )
                if mode == "timeout":
                    time.sleep(receiver.hold_seconds)  # the sender has given up by then
                    self.close_connection = True
                    return
                status = 200 if mode == "ok" and signed else (401 if not signed else 500)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = int(self.server.server_address[1])
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def verify(self, headers: Any, body: bytes) -> tuple[str, bool]:
        """The event id the headers give and whether the signature is valid."""
        if headers.get("webhook-signature") is not None:
            msg_id = headers.get("webhook-id", "")
            stamp = headers.get("webhook-timestamp", "")
            key = base64.b64decode(self.secret.removeprefix("whsec_"))
            mac = hmac.new(key, f"{msg_id}.{stamp}.".encode() + body, hashlib.sha256).digest()
            want = base64.b64encode(mac).decode()
            given = [
                sig.split(",", 1)[1]
                for sig in headers.get("webhook-signature", "").split()
                if sig.startswith("v1,")
            ]
            return msg_id, any(hmac.compare_digest(want, g) for g in given)
        stamp = headers.get("X-KCBX-Timestamp", "")
        mac_hex = hmac.new(self.secret.encode(), stamp.encode() + b"." + body, hashlib.sha256)
        signed = hmac.compare_digest(mac_hex.hexdigest(), headers.get("X-KCBX-Signature", ""))
        return headers.get("X-KCBX-Event-Id", ""), signed

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/kcbx-events"

    def start(self) -> None:
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def snapshot(self) -> list[Hit]:
        with self.lock:
            return list(self.hits)

    def ids_in(self, mode: str) -> set[str]:
        return {h.event_id for h in self.snapshot() if h.mode == mode}
