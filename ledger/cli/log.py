"""``hoso append``, ``act``, ``integrate``, ``checkpoint``, ``proof`` and ``index``: the log.

Every command builds the ledger through :func:`ledger.bootstrap.bootstrap` from
settings (environment, ``.env``, ``--db``). Errors print their check id and
exit 1 (a check failed), 2 (malformed input) or 3 (usage or I/O).
"""

from __future__ import annotations

import base64
import json
import logging
import time
from pathlib import Path
from typing import Any

import typer

from ledger.bootstrap import Ledger
from ledger.cli.common import DbOption, fail, opened
from ledger.core.checkpoint import parse_checkpoint_text
from ledger.services.witnessing import Outcome, WitnessPool, witness_once
from ledger.storage.index_store import Built
from ledger.storage.outage import Backoff, ride_out

checkpoint_app = typer.Typer(help="Signed checkpoints (C2SP tlog-checkpoint).")
proof_app = typer.Typer(help="Merkle proofs from storage, as JSON (hashes in base64).")
index_app = typer.Typer(help="The stream index (docs/formats.md §12), built ahead of checkpoints.")

log = logging.getLogger("hoso.integrate")


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
        result = ledger.custodial().act(
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
    """Integrate stored events into the Merkle log (exactly once, resumable).

    With checkpoints, each one goes to the witnesses of HOSO_WITNESS_URLS: when
    following, from one background thread per witness (a slow witness never holds up
    the loop); otherwise once, before the command ends."""
    with opened(db, keystore=checkpoint_every > 0) as ledger:
        clients = ledger.witness_clients() if checkpoint_every > 0 else []
        pool = WitnessPool(clients, report=_report).start() if follow and clients else None
        started = last_checkpoint = time.monotonic()
        backoff = Backoff()
        try:
            while True:
                try:
                    added = ledger.log.integrate()
                    if added:
                        typer.echo(f"integrated {added} leaves; tree size {ledger.log.size()}")
                    now = time.monotonic()
                    if checkpoint_every > 0 and now - last_checkpoint >= checkpoint_every:
                        note = ledger.checkpoints.sign(now_us=ledger.clock_us())
                        typer.echo(f"checkpoint at size {parse_checkpoint_text(note.text).size}")
                        last_checkpoint = now
                        if pool is not None:
                            pool.notify()
                        elif clients:
                            for outcome in witness_once(clients):
                                _report(outcome)
                    backoff.succeeded()
                except Exception as err:  # following: an outage is waited out (logged)
                    if not follow:
                        raise
                    ride_out(err, backoff, log, "integrate --follow", ledger.backend)
                    now = time.monotonic()
                if not follow or (max_seconds and now - started >= max_seconds):
                    break
                time.sleep(poll)
        finally:
            if pool is not None:
                pool.stop()


def _report(outcome: Outcome) -> None:
    if outcome.error is not None:
        typer.echo(f"witness {outcome.witness}: {outcome.error}", err=True)
    elif outcome.size is not None:
        typer.echo(f"witness {outcome.witness}: cosigned size {outcome.size}")


@index_app.command("build")
def index_build(db: str | None = DbOption) -> None:
    """Build the stream index over the integrated log (no commit: the next checkpoint
    commits it, then building only the entries integrated since)."""
    with opened(db) as ledger:
        built = ledger.index_store().catch_up(ledger.log.size())
        _echo_built(built)


@index_app.command("follow")
def index_follow(
    poll: float = typer.Option(0.2, min=0.01, help="Seconds between looks at the log"),
    max_seconds: float = typer.Option(0.0, help="Stop after N seconds (0: never)"),
    db: str | None = DbOption,
) -> None:
    """Keep the stream index built up to the integrated log, in its own process beside
    ``hoso integrate --follow``: each checkpoint then builds only the last few entries
    itself, and integration does not wait for the index (docs/operations.md)."""
    with opened(db) as ledger, ledger.index_store().following():
        index = ledger.index_store()
        started = time.monotonic()
        backoff = Backoff()
        while True:
            try:
                before = index.latest_built()
                built = index.catch_up(ledger.log.size())
                if built is not None and (before is None or built.version > before.version):
                    _echo_built(built)
                backoff.succeeded()
            except Exception as err:  # an outage is waited out (logged)
                ride_out(err, backoff, log, "index follow", ledger.backend)
            if max_seconds and time.monotonic() - started >= max_seconds:
                break
            time.sleep(poll)


def _echo_built(built: Built | None) -> None:
    if built is None:
        typer.echo("index: the log is empty")
    else:
        typer.echo(f"index built at size {built.version}: {built.streams} streams")


@checkpoint_app.command("sign")
def checkpoint_sign(db: str | None = DbOption) -> None:
    """Integrate, then sign a checkpoint at the integrated size; print it."""
    with opened(db, keystore=True) as ledger:
        ledger.log.integrate()
        typer.echo(ledger.checkpoints.sign(now_us=ledger.clock_us()).serialise().decode(), nl=False)


@checkpoint_app.command("witness")
def checkpoint_witness(
    attempts: int = typer.Option(3, min=1, help="Tries per witness"),
    backoff: float = typer.Option(1.0, min=0, help="Seconds before the 2nd try (doubling)"),
    db: str | None = DbOption,
) -> None:
    """Submit the latest checkpoint to every witness of HOSO_WITNESS_URLS (C2SP
    tlog-witness add-checkpoint) and store their cosignatures; exit 1 if one failed."""
    with opened(db) as ledger:
        clients = ledger.witness_clients()
        if not clients:
            fail("no witness configured: set HOSO_WITNESS_URLS", 3)
        failed = clients
        delay = backoff
        for attempt in range(attempts):
            if attempt:
                time.sleep(delay)
                delay *= 2
            outcomes = witness_once(failed)
            for outcome in outcomes:
                if outcome.error is None or attempt == attempts - 1:
                    _report(outcome)
            failed = [c for c, o in zip(failed, outcomes, strict=True) if o.error is not None]
            if not failed:
                break
        for client in clients:
            client.close()
        if failed:
            raise typer.Exit(1)


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
    return latest[0].size


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def register(app: typer.Typer) -> None:
    app.command()(append)
    app.command()(act)
    app.command()(integrate)
    app.add_typer(checkpoint_app, name="checkpoint")
    app.add_typer(proof_app, name="proof")
    app.add_typer(index_app, name="index")
