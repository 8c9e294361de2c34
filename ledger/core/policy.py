"""C2SP tlog-policy (c2sp.org/tlog-policy): which logs, which witnesses, and the quorum
of cosignatures a checkpoint needs.

Line based; items are separated by spaces and tabs; empty and ``#`` lines are ignored::

    log <vkey> [<url>]
    witness <name> <vkey> [<url>]
    group <name> all|any|<k> <name>...
    quorum <name>|none

A group or the quorum names only witnesses and groups defined on earlier lines; every
name is defined once and is a member of one group at most once; ``none`` is predefined
(no cosignature needed) and is never a member; exactly one quorum line. Log keys are
note keys (0x01, or 0x04 timestamped cosignature keys) named after the log's origin;
witness keys are cosignature keys (0x04). Two log lines, or two witness lines, with
the same public key are refused. hoso's own limits: 32 logs, 32 witnesses, 32 groups
(the spec's minimum).

A file used only to configure a witness (which logs it witnesses) may leave out the
quorum: ``parse_policy(text, quorum_required=False)``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from ledger.core.checkpoint import (
    AnyCosignatureVerifier,
    parse_cosignature_vkey,
    verify_cosignatures,
)
from ledger.core.errors import CosignatureInvalid, MalformedError, VerificationError
from ledger.core.note import Note, NoteVerifier
from ledger.core.witness import parse_log_vkey

NONE: Final = "none"
MAX_ENTRIES: Final = 32


class MalformedPolicy(MalformedError):
    """A tlog-policy file breaks the syntax or the definition rules."""

    check = "policy.syntax"


class QuorumNotMet(VerificationError):
    """A checkpoint's valid cosignatures do not meet the policy's quorum."""

    check = "cosignature.quorum"


@dataclass(frozen=True, slots=True)
class PolicyLog:
    key: NoteVerifier
    url: str | None = None

    @property
    def origin(self) -> str:
        return self.key.name


@dataclass(frozen=True, slots=True)
class PolicyWitness:
    name: str
    key: AnyCosignatureVerifier
    url: str | None = None


@dataclass(frozen=True, slots=True)
class PolicyGroup:
    name: str
    threshold: int
    members: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Policy:
    logs: tuple[PolicyLog, ...] = ()
    witnesses: Mapping[str, PolicyWitness] = field(default_factory=dict)
    groups: Mapping[str, PolicyGroup] = field(default_factory=dict)
    quorum: str | None = None
    """The quorum's name, ``none``, or None when the file had no quorum line."""

    def log_keys(self, origin: str) -> tuple[NoteVerifier, ...]:
        return tuple(log.key for log in self.logs if log.origin == origin)

    def witnessed(self, name: str, cosigned: Iterable[str]) -> bool:
        """Whether the witness or group ``name`` witnessed, given the witness names that
        cosigned."""
        done = set(cosigned)
        if name == NONE:
            return True
        if name in self.witnesses:
            return name in done
        group = self.groups[name]
        return sum(self.witnessed(m, done) for m in group.members) >= group.threshold

    def cosigners(self, note: Note) -> set[str]:
        """The policy's witnesses whose cosignature on ``note`` verifies (a failing one
        raises CosignatureInvalid)."""
        return {w.name for w in self.witnesses.values() if verify_cosignatures(note, [w.key])}

    def check_quorum(self, note: Note, *, where: str | None = None) -> set[str]:
        """Raise QuorumNotMet unless the note's cosignatures meet the quorum; return the
        policy names of the witnesses that cosigned."""
        try:
            cosigned = self.cosigners(note)
        except CosignatureInvalid as err:
            raise QuorumNotMet(
                f"a listed witness's cosignature fails: {err.detail}", where=where
            ) from err
        quorum = NONE if self.quorum is None else self.quorum
        if not self.witnessed(quorum, cosigned):
            raise QuorumNotMet(
                f"the cosignatures do not meet quorum {quorum!r}",
                where=where,
                expected=quorum,
                found=", ".join(sorted(cosigned)) or "no listed witness",
            )
        return cosigned


