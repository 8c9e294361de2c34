"""``hoso`` commands over a stored ledger: init, keys, append, act, integrate, checkpoint, proof.

Every command builds the ledger through :func:`ledger.bootstrap.bootstrap` from
settings (environment, ``.env``, ``--db``). Errors print their check id and
exit 1 (a check failed), 2 (malformed input) or 3 (usage or I/O).
"""

from __future__ import annotations

import base64
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import typer

from ledger.bootstrap import Ledger, bootstrap
from ledger.core.checkpoint import parse_checkpoint_text
from ledger.core.encoding import Value
from ledger.core.errors import HosoError, MalformedError
from ledger.core.event import EventBody, sign_event
from ledger.core.hashing import GENESIS_PREV, EventHash
from ledger.core.note import format_vkey
from ledger.core.registry import (
    KEY_REGISTERED,
    KEY_REVOKED,
    REGISTRY_STREAM,
    key_registered,
    key_revoked,
)
from ledger.core.signing import KeyId
from ledger.keystore import Keystore
from ledger.settings import Settings

AUTHORITY_KEY = "authority"

keys_app = typer.Typer(help="Keys: the keystore's keys and the ledger's key registry.")
checkpoint_app = typer.Typer(help="Signed checkpoints (C2SP tlog-checkpoint).")
proof_app = typer.Typer(help="Merkle proofs from storage, as JSON (hashes in base64).")

DbOption = typer.Option(None, "--db", help="Database URL (default: HOSO_DATABASE_URL)")


def settings_for(db: str | None) -> Settings:
    return Settings(database_url=db) if db else Settings()


def passphrase(settings: Settings, *, confirm: bool = False) -> str:
    if settings.keystore_passphrase is not None:
        return settings.keystore_passphrase.get_secret_value()
    if not sys.stdin.isatty():
        fail("no keystore passphrase: set HOSO_KEYSTORE_PASSPHRASE or run in a terminal", 3)
    secret: str = typer.prompt("Keystore passphrase", hide_input=True, confirmation_prompt=confirm)
    return secret


def fail(message: str, code: int) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code)


@contextmanager
def opened(db: str | None, *, keystore: bool = False) -> Iterator[Ledger]:
    """Bootstrap the ledger for one command; translate errors to exit codes."""
    settings = settings_for(db)
    ledger: Ledger | None = None
    try:
        store = None
        if keystore:
            if not settings.keystore_path.exists():
                fail(f"no keystore at {settings.keystore_path}: run `hoso init` first", 3)
            store = Keystore.open(settings.keystore_path, passphrase(settings))
        ledger = bootstrap(settings, keystore=store)
        yield ledger
    except HosoError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(2 if isinstance(err, MalformedError) else 1) from err
    except OSError as err:
        fail(str(err), 3)
    finally:
        if ledger is not None:
            ledger.close()


def init(db: str | None = DbOption) -> None:
    """Create the keystore (log key and an authority key) and the database tables."""
    settings = settings_for(db)
    if settings.keystore_path.exists():
        fail(f"keystore {settings.keystore_path} exists; not overwriting it", 3)
    settings.keystore_path.parent.mkdir(parents=True, exist_ok=True)
    store = Keystore.create(settings.keystore_path, passphrase(settings, confirm=True))
    log = store.add(settings.log_key_name)
    authority = store.add(AUTHORITY_KEY)
    store.save()
    bootstrap(settings, keystore=store).close()
    authority_vkey = format_vkey(f"{settings.origin}/authority", 0x01, authority.public_key)
    typer.echo(f"keystore: {settings.keystore_path} (encrypted; keys: {', '.join(store.names())})")
    typer.echo(f"database: {settings.database_url}")
    typer.echo(f"log key (checkpoints), vkey: {format_vkey(settings.origin, 0x01, log.public_key)}")
    typer.echo("Trust the authority key that signs key-registry events by setting:")
    typer.echo(f"HOSO_AUTHORITY_KEYS='[\"{authority_vkey}\"]'")


@keys_app.command("add")
def keys_add(name: str, db: str | None = DbOption) -> None:
    """Generate a key in the keystore (it is not registered yet)."""
    settings = settings_for(db)
    store = Keystore.open(settings.keystore_path, passphrase(settings))
    info = store.add(name)
    store.save()
    typer.echo(f"{name}: key id {info.key_id.hex()}")


@keys_app.command("register")
def keys_register(
    name: str = typer.Argument(..., help="Keystore name of the key to register"),
    actor: str = typer.Option(..., help="Actor id the key belongs to"),
    role: list[str] = typer.Option(..., help="Role(s), e.g. reception, leader, agency_seal"),
    agency: str = typer.Option(..., help="Agency scope (code)"),
    authority: str = typer.Option(AUTHORITY_KEY, help="Keystore name of the authority key"),
    db: str | None = DbOption,
) -> None:
    """Register a keystore key for an actor, signed by an authority key."""
    with opened(db, keystore=True) as ledger:
        assert ledger.keystore is not None  # noqa: S101 (opened with keystore=True)
        public_key = ledger.keystore.public_key(name).public_key
        payload = key_registered(public_key, actor=actor, roles=set(role), agency=agency)
        n = _registry_append(ledger, KEY_REGISTERED, payload, authority)
        typer.echo(
            f"registered {name} for {actor} {sorted(role)} in {agency} ({REGISTRY_STREAM} n={n})"
        )


