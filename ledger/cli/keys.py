"""``hoso init`` and ``hoso keys``: the keystore's keys and the ledger's key registry.

Every command builds the ledger through :func:`ledger.bootstrap.bootstrap` from
settings (environment, ``.env``, ``--db``). Errors print their check id and
exit 1 (a check failed), 2 (malformed input) or 3 (usage or I/O).
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path

import typer

from ledger.bootstrap import Ledger, bootstrap, witnesses
from ledger.cli.common import DbOption, fail, opened, passphrase, settings_for
from ledger.core.chain import next_body
from ledger.core.encoding import Value
from ledger.core.event import sign_event
from ledger.core.note import format_vkey, parse_public_key_text
from ledger.core.registry import (
    KEY_REGISTERED,
    KEY_REVOKED,
    REGISTRY_STREAM,
    key_registered,
    key_revoked,
)
from ledger.core.signing import KeyId, key_id
from ledger.storage.keystore import Keystore

AUTHORITY_KEY = "authority"

keys_app = typer.Typer(help="Keys: the keystore's keys and the ledger's key registry.")


def init(db: str | None = DbOption) -> None:
    """Create the keystore (log key and an authority key) and the database tables."""
    settings = settings_for(db)
    if settings.keystore_path.exists():
        fail(f"keystore {settings.keystore_path} exists; not overwriting it", 3)
    settings.keystore_path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    secrets_env = settings.keystore_path.parent / "secrets.env"
    if secrets_env.exists():
        fail(f"{secrets_env} exists; not overwriting it", 3)
    store = Keystore.create(settings.keystore_path, passphrase(settings, confirm=True))
    log = store.add(settings.log_key_name)
    authority = store.add(AUTHORITY_KEY)
    store.save()
    write_fresh_secrets(secrets_env)
    bootstrap(settings, keystore=store).close()
    authority_vkey = format_vkey(f"{settings.origin}/authority", 0x01, authority.public_key)
    typer.echo(f"keystore: {settings.keystore_path} (encrypted; keys: {', '.join(store.names())})")
    typer.echo(f"database: {settings.database_url}")
    typer.echo(f"log key (checkpoints), vkey: {format_vkey(settings.origin, 0x01, log.public_key)}")
    typer.echo(f"fresh vault and index keys: {secrets_env} (mode 0600; load it with")
    typer.echo(f"  set -a; . {secrets_env}; set +a  — the server refuses the development keys)")
    typer.echo("Trust the authority key that signs key-registry events by setting:")
    typer.echo(f"HOSO_AUTHORITY_KEYS='[\"{authority_vkey}\"]'")


def write_fresh_secrets(path: Path) -> None:
    """Fresh random vault and index keys, in a file only its owner reads (0600)."""
    lines = "".join(
        f"{name}={secrets.token_hex(32)}\n" for name in ("HOSO_VAULT_KEY", "HOSO_INDEX_KEY")
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write("# hoso init: this ledger's vault and index keys (secret; back them up)\n")
        handle.write(lines)


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
    name: str | None = typer.Argument(
        None, help="Keystore name of the key to register (or give --public-key)"
    ),
    public_key_text: str | None = typer.Option(
        None,
        "--public-key",
        help="A key made in the official's own client: C2SP vkey, 64 hex digits or base64"
        " (no private key passes the server)",
    ),
    actor: str = typer.Option(..., help="Actor id the key belongs to"),
    role: list[str] = typer.Option(
        ..., help="Role(s), e.g. reception, leader, agency_seal; authority rotates authority"
    ),
    agency: str = typer.Option(..., help="Agency scope (code)"),
    authority: str = typer.Option(AUTHORITY_KEY, help="Keystore name of the authority key"),
    db: str | None = DbOption,
) -> None:
    """Register a key for an actor, signed by an authority key: a keystore key by NAME, or
    one generated elsewhere by --public-key. A key with the authority role signs registry
    events from then on (authority rotation; revoke the old one with hoso keys revoke)."""
    if (name is None) == (public_key_text is None):
        fail("give a keystore NAME or --public-key, not both", 3)
    with opened(db, keystore=True) as ledger:
        if name is not None:
            public_key = ledger.signing_keys().public_key(name).public_key
            label = name
        else:
            public_key = parse_public_key_text(public_key_text or "")
            label = f"key {key_id(public_key).hex()}"
        payload = key_registered(public_key, actor=actor, roles=set(role), agency=agency)
        n = _registry_append(ledger, KEY_REGISTERED, payload, authority)
        typer.echo(
            f"registered {label} for {actor} {sorted(role)} in {agency} ({REGISTRY_STREAM} n={n})"
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
        keystore = ledger.signing_keys()
        kid = keystore.public_key(name).key_id if name in keystore else KeyId(bytes.fromhex(name))
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
        lines = [f"origin {ledger.settings.origin}", f"log {signer.verifier.vkey}"]
        lines += [f"authority {vkey}" for vkey in ledger.settings.authority_keys]
        lines += [f"witness {w.vkey}" for w in witnesses(ledger.settings)]
        typer.echo("\n".join(lines))


def _registry_append(ledger: Ledger, kind: str, payload: dict[str, Value], authority: str) -> int:
    head = ledger.store.head(REGISTRY_STREAM)
    body = next_body(
        head,
        origin=ledger.settings.origin,
        stream=REGISTRY_STREAM,
        event_type=kind,
        actor=f"authority:{authority}",
        time_us=ledger.clock_us(),
        payload=payload,
    )
    event = sign_event(body, [ledger.signing_keys().signer(authority)])
    return ledger.store.append([event.record])[0].n


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.add_typer(keys_app, name="keys")
