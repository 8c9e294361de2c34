"""Trust roots for a verification: the ledger's origin and log key, the authority
keys that sign key-registry events, and the witnesses whose cosignatures count.

The trust file (docs/verify.md §Trust file) is UTF-8 text, one root per line::

    # comments and blank lines are ignored
    origin hoso.example/hanoi
    log hoso.example/hanoi+f18fb8dc+Acij...          (C2SP vkey, type 0x01)
    authority hoso.example/hanoi/authority+...       (C2SP vkey, type 0x01; one or more)
    witness witness.hoso.example/w1+475975a4+BH4...  (C2SP vkey, type 0x04; zero or more)
    min-witnesses 1                                  (optional; default 0)

``origin`` may be left out when there is one log key: it is the key's name.

The witness policy may also be written in C2SP tlog-policy syntax
(c2sp.org/tlog-policy, :mod:`ledger.core.policy`): ``witness <name> <vkey> [<url>]``
names a witness (``witness <vkey>`` names it after its key), ``log <vkey> [<url>]``
takes a URL, and ``group <name> all|any|<k> <name>...`` and ``quorum <name>|none``
define the cosignatures the latest checkpoint needs (``cosignature.quorum``).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ledger.core.checkpoint import AnyCosignatureVerifier, parse_cosignature_vkey
from ledger.core.errors import MalformedError
from ledger.core.note import Ed25519Verifier, parse_ed25519_vkey
from ledger.core.policy import Policy, PolicyBuilder
from ledger.core.signing import KeyId, PublicKey, key_id
from verify.checks import MalformedTrust


@dataclass(frozen=True)
class TrustRoots:
    origin: str
    log_keys: tuple[Ed25519Verifier, ...]
    authorities: dict[KeyId, PublicKey]
    witnesses: tuple[AnyCosignatureVerifier, ...] = ()
    min_witnesses: int = 0
    policy: Policy = field(default_factory=Policy)
    """The witnesses by their trust-file names, the groups and the quorum (if any)."""
    witness_names: tuple[str, ...] = ()
    """Each witness's trust-file name, in ``witnesses`` order (the short form's is its key
    name, so a witness's old and new keys count as one witness)."""

    def named_witnesses(self) -> list[tuple[str, AnyCosignatureVerifier]]:
        """(trust-file name, key) of every witness."""
        if len(self.witness_names) == len(self.witnesses):
            return list(zip(self.witness_names, self.witnesses, strict=True))
        return [(w.name, w) for w in self.witnesses]

    def log_public_keys(self) -> dict[KeyId, PublicKey]:
        """The log keys by hoso key id: they also sign the index commits."""
        return {key_id(k.public_key): k.public_key for k in self.log_keys}


@dataclass
class _Lines:
    origin: str | None = None
    logs: list[Ed25519Verifier] = field(default_factory=list)
    authorities: dict[KeyId, PublicKey] = field(default_factory=dict)
    witnesses: list[AnyCosignatureVerifier] = field(default_factory=list)
    min_witnesses: int = 0
    policy: PolicyBuilder = field(default_factory=PolicyBuilder)
    witness_names: list[str] = field(default_factory=list)

    def take(self, kind: str, value: str, where: str) -> None:
        items = value.split()
        if kind == "origin":
            self.origin = value
        elif kind == "log":
            if not 1 <= len(items) <= 2:
                raise MalformedTrust("a log line is 'log <vkey> [<url>]'", where=where)
            self.logs.append(parse_ed25519_vkey(items[0]))
        elif kind == "authority":
            public_key = parse_ed25519_vkey(value).public_key
            self.authorities[key_id(public_key)] = public_key
        elif kind == "witness" and len(items) == 1:  # hoso's short form: named after its key
            key = parse_cosignature_vkey(items[0])
            if key.name not in self.policy.witnesses:  # a second key of one witness: one name
                self.policy.add("witness", [key.name, items[0]])
            self.witnesses.append(key)
            self.witness_names.append(key.name)
        elif kind == "witness":
            self.policy.add("witness", items)
            self.witnesses.append(self.policy.witnesses[items[0]].key)
            self.witness_names.append(items[0])
        elif kind in ("group", "quorum"):
            self.policy.add(kind, items)
        elif kind == "min-witnesses" and value.isdigit():
            self.min_witnesses = int(value)
        else:
            raise MalformedTrust(f"unknown or bad line {kind!r}", where=where)


def parse_trust(text: str) -> TrustRoots:
    """Read a trust file; raise MalformedTrust (``trust.syntax``) on any bad line."""
    lines = _Lines()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        kind, _, value = line.partition(" ")
        where = f"trust line {number}"
        try:
            lines.take(kind, value.strip(), where)
        except MalformedTrust:
            raise
        except MalformedError as err:
            raise MalformedTrust(f"[{err.check}] {err.detail}", where=where) from err
    if not lines.logs:
        raise MalformedTrust("no 'log' key: nothing can anchor the ledger")
    if not lines.authorities:
        raise MalformedTrust("no 'authority' key: no key-registry event can be trusted")
    origin = lines.origin
    if origin is None:
        names = {k.name for k in lines.logs}
        if len(names) != 1:
            raise MalformedTrust("several log key names: give the 'origin' line")
        origin = names.pop()
    try:
        policy = lines.policy.policy(quorum_required=False)
    except MalformedError as err:
        raise MalformedTrust(f"[{err.check}] {err.detail}") from err
    return TrustRoots(
        origin,
        tuple(lines.logs),
        lines.authorities,
        tuple(lines.witnesses),
        lines.min_witnesses,
        policy,
        tuple(lines.witness_names),
    )


def parse_trust_set(text: str) -> dict[str, TrustRoots]:
    """A trust file for several logs (docs/verify.md §Several logs): each ``origin`` line
    starts one log's block; lines before the first ``origin`` line (shared witnesses,
    groups, a quorum, ``min-witnesses``) belong to every block. A file with at most one
    ``origin`` line is one log, as :func:`parse_trust` reads it. Origins are unique."""
    lines = text.splitlines()
    starts = [i for i, raw in enumerate(lines) if raw.strip().partition(" ")[0] == "origin"]
    if len(starts) <= 1:
        roots = parse_trust(text)
        return {roots.origin: roots}
    preamble = lines[: starts[0]]
    out: dict[str, TrustRoots] = {}
    for number, start in enumerate(starts):
        end = starts[number + 1] if number + 1 < len(starts) else len(lines)
        # keep line numbers in errors: blank out the other blocks instead of cutting them
        block = [*preamble, *([""] * (start - len(preamble))), *lines[start:end]]
        roots = parse_trust("\n".join(block))
        if roots.origin in out:
            raise MalformedTrust(
                "a log is listed twice", where=f"trust line {start + 1}", found=roots.origin
            )
        out[roots.origin] = roots
    return out
