"""A county system's webhook receiver on 127.0.0.1 (a real HTTP server in a thread), shaped by
the published contract (app/alerts/channels/webhook.py docstring): it checks the HMAC-SHA256
signature over ``timestamp + "." + body`` and that ``X-KCBX-Event-Id`` is the body's ``id``,
and it can be told to fail: answer 500, or hold the request past the sender's timeout."""

from __future__ import annotations

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
                stamp = self.headers.get("X-KCBX-Timestamp", "")
                mac = hmac.new(
                    receiver.secret.encode(), stamp.encode() + b"." + body, hashlib.sha256
                ).hexdigest()
                signed = hmac.compare_digest(mac, self.headers.get("X-KCBX-Signature", ""))
                try:
                    payload: dict[str, Any] = json.loads(body)
                except ValueError:
                    payload = {}
                event_id = self.headers.get("X-KCBX-Event-Id", "")
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
