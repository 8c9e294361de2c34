"""The offline bundle's bytes (docs/formats.md §10): parse and encode.

A bundle is one canonical msgpack map::

    {"checkpoint": bin,            signed checkpoint note, with witness cosignatures
     "dossier": str,               the dossier's stream id
     "events": [entry, ...],       the dossier's records in the checkpoint, n = 1, 2, ...
     "index": evidence,            the index commit ending the checkpoint, and lookup
                                   proofs of the dossier and of system/keys (§12.4)
     "kind": "hoso/bundle",
     "origin": str,
     "registry": [entry, ...],     every system/keys record in the checkpoint, in leaf order
     "result": str,                the result number it was exported for, or ""
     "v": 2}
    entry = {"leaf": int, "proof": [bin(32), ...], "record": bin}

Version 1 (no ``index``) still parses; it proves no completeness, and the verifier says
so (``bundle.incomplete``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from ledger.core import encoding
from verify.checks import MalformedBundle
from verify.evidence import Entry, Evidence, parse_entry, parse_evidence

BUNDLE_KIND: Final = "hoso/bundle"
BUNDLE_VERSION: Final = 2
_V1_KEYS: Final = frozenset(
    {"v", "kind", "origin", "checkpoint", "dossier", "result", "events", "registry"}
)
_KEYS: Final = _V1_KEYS | {"index"}
RESULT_TYPES: Final = ("ResultIssued", "ResultCorrected")

BundleEntry = Entry


@dataclass(frozen=True)
class Bundle:
    origin: str
    checkpoint: bytes
    dossier: str
    result: str
    events: tuple[BundleEntry, ...]
    registry: tuple[BundleEntry, ...]
    index: Evidence | None = None  # None: a version-1 bundle

    def encode(self) -> bytes:
        body: dict[str, encoding.Value] = {
            "v": 1 if self.index is None else BUNDLE_VERSION,
            "kind": BUNDLE_KIND,
            "origin": self.origin,
            "checkpoint": self.checkpoint,
            "dossier": self.dossier,
            "result": self.result,
            "events": [e.to_map() for e in self.events],
            "registry": [e.to_map() for e in self.registry],
        }
        if self.index is not None:
            body["index"] = self.index.to_map()
        return encoding.encode(body)


def parse_bundle(data: bytes) -> Bundle:
    """Parse bundle bytes; raise MalformedBundle (or encoding.canonical) unless well-formed."""
    raw = encoding.decode(data)
    if not isinstance(raw, dict):
        raise MalformedBundle("a bundle is a map")
    version = raw.get("v")
    keys = _V1_KEYS if version == 1 else _KEYS
    if set(raw) != keys:
        raise MalformedBundle(f"a bundle is a map of exactly {sorted(keys)}")
    if version not in (1, BUNDLE_VERSION) or raw["kind"] != BUNDLE_KIND:
        raise MalformedBundle(f"not a {BUNDLE_KIND} v1 or v{BUNDLE_VERSION}")
    origin, checkpoint, dossier, result = (
        raw["origin"],
        raw["checkpoint"],
        raw["dossier"],
        raw["result"],
    )
    if not isinstance(origin, str) or not isinstance(dossier, str) or not isinstance(result, str):
        raise MalformedBundle("origin, dossier and result must be str")
    if not isinstance(checkpoint, bytes):
        raise MalformedBundle("checkpoint must be bin (the signed note)")
    return Bundle(
        origin=origin,
        checkpoint=checkpoint,
        dossier=dossier,
        result=result,
        events=_entries(raw["events"], "events"),
        registry=_entries(raw["registry"], "registry"),
        index=None if version == 1 else parse_evidence(raw["index"]),
    )


def _entries(value: Any, name: str) -> tuple[BundleEntry, ...]:
    if not isinstance(value, list):
        raise MalformedBundle(f"{name} must be an array")
    return tuple(parse_entry(item, f"{name}[{i}]", MalformedBundle) for i, item in enumerate(value))
