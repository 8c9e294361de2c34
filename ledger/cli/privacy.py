"""``hoso privacy``: the vault, logged reads, a citizen's access log, erasure, the rules.

Id numbers are asked for at a hidden prompt (or read from stdin), never taken
as arguments, so they don't land in shell history or process listings. A
personal record is shown only to a registered official, and only after the
read is in the access queue.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sys
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from ledger.bootstrap import Ledger
from ledger.cli.common import DbOption, fail, opened, settings_for
from ledger.domain.privacy import ACCESS_STREAM, ERASURE_BASES, PURPOSES, access_entries
from ledger.domain.state import format_time
from ledger.privacy.records import PersonalRecord
from ledger.privacy.service import Reader

privacy_app = typer.Typer(help="Personal data: vault, logged reads, access log, erasure.")

ActorOption = typer.Option(..., "--as", help="The reading official's registered actor name")
RoleOption = typer.Option(None, "--role", help="Which of the actor's roles (default: the only one)")


def reader_for(ledger: Ledger, actor: str, role: str | None) -> Reader:
    """The official as the key registry knows them (an unrevoked key of theirs)."""
    listings = [
        k for k in ledger.keys.list() if k.registration.actor == actor and k.revoked_n is None
    ]
    if not listings:
        fail(f"{actor} has no registered, unrevoked key: not an official hoso knows", 1)
    roles = sorted({r for k in listings for r in k.registration.roles})
    chosen = role or (roles[0] if len(roles) == 1 else "")
    if chosen not in roles:
        fail(f"{actor} holds roles {roles}: name one with --role", 3)
    return Reader(actor, listings[0].registration.agency, chosen)


def ask_id_number() -> str:
    if sys.stdin.isatty():
        answer: str = typer.prompt("Id number (CCCD)", hide_input=True)
        return answer
    return sys.stdin.readline().strip()


@privacy_app.command("keygen")
def keygen(out: Path = typer.Option(..., "--out", help="Env file to create (mode 0600)")) -> None:
    """Create fresh vault and index secrets in an env file; nothing is printed."""
    if out.exists():
        fail(f"{out} exists; not overwriting secrets", 3)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(f"HOSO_VAULT_KEY={secrets.token_hex(32)}\n")
        handle.write(f"HOSO_INDEX_KEY={secrets.token_hex(32)}\n")
    typer.echo(f"wrote {out} (mode 0600): HOSO_VAULT_KEY, HOSO_INDEX_KEY")


@privacy_app.command("register")
def register_record(
    dossier: str = typer.Option(..., "--dossier", help="The dossier the record comes with"),
    record: Path = typer.Option(..., "--record", help="JSON file with the personal record"),
    db: str | None = DbOption,
) -> None:
    """Put an applicant's record in the vault; print the commitments to submit."""
    with opened(db) as ledger:
        try:
            fields = json.loads(record.read_text(encoding="utf-8"))
        except (OSError, ValueError) as err:
            fail(f"can't read the record file: {type(err).__name__}", 3)
        person = PersonalRecord.of(**{k: str(v) for k, v in fields.items()})
        registered = ledger.privacy.register(dossier, person)
        typer.echo(
            json.dumps(
                {
                    "applicant": {"$hex": registered.applicant.hex()},
                    "personal": {"$hex": registered.personal.hex()},
                }
            )
        )


@privacy_app.command("show")
def show(
    dossier: str = typer.Option(..., "--dossier"),
    actor: str = ActorOption,
    purpose: str = typer.Option(..., "--purpose", help=f"One of {sorted(PURPOSES)}"),
    role: str | None = RoleOption,
    db: str | None = DbOption,
) -> None:
    """Show a dossier applicant's record to an official (the read is logged first)."""
    with opened(db, keystore=_has_keystore(db)) as ledger:
        reader = reader_for(ledger, actor, role)
        person = ledger.privacy.read(reader, dossier=dossier, purpose=purpose)
        table = Table(title=f"Personal record of dossier {dossier}'s applicant")
        table.add_column("field")
        table.add_column("value")
        for name, value in person.as_value().items():
            table.add_row(name, str(value))
        Console().print(table)
        typer.echo(f"(this read by {actor} for {purpose!r} is in the access log)")


@privacy_app.command("find")
def find(
    actor: str = ActorOption, role: str | None = RoleOption, db: str | None = DbOption
) -> None:
    """An official's search by id number (asked for, hidden); the search is logged."""
    with opened(db, keystore=_has_keystore(db)) as ledger:
        reader = reader_for(ledger, actor, role)
        for state in ledger.privacy.find(reader, ask_id_number()):
            typer.echo(f"{state.code}  {state.procedure}  {state.agency}  {state.state.label}")


