"""Core throughput beside the raw library figure measured in the same run.

    .venv/bin/python -m bench.core [--seconds 1.0]

Each row: hoso's operation and the bare PyNaCl/hashlib operation it wraps, in
operations per second, and their ratio (1.0 = no overhead). The last line is
one JSON object.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections.abc import Callable

import nacl.signing

from ledger.core import merkle
from ledger.core.event import EventBody, sign_event, verify_signatures
from ledger.core.hashing import GENESIS_PREV, event_hash, leaf_hash, node_hash
from ledger.core.signing import Signer
from tests.support.memory_tree import MemoryTree


def rate(fn: Callable[[], object], seconds: float) -> float:
    """Calls per second of ``fn`` over about ``seconds`` (after a short warm-up)."""
    for _ in range(50):
        fn()
    count, start = 0, time.perf_counter()
    deadline = start + seconds
    while True:
        for _ in range(100):
            fn()
        count += 100
        now = time.perf_counter()
        if now >= deadline:
            return count / (now - start)


def pair(hoso: float, raw: float) -> dict[str, float]:
    return {"hoso_per_s": round(hoso), "raw_per_s": round(raw), "ratio": round(hoso / raw, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    t = args.seconds

    signer = Signer(bytes(range(32)))
    raw_key = nacl.signing.SigningKey(bytes(range(32)))
    body = EventBody(
        origin="bench.hoso.example/hanoi",
        stream="000.00.10.H26-260101-0001",
        n=1,
        prev=GENESIS_PREV,
        type="DossierReceived",
        actor="bench:reception",
        time_us=1_767_225_600_000_000,
        payload={"procedure": "1.001193", "agency": "H26.50.01", "note": "x" * 200},
    )
    event = sign_event(body, [signer])
    message = b"hoso/event-signature/v1\x00" + event.event_hash
    raw_sig = raw_key.sign(message).signature
    raw_verify = raw_key.verify_key
    keys = {signer.key_id: signer.public_key}
    body_bytes = event.body_bytes

    results: dict[str, dict[str, float]] = {}
    results["sign"] = pair(
        rate(lambda: sign_event(body, [signer]), t), rate(lambda: raw_key.sign(message), t)
    )
    results["verify"] = pair(
        rate(lambda: verify_signatures(event, keys), t),
        rate(lambda: raw_verify.verify(message, raw_sig), t),
    )
    results["hash"] = pair(
        rate(lambda: event_hash(body_bytes), t),
        rate(lambda: hashlib.sha256(body_bytes).digest(), t),
    )

    tree = MemoryTree()
    tree.extend([leaf_hash(i.to_bytes(8, "big")) for i in range(1 << 20)])
    size = tree.size
    root = tree.root()
    proofs = [(i, tree.inclusion_proof(index=i, size=size)) for i in range(0, size, size // 512)]
    leaves = {i: leaf_hash(i.to_bytes(8, "big")) for i, _ in proofs}
    cursor = iter(range(1 << 62))

    def hoso_verify_one() -> None:
        i, proof = proofs[next(cursor) % len(proofs)]
        merkle.verify_inclusion(index=i, size=size, leaf_hash=leaves[i], proof=proof, root=root)

    def raw_verify_one() -> None:
        # The same path folded with bare hashlib: the floor for any Python verifier.
        i, proof = proofs[next(cursor) % len(proofs)]
        h: bytes = leaves[i]
        fn, sn = i, size - 1
        for p in proof:
            if fn % 2 == 1 or fn == sn:
                h = hashlib.sha256(b"\x01" + p + h).digest()
                while fn % 2 == 0 and fn != 0:
                    fn >>= 1
                    sn >>= 1
            else:
                h = hashlib.sha256(b"\x01" + h + p).digest()
            fn >>= 1
            sn >>= 1

    results["inclusion_verify"] = pair(rate(hoso_verify_one, t), rate(raw_verify_one, t))

    appended = merkle.CompactRange()
    leaf = leaf_hash(b"x")

    def raw_append() -> None:
        # Binary-counter append with bare hashlib: one leaf hash plus ~1 node hash on average.
        h = hashlib.sha256(b"\x00x").digest()
        hashlib.sha256(b"\x01" + h + h).digest()

    results["merkle_append"] = pair(rate(lambda: appended.append(leaf), t), rate(raw_append, t))
    results["node_hash"] = pair(
        rate(lambda: node_hash(leaf, leaf), t),
        rate(lambda: hashlib.sha256(b"\x01" + leaf + leaf).digest(), t),
    )
    for name, row in results.items():
        print(
            f"{name:18} hoso {row['hoso_per_s']:>10,.0f}/s   raw {row['raw_per_s']:>10,.0f}/s"
            f"   ratio {row['ratio']:.2f}"
        )
    print(json.dumps(results, sort_keys=True))


if __name__ == "__main__":
    main()