@keys_app.command("revoke")
def keys_revoke(
    name: str = typer.Argument(..., help="Keystore name (or hex key id) of the key to revoke"),
    reason: str = typer.Option(..., help="Why (recorded in the signed event)"),
    authority: str = typer.Option(AUTHORITY_KEY, help="Keystore name of the authority key"),
    db: str | None = DbOption,
) -> None:
    """Revoke a registered key, signed by an authority key."""
    with opened(db, keystore=True) as ledger:
        assert ledger.keystore is not None  # noqa: S101 (opened with keystore=True)
        kid = (
            ledger.keystore.public_key(name).key_id
            if name in ledger.keystore
            else KeyId(bytes.fromhex(name))
        )
        n = _registry_append(ledger, KEY_REVOKED, key_revoked(kid, reason=reason), authority)
        typer.echo(f"revoked {kid.hex()} ({REGISTRY_STREAM} n={n})")


@keys_app.command("list")
def keys_list(db: str | None = DbOption) -> None:
    """List registered keys with their actor, roles, agency and status."""
    with opened(db) as ledger:
        for item in ledger.keys.list():
            reg = item.registration
            status = "valid" if item.revoked_n is None else f"revoked (n={item.revoked_n})"
            roles = ",".join(sorted(reg.roles))
            typer.echo(f"{reg.key_id.hex()}  {reg.actor}  {roles}  {reg.agency}  {status}")


@keys_app.command("trust-file")
def keys_trust_file(db: str | None = DbOption) -> None:
    """Print this ledger's trust roots for `hoso verify --trust` (docs/verify.md): origin,
    the log key (from the keystore), the authority and witness keys (from settings).
    Publish it; inspectors should get it from you, not from the server they check."""
    with opened(db, keystore=True) as ledger:
        signer = ledger.checkpoints.signer
        if signer is None:
            fail(f"the keystore has no log key {ledger.settings.log_key_name!r}", 3)
        assert signer is not None  # noqa: S101
        lines = [f"origin {ledger.settings.origin}", f"log {signer.verifier.vkey}"]
        lines += [f"authority {vkey}" for vkey in ledger.settings.authority_keys]
        lines += [f"witness {vkey}" for vkey in ledger.settings.witness_keys]
        typer.echo("\n".join(lines))


def _registry_append(ledger: Ledger, kind: str, payload: dict[str, Value], authority: str) -> int:
    assert ledger.keystore is not None  # noqa: S101
    head = ledger.store.head(REGISTRY_STREAM)
    body = EventBody(
        origin=ledger.settings.origin,
        stream=REGISTRY_STREAM,
        n=1 if head is None else head.body.n + 1,
        prev=GENESIS_PREV if head is None else EventHash(head.event_hash),
        type=kind,
        actor=f"authority:{authority}",
        time_us=ledger.clock_us(),
        payload=payload,
    )
    event = sign_event(body, [ledger.keystore.signer(authority)])
    return ledger.store.append([event.record])[0].n


def append(
    files: list[Path] = typer.Argument(..., help="Files each holding one signed record's bytes"),
    db: str | None = DbOption,
) -> None:
    """Append client-signed records (checked, then stored in one transaction)."""
    records = [f.read_bytes() for f in files]
    with opened(db) as ledger:
        for result in ledger.store.append(records):
            note = " (already stored)" if result.duplicate else ""
            typer.echo(f"{result.stream} n={result.n} {result.event_hash.hex()}{note}")


def act(
    stream: str = typer.Option(..., help="Stream (dossier code)"),
    event_type: str = typer.Option(..., "--type", help="Event type, e.g. DossierReceived"),
    actor: str = typer.Option(..., help="Acting official's actor id"),
    key: list[str] = typer.Option(..., help="Keystore key name(s) to sign with"),
    payload: list[str] = typer.Option(
        ["{}"],
        help='Payload as a JSON object (no floats; bytes as {"$hex": "..."}); @FILE reads one'
        " from a file; several are merged, later fields winning",
    ),
    db: str | None = DbOption,
) -> None:
    """Sign an event with keys held in the keystore (custodial signing) and append it."""
    data: dict[str, Any] = {}
    for part in payload:
        try:
            text = Path(part[1:]).read_text(encoding="utf-8") if part.startswith("@") else part
            parsed = json.loads(text, object_hook=_hex_bytes)
        except OSError as err:
            fail(f"--payload {part}: {err.strerror}", 3)
        except (json.JSONDecodeError, ValueError) as err:
            fail(f"--payload is not valid: {err}", 2)
        if not isinstance(parsed, dict):
            fail("--payload must be a JSON object", 2)
        data.update(parsed)
    with opened(db, keystore=True) as ledger:
        assert ledger.custodian is not None  # noqa: S101 (opened with keystore=True)
        result = ledger.custodian.act(
            stream=stream, event_type=event_type, actor=actor, payload=data, keys=key
        )
        typer.echo(f"{result.stream} n={result.n} {result.event_hash.hex()}")


