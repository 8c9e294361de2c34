"""``hoso witness keygen | vkey | serve``: a standalone C2SP tlog-witness
(docs/operations.md §Running a witness).

The witness needs no ledger database or settings: its key file, its state file, and the
logs it witnesses (``--log VKEY``, repeatable, or ``--logs FILE`` with tlog-policy
``log <vkey>`` lines; a log's origin is its vkey's key name).
"""

from __future__ import annotations

import os
from pathlib import Path

import typer

from ledger.cli.common import EXIT_USAGE, exit_code, fail
from ledger.core.checkpoint import AnyCosigner
from ledger.core.errors import HosoError
from ledger.core.note import SIG_COSIGNATURE_MLDSA44, SIG_COSIGNATURE_V1, NoteVerifier
from ledger.core.policy import parse_policy
from ledger.core.signing import SEED_SIZE
from ledger.core.witness import parse_log_vkey
from ledger.witness.keyfile import create_key_file, read_key_file

witness_app = typer.Typer(help="A standalone C2SP tlog-witness that cosigns checkpoints.")
KeyOption = typer.Option(..., "--key", help="The witness's key file (PRIVATE+KEY+..., mode 0600)")


@witness_app.command("keygen")
def keygen(
    name: str = typer.Option(..., help="Witness key name, a schema-less URL (witness.example/w1)"),
    key: Path = KeyOption,
    algorithm: str = typer.Option(
        "ed25519",
        "--algorithm",
        help="ed25519 (cosignature/v1, type 0x04) or ml-dsa-44 (subtree/v1, type 0x06;"
        " post-quantum, recommended by tlog-cosignature for new witnesses)",
    ),
) -> None:
    """Create a key file (never overwriting one); print its vkey (type 0x04 or 0x06)."""
    types = {"ed25519": SIG_COSIGNATURE_V1, "ml-dsa-44": SIG_COSIGNATURE_MLDSA44}
    if algorithm not in types:
        fail(f"--algorithm is one of {', '.join(types)}", EXIT_USAGE)
    try:
        cosigner = create_key_file(
            key, name=name, seed=os.urandom(SEED_SIZE), sig_type=types[algorithm]
        )
    except FileExistsError:
        fail(f"{key} exists; not overwriting it", EXIT_USAGE)
    except OSError as err:
        fail(f"can't write {key}: {err.strerror}", EXIT_USAGE)
    except HosoError as err:
        fail(str(err), exit_code(err))
    typer.echo(cosigner.verifier.vkey)


@witness_app.command("vkey")
def vkey(key: Path = KeyOption) -> None:
    """Print the vkey of a key file."""
    typer.echo(_cosigner(key).verifier.vkey)


@witness_app.command("serve")
def serve(
    key: Path = KeyOption,
    state: Path = typer.Option(..., help="State file (last size and root per log; fsync'd)"),
    log: list[str] = typer.Option([], help="A log's vkey (0x01 or 0x04); repeatable"),
    logs: Path | None = typer.Option(None, help="A tlog-policy file whose `log` lines to use"),
    host: str = typer.Option("127.0.0.1", help="Address to listen on"),
    port: int = typer.Option(8080, min=1, max=65535, help="Port"),
) -> None:
    """Serve POST /add-checkpoint and GET /<origin hash>/checkpoint (uvicorn)."""
    import uvicorn  # noqa: PLC0415

    from ledger.witness.server import create_app  # noqa: PLC0415
    from ledger.witness.service import Witness  # noqa: PLC0415
    from ledger.witness.state import WitnessState  # noqa: PLC0415

    cosigner = _cosigner(key)
    trusted: dict[str, list[NoteVerifier]] = {}
    try:
        keys = [parse_log_vkey(v) for v in log]
        if logs is not None:
            policy = parse_policy(logs.read_text(encoding="utf-8"), quorum_required=False)
            keys += [entry.key for entry in policy.logs]
        for k in keys:
            trusted.setdefault(k.name, []).append(k)
        if not trusted:
            fail("no log to witness: give --log VKEY or --logs FILE", EXIT_USAGE)
        opened = WitnessState(state)
    except OSError as err:
        fail(str(err), EXIT_USAGE)
    except HosoError as err:
        fail(str(err), exit_code(err))
    typer.echo(f"witness {cosigner.verifier.vkey}; logs: {', '.join(sorted(trusted))}", err=True)
    witness = Witness(cosigner=cosigner, logs=trusted, state=opened)
    try:
        uvicorn.run(create_app(witness), host=host, port=port, log_level="info")
    finally:
        opened.close()


def _cosigner(key: Path) -> AnyCosigner:
    try:
        return read_key_file(key)
    except OSError as err:
        fail(f"can't read {key}: {err.strerror}", EXIT_USAGE)
    except HosoError as err:
        fail(str(err), exit_code(err))


def register(app: typer.Typer) -> None:
    app.add_typer(witness_app, name="witness")
