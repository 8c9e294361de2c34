"""A minimal tlog-witness written from the C2SP texts alone (tlog-witness, tlog-cosignature,
signed-note, tlog-checkpoint; RFC 9162 §2.1.4.2 for the proof), to check that hoso's
client speaks the protocol and not only hoso's own dialect. It imports nothing of hoso:
PyNaCl for Ed25519, hashlib, and the standard library's HTTP server (HTTP/1.1,
keep-alive).

It keeps its state in memory; ``misbehave`` makes it answer a cosignature over the wrong
message (to see the client refuse to store it); ``delay_s`` makes it slow.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import nacl.exceptions
import nacl.signing

EMPTY = hashlib.sha256(b"").digest()


def key_id(name: str, sig_type: int, public: bytes) -> bytes:
    return hashlib.sha256(name.encode() + b"\n" + bytes([sig_type]) + public).digest()[:4]


def node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def consistent(first: int, second: int, h1: bytes, h2: bytes, proof: list[bytes]) -> bool:
    """RFC 9162 §2.1.4.2, step by step."""
    if first == second:
        return not proof and h1 == h2
    if not proof and first & (first - 1) != 0:
        return False
    path = list(proof)
    if first & (first - 1) == 0:
        path.insert(0, h1)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node(c, fr), node(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return fr == h1 and sr == h2 and sn == 0


class SpecWitness:
    def __init__(self, *, name: str, seed: bytes, log_vkey: str) -> None:
        self.name = name
        self.key = nacl.signing.SigningKey(seed)
        self.public = bytes(self.key.verify_key)
        log_name, log_id, log_blob = log_vkey.split("+", 2)
        raw = base64.b64decode(log_blob)
        assert raw[0] == 0x01
        self.origin = log_name
        self.log_id = bytes.fromhex(log_id)
        self.log_key = nacl.signing.VerifyKey(raw[1:])
        self.state: dict[str, tuple[int, bytes]] = {}
        self.lock = threading.Lock()
        self.misbehave = False
        self.delay_s = 0.0
        self.requests = 0

    @property
    def vkey(self) -> str:
        blob = base64.b64encode(b"\x04" + self.public).decode()
        return f"{self.name}+{key_id(self.name, 0x04, self.public).hex()}+{blob}"

    def handle(self, body: bytes) -> tuple[int, str, bytes]:  # noqa: PLR0911, PLR0912 (the spec's steps, in order)
        self.requests += 1
        if self.delay_s:
            time.sleep(self.delay_s)
        head, sep, note = body.partition(b"\n\n")
        if not sep:
            return 400, "text/plain", b"no empty line\n"
        lines = head.decode().split("\n")
        if not lines[0].startswith("old ") or len(lines) - 1 > 63:
            return 400, "text/plain", b"bad old line\n"
        old = int(lines[0][4:])
        proof = [base64.b64decode(x, validate=True) for x in lines[1:]]
        text_end = note.rfind(b"\n\n")
        text, sigs = note[: text_end + 1], note[text_end + 2 :].decode().split("\n")[:-1]
        origin, size_line, root_line = text.decode().split("\n")[:3]
        size, root = int(size_line), base64.b64decode(root_line)
        if origin != self.origin:
            return 404, "text/plain", b"unknown log\n"
        signed = False
        for line in sigs:
            name, blob = line.removeprefix("— ").split(" ")
            raw = base64.b64decode(blob)
            if name == self.origin and raw[:4] == self.log_id:
                try:
                    self.log_key.verify(text, raw[4:])
                except nacl.exceptions.BadSignatureError:
                    return 403, "text/plain", b"bad log signature\n"
                signed = True
        if not signed:
            return 403, "text/plain", b"not signed by the log\n"
        if old > size:
            return 400, "text/plain", b"old > size\n"
        with self.lock:
            have_size, have_root = self.state.get(origin, (0, EMPTY))
            if old != have_size:
                return 409, "text/x.tlog.size", f"{have_size}\n".encode()
            if size == 0 and root != EMPTY:
                return 422, "text/plain", b"bad empty root\n"
            if old == 0:
                if proof:
                    return 422, "text/plain", b"proof from 0\n"
            elif not consistent(old, size, have_root, root, proof):
                return 422, "text/plain", b"inconsistent\n"
            self.state[origin] = (size, root)
        timestamp = int(time.time())
        message = b"cosignature/v1\ntime %d\n" % timestamp + text
        if self.misbehave:
            message = b"cosignature/v1\ntime %d\n" % (timestamp + 1) + text
        signature = struct.pack(">Q", timestamp) + self.key.sign(message).signature
        blob = base64.b64encode(key_id(self.name, 0x04, self.public) + signature).decode()
        return 200, "text/plain; charset=utf-8", f"— {self.name} {blob}\n".encode()


@contextmanager
def serving_spec_witness(witness: SpecWitness) -> Iterator[str]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            if self.path != "/witness/add-checkpoint":
                status, content_type, answer = 404, "text/plain", b"no such path\n"
            else:
                status, content_type, answer = witness.handle(body)
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/witness"
    finally:
        server.shutdown()
        server.server_close()
