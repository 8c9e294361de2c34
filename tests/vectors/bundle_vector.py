"""The offline-bundle vector (tests/vectors/bundle.json; docs/formats.md §10, §12).

A six-leaf log: two key registrations (a portal key and a reception
officer's, signed by the authority), a dossier's submission, another
dossier's submission, the first dossier's digitised input, and the index commit
over those five (signed by the log key). The bundle of the first dossier holds its
two records and both registry records, each with its inclusion proof, the index
evidence (the commit and lookup proofs of the dossier and of ``system/keys``), and
the checkpoint of size 6 signed by the log and cosigned by the witness.
Deterministic: fixed seeds and times.
"""

from __future__ import annotations

import hashlib
from typing import Any

from ledger.core.chain import next_body
from ledger.core.checkpoint import Checkpoint, Cosigner, sign_checkpoint
from ledger.core.encoding import Value
from ledger.core.event import SignedEvent, parse_record, sign_event
from ledger.core.index import IndexTree, StreamState
from ledger.core.note import Ed25519NoteSigner, format_vkey
from ledger.core.registry import KEY_REGISTERED, REGISTRY_STREAM, key_registered
from ledger.core.signing import Signer
from ledger.domain.streams import (
    INDEX_COMMITTED,
    INDEX_STREAM,
    IndexCommit,
    index_commit,
    index_payload,
    next_state,
)
from tests.support.memory_tree import MemoryTree
from verify.bundle_format import Bundle, BundleEntry
from verify.evidence import Evidence, StreamProof

ORIGIN = "hoso.example/hanoi"
DOSSIER = "000.39.05.H26-260302-0001"
OTHER = "000.39.05.H26-260302-0002"
AUTHORITY_SEED = hashlib.sha256(b"hoso bundle vector: authority").digest()
PORTAL_SEED = hashlib.sha256(b"hoso bundle vector: portal").digest()
OFFICER_SEED = hashlib.sha256(b"hoso bundle vector: officer").digest()
LOG_SEED = hashlib.sha256(b"hoso test seed 2").digest()  # the checkpoints vector's log key
WITNESS_SEED = hashlib.sha256(b"hoso test seed 3").digest()
WITNESS_NAME = "witness.hoso.example/w1"
T0 = 1_772_413_200_000_000  # 2026-03-02T08:00+07:00
MINUTE = 60_000_000
WARD = "000.39.05.H26"


def _event(  # noqa: PLR0917 (one positional list per event keeps build_log readable)
    previous: SignedEvent | None,
    stream: str,
    kind: str,
    actor: str,
    payload: dict[str, Value],
    signer: Signer,
    time_us: int,
) -> SignedEvent:
    body = next_body(
        previous,
        origin=ORIGIN,
        stream=stream,
        event_type=kind,
        actor=actor,
        time_us=time_us,
        payload=payload,
    )
    return sign_event(body, [signer])


def _submission(applicant: str) -> dict[str, Value]:
    return {
        "procedure": "1.001193",
        "agency": WARD,
        "channel": "online",
        "applicant": hashlib.sha256(applicant.encode()).digest(),
        "applicant_kind": 1,
        "legal_basis": "state_duty",
    }


def build_log() -> list[SignedEvent]:
    authority, portal, officer = (Signer(s) for s in (AUTHORITY_SEED, PORTAL_SEED, OFFICER_SEED))
    reg1 = _event(
        None,
        REGISTRY_STREAM,
        KEY_REGISTERED,
        "authority:hanoi",
        key_registered(
            portal.public_key, actor="portal:dichvucong", roles={"portal"}, agency="NATIONAL"
        ),
        authority,
        T0,
    )
    reg2 = _event(
        reg1,
        REGISTRY_STREAM,
        KEY_REGISTERED,
        "authority:hanoi",
        key_registered(
            officer.public_key, actor="ward:tiepnhan-01", roles={"reception"}, agency=WARD
        ),
        authority,
        T0,
    )
    first = _event(
        None,
        DOSSIER,
        "DossierSubmitted",
        "portal:dichvucong",
        _submission("a"),
        portal,
        T0 + MINUTE,
    )
    other = _event(
        None,
        OTHER,
        "DossierSubmitted",
        "portal:dichvucong",
        _submission("b"),
        portal,
        T0 + 2 * MINUTE,
    )
    digitized = _event(
        first,
        DOSSIER,
        "InputDigitized",
        "ward:tiepnhan-01",
        {
            "component": "TO_KHAI_KHAI_SINH",
            "document_hash": hashlib.sha256(b"to khai").digest(),
            "source": "scanned",
        },
        officer,
        T0 + 5 * MINUTE,
    )
    return [reg1, reg2, first, other, digitized]


