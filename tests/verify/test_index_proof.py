"""Standalone index proofs (docs/formats.md §12.4) checked under the trust file alone:
what a valid one proves, and every forged, malformed or misplaced one refused with its
check id — never a crash, never an answer."""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from ledger.core import encoding
from ledger.core.checkpoint import Checkpoint, sign_checkpoint
from ledger.core.errors import HosoError
from ledger.core.hashing import Hash
from ledger.core.note import Ed25519NoteSigner, parse_note
from ledger.core.registry import REGISTRY_STREAM
from ledger.core.signing import Signer
from tests.vectors.bundle_vector import DOSSIER, OTHER, build_bundle
from verify.evidence import (
    Evidence,
    IndexAnswer,
    IndexProofDocument,
    StreamProof,
    verify_index_proof,
)
from verify.trust import TrustRoots, parse_trust

BUNDLE, TRUST_TEXT = build_bundle()
TRUST: TrustRoots = parse_trust(TRUST_TEXT)
_EVIDENCE = BUNDLE.index
assert _EVIDENCE is not None
EVIDENCE: Evidence = _EVIDENCE


def document(
    evidence: Evidence | None = None, *, checkpoint: bytes | None = None, origin: str | None = None
) -> bytes:
    return IndexProofDocument(
        TRUST.origin if origin is None else origin,
        BUNDLE.checkpoint if checkpoint is None else checkpoint,
        EVIDENCE if evidence is None else evidence,
    ).encode()


def check(data: bytes, stream: str = DOSSIER) -> IndexAnswer:
    return verify_index_proof(
        data,
        origin=TRUST.origin,
        log_keys=TRUST.log_keys,
        witnesses=TRUST.witnesses,
        stream=stream,
    )


def failing(data: bytes, stream: str = DOSSIER) -> str:
    with pytest.raises(HosoError) as caught:
        check(data, stream)
    return caught.value.check


def test_a_valid_proof_gives_the_state_and_its_freshness() -> None:
    answer = verify_index_proof(
        document(),
        origin=TRUST.origin,
        log_keys=TRUST.log_keys,
        witnesses=TRUST.witnesses,
        stream=DOSSIER,
    )
    assert answer.state is not None
    assert (answer.state.stream, answer.state.n) == (DOSSIER, 2)
    assert answer.checkpoint.size == 6
    assert answer.witnesses == tuple(w.name for w in TRUST.witnesses)
    assert answer.as_of_s == 1_772_420_000


def test_absence_is_proven_for_a_stream_without_events() -> None:
    """A lookup proof of a stream that has no event in the checkpoint proves absence."""
    from tests.vectors.bundle_vector import build_log, index_of  # noqa: PLC0415

    tree = index_of(build_log())
    absent = "000.39.05.H26-260302-9999"
    evidence = replace(EVIDENCE, proofs=(StreamProof(absent, tree.prove(absent)),))
    answer = verify_index_proof(
        document(evidence),
        origin=TRUST.origin,
        log_keys=TRUST.log_keys,
        witnesses=(),
        stream=absent,
    )
    assert answer.state is None
    assert (answer.witnesses, answer.as_of_s) == ((), None)


def test_another_origin_is_index_commit() -> None:
    assert failing(document(origin="other.example/log")) == "index.commit"


def test_a_checkpoint_signed_by_another_key_is_refused() -> None:
    checkpoint = Checkpoint(origin=TRUST.origin, size=6, root=Hash(bytes(32)))
    forged = sign_checkpoint(checkpoint, Ed25519NoteSigner(TRUST.origin, Signer(b"\x07" * 32)))
    assert failing(document(checkpoint=forged.serialise())).startswith("note.")


def test_a_proof_for_another_checkpoint_is_refused() -> None:
    """The commit entry's inclusion proof, under a checkpoint of another size or root."""
    log_key = Ed25519NoteSigner(TRUST.origin, Signer(bytes.fromhex(LOG_SEED_HEX)))
    for size, root in ((7, bytes(32)), (6, b"\x01" * 32)):
        note = sign_checkpoint(Checkpoint(origin=TRUST.origin, size=size, root=Hash(root)), log_key)
        found = failing(document(checkpoint=note.serialise()))
        assert found in {"merkle.inclusion", "merkle.proof_shape", "index.commit"}


def test_a_forged_witness_cosignature_is_cosignature_invalid() -> None:
    """The witness's own line (its key id) over another signature: it does not verify."""
    note = parse_note(BUNDLE.checkpoint)
    log_line, witness_line = note.signatures
    flipped = witness_line.signature[:-1] + bytes([witness_line.signature[-1] ^ 1])
    forged = replace(note, signatures=(log_line, replace(witness_line, signature=flipped)))
    assert failing(document(checkpoint=forged.serialise())) == "cosignature.invalid"


def test_a_lookup_proof_of_another_stream_or_tampered_is_index_proof() -> None:
    swapped = replace(EVIDENCE, proofs=(StreamProof(DOSSIER, EVIDENCE.proofs[1].lookup),))
    assert failing(document(swapped)) == "index.proof"
    assert failing(document(), stream=OTHER) == "index.evidence_shape"  # no proof for it
    registry = check(document(), REGISTRY_STREAM)
    assert registry.state is not None
    assert registry.state.stream == REGISTRY_STREAM


def test_malformed_documents_are_refused_with_a_check_id() -> None:
    raw = encoding.decode(document())
    assert isinstance(raw, dict)
    cases = {
        "not msgpack": b"\xc1",
        "truncated": document()[:-5],
        "extra key": encoding.encode({**raw, "x": 1}),
        "other kind": encoding.encode({**raw, "kind": "hoso/other"}),
        "version 2": encoding.encode({**raw, "v": 2}),
        "checkpoint as str": encoding.encode({**raw, "checkpoint": "x"}),
        "proofs as map": encoding.encode({**raw, "proofs": {}}),
    }
    for name, data in cases.items():
        assert failing(data).split(".")[0] in {"index", "encoding"}, name


def test_random_corruption_never_crashes_and_never_answers_for_a_changed_state() -> None:
    rng = random.Random(11)
    good = document()
    expected = check(good)
    for _ in range(400):
        data = bytearray(good)
        data[rng.randrange(len(data))] ^= 1 << rng.randrange(8)
        try:
            answer = check(bytes(data))
        except HosoError:
            continue
        # a flip that proves nothing else: at most a witness's line no longer counts
        assert (answer.state, answer.checkpoint) == (expected.state, expected.checkpoint)
        assert set(answer.witnesses) <= set(expected.witnesses)


LOG_SEED_HEX = __import__("hashlib").sha256(b"hoso test seed 2").hexdigest()


def test_two_proofs_for_one_stream_are_malformed_whichever_comes_first() -> None:
    """A second proof for a stream could say anything (another state, an absence); a
    reader must not pick one: the document is malformed."""
    mine = EVIDENCE.proof_of(DOSSIER)
    assert mine is not None
    other = EVIDENCE.proofs[1].lookup
    for proofs in ((mine, StreamProof(DOSSIER, other)), (StreamProof(DOSSIER, other), mine)):
        assert failing(document(replace(EVIDENCE, proofs=proofs))) == "index.evidence_shape"