@privacy_app.command("accesses")
def accesses(
    dossier: str | None = typer.Option(None, "--dossier", help="Whose applicant (else: ask id)"),
    as_json: bool = typer.Option(False, "--json"),
    db: str | None = DbOption,
) -> None:
    """Who read a citizen's personal data, when and why (the citizen's own view)."""
    with opened(db) as ledger:
        if dossier is not None:
            state = ledger.dossiers.state(dossier)
            subject = None if state is None else state.applicant
        else:
            subject = ledger.privacy.vault.lookup(ask_id_number())
        if subject is None:
            fail("no such citizen or dossier", 1)
        rows = [
            {
                "time": format_time(e.time_us),
                "reader": e.reader,
                "agency": e.agency,
                "role": e.role,
                "dossier": e.dossier,
                "purpose": e.purpose,
            }
            for event in ledger.store.read_stream(ACCESS_STREAM)
            for e in access_entries(event.body)
            if e.subject == subject
        ]
        if as_json:
            typer.echo(json.dumps(rows, ensure_ascii=False, indent=2))
            return
        table = Table(title=f"{len(rows)} logged read(s)")
        for column in ("time", "reader", "agency", "role", "dossier", "purpose"):
            table.add_column(column)
        for row in rows:
            table.add_row(*(str(v) for v in row.values()))
        Console().print(table)
        pending = ledger.privacy.access.pending()
        if pending:
            typer.echo(f"({pending} read(s) still queued; `hoso privacy flush` logs them)")


@privacy_app.command("flush")
def flush(db: str | None = DbOption) -> None:
    """Sign and append the queued reads (needs the access-log key in the keystore)."""
    with opened(db, keystore=True) as ledger:
        if ledger.privacy.access.signer is None:
            fail(f"the keystore has no {ledger.settings.access_key_name!r} key", 3)
        typer.echo(f"logged {ledger.privacy.access.flush()} read(s)")


@privacy_app.command("erase")
def erase(
    dossier: str = typer.Option(..., "--dossier", help="A dossier of the subject to erase"),
    basis: str = typer.Option(..., "--basis", help=f"One of {sorted(ERASURE_BASES)}"),
    request: Path = typer.Option(..., "--request", help="The subject's request (file; hashed)"),
    actor: str = typer.Option(..., "--actor", help="The signing leader's actor name"),
    key: list[str] = typer.Option(..., "--key", help="Keystore name(s) of the signing key(s)"),
    db: str | None = DbOption,
) -> None:
    """Erase a data subject: signed SubjectErased, then key, records and index destroyed."""
    if basis not in ERASURE_BASES:
        fail(f"--basis must be one of {sorted(ERASURE_BASES)}", 3)
    try:
        request_hash = hashlib.sha256(request.read_bytes()).digest()
    except OSError as err:
        fail(f"can't read {request}: {err.strerror}", 3)
    with opened(db, keystore=True) as ledger:
        state = ledger.dossiers.state(dossier)
        if state is None:
            fail(f"no dossier {dossier}", 1)
        appended = ledger.privacy.erase(
            state.applicant, basis=basis, request_hash=request_hash, actor=actor, keys=key
        )
        done = "recorded and destroyed" if appended else "already recorded; destruction finished"
        typer.echo(f"subject of {dossier}: erasure {done}")


@privacy_app.command("verify")
def verify_commitments(
    actor: str = ActorOption, role: str | None = RoleOption, db: str | None = DbOption
) -> None:
    """An inspector checks every vault record against the ledger's commitments (logged)."""
    with opened(db, keystore=_has_keystore(db)) as ledger:
        report = ledger.privacy.verify_commitments(reader_for(ledger, actor, role))
        for failure in report.failures:
            typer.echo(f"error: {failure}", err=True)
        typer.echo(
            f"{report.verified} dossier(s) verified against their commitments; "
            f"{report.erased} erased; {report.missing} without a vault record; "
            f"{len(report.failures)} failure(s)"
        )
        if report.failures or report.missing:
            raise typer.Exit(1)


@privacy_app.command("rewrap")
def rewrap(db: str | None = DbOption) -> None:
    """After a master-key rotation: re-wrap every data key under the current key."""
    with opened(db) as ledger:
        typer.echo(f"re-wrapped {ledger.privacy.vault.rewrap()} data key(s)")


@privacy_app.command("audit")
def audit(as_json: bool = typer.Option(False, "--json"), db: str | None = DbOption) -> None:
    """Personal-data rule findings: out-of-scope reads, erasures under retention."""
    with opened(db) as ledger:
        findings = ledger.privacy.audit()
        if as_json:
            typer.echo(json.dumps([f.as_dict() for f in findings], ensure_ascii=False, indent=2))
            return
        for f in findings:
            where = f"{f.stream} n={f.n}"
            typer.echo(f"{f.rule}  {where}  {f.message} (expected {f.expected}, found {f.found})")
        typer.echo(f"{len(findings)} finding(s)")


def _has_keystore(db: str | None) -> bool:
    """Reads flush the access log when a keystore (with the access key) can be opened."""
    settings = settings_for(db)
    return settings.keystore_path.exists() and settings.keystore_passphrase is not None


def register(app: typer.Typer) -> None:
    app.add_typer(privacy_app, name="privacy")