def parse_policy(text: str, *, quorum_required: bool = True) -> Policy:
    """Parse a tlog-policy file; raise MalformedPolicy naming the line."""
    parts = PolicyBuilder()
    for number, raw in enumerate(text.split("\n"), start=1):
        where = f"line {number}"
        if any(ord(c) < 0x20 and c != "\t" for c in raw) or "\x7f" in raw:
            raise MalformedPolicy("control characters other than tab", where=where)
        items = raw.replace("\t", " ").split()
        if not items or items[0].startswith("#"):
            continue
        try:
            parts.add(items[0], items[1:])
        except MalformedError as err:
            raise MalformedPolicy(err.detail, where=where) from err
    return parts.policy(quorum_required=quorum_required)


@dataclass
class PolicyBuilder:
    """A policy read line by line (``add`` raises MalformedPolicy for a bad line), for
    files that mix tlog-policy lines with their own (the verifier's trust file)."""

    logs: list[PolicyLog] = field(default_factory=list)
    witnesses: dict[str, PolicyWitness] = field(default_factory=dict)
    groups: dict[str, PolicyGroup] = field(default_factory=dict)
    quorum: str | None = None
    log_keys: set[bytes] = field(default_factory=set)
    witness_keys: set[bytes] = field(default_factory=set)

    def add(self, kind: str, args: list[str]) -> None:
        if kind == "log":
            _arity(args, 1, 2)
            key = parse_log_vkey(args[0])
            _unique_key(self.log_keys, _public(key))
            self.logs.append(PolicyLog(key, args[1] if len(args) > 1 else None))
        elif kind == "witness":
            _arity(args, 2, 3)
            name = _new_name(args[0], self.witnesses, self.groups)
            wkey = parse_cosignature_vkey(args[1])
            _unique_key(self.witness_keys, wkey.public_key)
            self.witnesses[name] = PolicyWitness(name, wkey, args[2] if len(args) > 2 else None)
        elif kind == "group":
            group = _group(args, self.witnesses, self.groups)
            self.groups[group.name] = group
        elif kind == "quorum":
            _arity(args, 1, 1)
            if self.quorum is not None:
                raise MalformedPolicy("a second quorum line")
            if args[0] != NONE and args[0] not in self.witnesses and args[0] not in self.groups:
                raise MalformedPolicy(f"quorum {args[0]!r} is not defined above")
            self.quorum = args[0]
        else:
            raise MalformedPolicy(f"unknown line type {kind!r}")

    def policy(self, *, quorum_required: bool = True) -> Policy:
        if max(len(self.logs), len(self.witnesses), len(self.groups)) > MAX_ENTRIES:
            raise MalformedPolicy(f"more than {MAX_ENTRIES} logs, witnesses or groups")
        if quorum_required and self.quorum is None:
            raise MalformedPolicy("no quorum line (write 'quorum none' to need no cosignature)")
        return Policy(tuple(self.logs), dict(self.witnesses), dict(self.groups), self.quorum)


def _arity(args: list[str], least: int, most: int) -> None:
    if not least <= len(args) <= most:
        raise MalformedPolicy(f"expected {least} to {most} items after the keyword")


def _public(key: NoteVerifier) -> bytes:
    public = getattr(key, "public_key", b"")
    return bytes(public)


def _unique_key(seen: set[bytes], public: bytes) -> None:
    if public in seen:
        raise MalformedPolicy("a public key listed twice")
    seen.add(public)


def _new_name(name: str, *defined: Mapping[str, object]) -> str:
    if name == NONE or any(name in names for names in defined):
        raise MalformedPolicy(f"name {name!r} is predefined or already defined")
    return name


def _group(
    args: list[str], witnesses: Mapping[str, PolicyWitness], groups: Mapping[str, PolicyGroup]
) -> PolicyGroup:
    if len(args) < 3:
        raise MalformedPolicy("a group has a name, a threshold and at least one member")
    name = _new_name(args[0], witnesses, groups)
    members = tuple(args[2:])
    if len(set(members)) != len(members):
        raise MalformedPolicy("a group lists a member twice")
    for member in members:
        if member not in witnesses and member not in groups:
            raise MalformedPolicy(f"group member {member!r} is not defined above")
    spec = args[1]
    if spec == "all":
        threshold = len(members)
    elif spec == "any":
        threshold = 1
    elif spec.isascii() and spec.isdigit() and (spec == "0" or not spec.startswith("0")):
        threshold = int(spec)
        if not 1 <= threshold <= len(members):
            raise MalformedPolicy(f"threshold {threshold} is not in 1..{len(members)}")
    else:
        raise MalformedPolicy(f"threshold {spec!r} is not all, any or a decimal")
    return PolicyGroup(name, threshold, members)