def integrate(
    follow: bool = typer.Option(False, help="Keep following new events"),
    poll: float = typer.Option(0.5, min=0.01, help="Seconds between polls when following"),
    checkpoint_every: float = typer.Option(
        0.0, help="Sign a checkpoint every N seconds when the tree grew (0: never)"
    ),
    max_seconds: float = typer.Option(0.0, help="Stop following after N seconds (0: never)"),
    db: str | None = DbOption,
) -> None:
    """Integrate stored events into the Merkle log (exactly once, resumable)."""
    with opened(db, keystore=checkpoint_every > 0) as ledger:
        started = last_checkpoint = time.monotonic()
        while True:
            added = ledger.log.integrate()
            if added:
                typer.echo(f"integrated {added} leaves; tree size {ledger.log.size()}")
            now = time.monotonic()
            if checkpoint_every > 0 and now - last_checkpoint >= checkpoint_every:
                note = ledger.checkpoints.sign(now_us=ledger.clock_us())
                typer.echo(f"checkpoint at size {parse_checkpoint_text(note.text).size}")
                last_checkpoint = now
            if not follow or (max_seconds and now - started >= max_seconds):
                break
            time.sleep(poll)


@checkpoint_app.command("sign")
def checkpoint_sign(db: str | None = DbOption) -> None:
    """Integrate, then sign a checkpoint at the integrated size; print it."""
    with opened(db, keystore=True) as ledger:
        ledger.log.integrate()
        typer.echo(ledger.checkpoints.sign(now_us=ledger.clock_us()).serialise().decode(), nl=False)


@checkpoint_app.command("show")
def checkpoint_show(
    size: int | None = typer.Option(None, help="Checkpoint at this size (default: latest)"),
    as_json: bool = typer.Option(False, "--json", help="JSON instead of the C2SP text"),
    db: str | None = DbOption,
) -> None:
    """Print a stored checkpoint with its cosignatures."""
    with opened(db) as ledger:
        if size is None:
            latest = ledger.checkpoints.latest()
            note = None if latest is None else latest[1]
        else:
            note = ledger.checkpoints.note_at(size)
        if note is None:
            fail("no such checkpoint", 1)
        assert note is not None  # noqa: S101
        if not as_json:
            typer.echo(note.serialise().decode(), nl=False)
            return
        cp = parse_checkpoint_text(note.text)
        typer.echo(
            json.dumps(
                {
                    "origin": cp.origin,
                    "size": cp.size,
                    "root": _b64(cp.root),
                    "note": note.serialise().decode(),
                },
                indent=2,
            )
        )


@proof_app.command("inclusion")
def proof_inclusion(
    index: int | None = typer.Option(None, help="Leaf index"),
    event_hash: str | None = typer.Option(None, help="Event hash (hex) instead of an index"),
    size: int | None = typer.Option(None, help="Tree size (default: latest checkpoint)"),
    db: str | None = DbOption,
) -> None:
    """Inclusion proof of one event in the tree of a checkpointed size."""
    with opened(db) as ledger:
        if (index is None) == (event_hash is None):
            fail("give exactly one of --index and --event-hash", 3)
        leaf = (
            index if index is not None else ledger.log.leaf_index(bytes.fromhex(event_hash or ""))
        )
        tree_size = size if size is not None else _latest_size(ledger)
        proof = ledger.log.inclusion_proof(index=leaf, size=tree_size)
        out: dict[str, Any] = {
            "leaf_index": leaf,
            "tree_size": tree_size,
            "proof": [_b64(h) for h in proof],
        }
        typer.echo(json.dumps(out, indent=2))


@proof_app.command("consistency")
def proof_consistency(
    old: int = typer.Option(..., help="Older tree size"),
    new: int | None = typer.Option(None, help="Newer tree size (default: latest checkpoint)"),
    db: str | None = DbOption,
) -> None:
    """Consistency proof between two tree sizes."""
    with opened(db) as ledger:
        size2 = new if new is not None else _latest_size(ledger)
        proof = ledger.log.consistency_proof(size1=old, size2=size2)
        typer.echo(
            json.dumps({"size1": old, "size2": size2, "proof": [_b64(h) for h in proof]}, indent=2)
        )


def _hex_bytes(obj: dict[str, Any]) -> Any:
    """JSON has no bytes: ``{"$hex": "00ff"}`` stands for the bytes 00 ff."""
    if set(obj) == {"$hex"}:
        return bytes.fromhex(obj["$hex"])
    return obj


def _latest_size(ledger: Ledger) -> int:
    latest = ledger.checkpoints.latest()
    if latest is None:
        fail("no checkpoint yet: run `hoso checkpoint sign`, or pass --size", 3)
    assert latest is not None  # noqa: S101
    return latest[0].size


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(append)
    app.command()(act)
    app.command()(integrate)
    app.add_typer(keys_app, name="keys")
    app.add_typer(checkpoint_app, name="checkpoint")
    app.add_typer(proof_app, name="proof")