def index_of(events: list[SignedEvent]) -> IndexTree:
    """The stream index over ``events`` (no results among them: n and heads only)."""
    tree = IndexTree()
    latest: dict[str, StreamState] = {}
    for event in events:
        body = event.body
        latest[body.stream] = next_state(
            latest.get(body.stream), stream=body.stream, n=body.n, head=event.event_hash
        )
    tree.set(latest.values())
    return tree


def build_commit(events: list[SignedEvent], tree: IndexTree) -> SignedEvent:
    payload = index_payload(IndexCommit(len(events), tree.root.hash, len(tree.values)))
    return _event(
        None, INDEX_STREAM, INDEX_COMMITTED, ORIGIN, payload, Signer(LOG_SEED), T0 + 6 * MINUTE
    )


def build_bundle() -> tuple[Bundle, str]:
    """The bundle and the trust file that verifies it."""
    log_events = build_log()
    index = index_of(log_events)
    log_events.append(build_commit(log_events, index))
    tree = MemoryTree()
    for event in log_events:
        tree.append(event.leaf_hash)
    size = len(log_events)
    checkpoint = Checkpoint(origin=ORIGIN, size=size, root=tree.root(size))
    log_key = Ed25519NoteSigner(ORIGIN, Signer(LOG_SEED))
    witness = Cosigner(WITNESS_NAME, Signer(WITNESS_SEED))
    note = sign_checkpoint(checkpoint, log_key).with_signatures(
        [witness.cosign(checkpoint, timestamp=1_772_420_000)]
    )

    def entry(leaf: int) -> BundleEntry:
        proof = tree.inclusion_proof(index=leaf, size=size)
        return BundleEntry(leaf, log_events[leaf].record, tuple(proof))

    bundle = Bundle(
        origin=ORIGIN,
        checkpoint=note.serialise(),
        dossier=DOSSIER,
        result="",
        events=(entry(2), entry(4)),
        registry=(entry(0), entry(1)),
        index=Evidence(
            entry(5),
            (
                StreamProof(DOSSIER, index.prove(DOSSIER)),
                StreamProof(REGISTRY_STREAM, index.prove(REGISTRY_STREAM)),
            ),
        ),
    )
    authority = Signer(AUTHORITY_SEED)
    trust = (
        f"origin {ORIGIN}\n"
        f"log {log_key.verifier.vkey}\n"
        f"authority {format_vkey(f'{ORIGIN}/authority', 0x01, authority.public_key)}\n"
        f"witness {witness.verifier.vkey}\n"
        "min-witnesses 1\n"
    )
    return bundle, trust


def bundle_vectors() -> dict[str, Any]:
    bundle, trust = build_bundle()
    data = bundle.encode()
    return {
        "comment": (
            "An offline bundle (docs/formats.md §10, v2) of one dossier: two events, the two "
            "key registrations they need, inclusion proofs, the index evidence (the commit at "
            "leaf 5 and lookup proofs of the dossier and system/keys), and the size-6 "
            "checkpoint cosigned by the witness. Generated by `python -m tests.vectors.generate`;"
            " do not edit by hand."
        ),
        "trust": trust,
        "bundle_hex": data.hex(),
        "bundle_sha256_hex": hashlib.sha256(data).hexdigest(),
        "expected": {
            "dossier": bundle.dossier,
            "checkpoint_size": 6,
            "index_commit_leaf": 5,
            "index_root_hex": _index_root(bundle).hex(),
            "event_leaves": [e.leaf for e in bundle.events],
            "registry_leaves": [e.leaf for e in bundle.registry],
            "event_hashes_hex": [
                hashlib.sha256(b"hoso/event/v1\x00" + _body(e.record)).hexdigest()
                for e in bundle.events
            ],
            "inclusion_proof_lengths": [len(e.proof) for e in (*bundle.registry, *bundle.events)],
        },
    }


def _body(record: bytes) -> bytes:
    from ledger.core.event import parse_record  # noqa: PLC0415

    return parse_record(record).body_bytes


def _index_root(bundle: Bundle) -> bytes:
    if bundle.index is None:
        raise ValueError("the vector's bundle carries its index")
    return index_commit(parse_record(bundle.index.commit.record).body).root
