"""``hoso seal`` (issue, trust-list, verify) and ``hoso result render`` (docs/seal.md).

Exit codes as the verifier's: 0 valid, 1 a check failed, 2 malformed input,
3 usage or I/O. ``seal verify`` needs no network and no database.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import typer

from ledger.cli.common import DbOption, fail, opened
from ledger.core.errors import HosoError, MalformedError
from ledger.core.note import parse_ed25519_vkey
from ledger.core.seal import decode_text, parse_seal, seal_hs1, seal_url, url_host
from ledger.core.seal_trust import open_trust_list, verify_seal
from ledger.domain.calendar import VN_TZ

seal_app = typer.Typer(help="Citizen QR seals: issue, publish the trust list, verify offline.")
result_app = typer.Typer(help="Result documents: the printable sheet with its QR seal.")

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".bmp", ".webp"}


@seal_app.command("issue")
def issue(
    dossier: str = typer.Option(..., help="Dossier code"),
    result: str = typer.Option(..., help="Result number"),
    key: str = typer.Option(..., help="Keystore name of the agency seal key"),
    png: Path | None = typer.Option(None, help="Write the URL form's QR as PNG"),
    svg: Path | None = typer.Option(None, help="Write the URL form's QR as SVG"),
    db: str | None = DbOption,
) -> None:
    """Sign a seal for a valid result; print its URL and HS1 forms."""
    from ledger.services.seals.issue import issue_seal  # noqa: PLC0415
    from ledger.services.seals.qr import make_qr, png_bytes, svg_text  # noqa: PLC0415 (segno is slow)

    with opened(db, keystore=True) as ledger:
        seal = issue_seal(ledger, dossier, result, ledger.signing_keys().signer(key))
        url = seal_url(ledger.settings.seal_host, seal)
        qr = make_qr(url)
        try:
            if png is not None:
                png.write_bytes(png_bytes(qr))
            if svg is not None:
                svg.write_text(svg_text(qr), encoding="utf-8")
        except OSError as err:
            fail(str(err), 3)
        typer.echo(url)
        typer.echo(seal_hs1(seal))
        typer.echo(f"# {len(seal)} bytes; QR {qr.designator} (URL form)", err=True)


@seal_app.command("trust-list")
def trust_list(
    out: Path | None = typer.Option(None, help="Write here instead of stdout"),
    db: str | None = DbOption,
) -> None:
    """The agency seal keys as a note signed by the log key (verify with its vkey)."""
    from ledger.services.seals.issue import signed_trust_list  # noqa: PLC0415

    with opened(db, keystore=True) as ledger:
        note = signed_trust_list(ledger, origin=ledger.settings.origin, now_us=ledger.clock_us())
        data = note.serialise()
        if out is None:
            typer.echo(data.decode(), nl=False)
        else:
            try:
                out.write_bytes(data)
            except OSError as err:
                fail(str(err), 3)
        typer.echo(f"# trust anchor: {ledger.checkpoints.log_key().verifier.vkey}", err=True)


@seal_app.command("verify")
def verify(
    seal: str = typer.Argument(..., help="The seal: URL, HS1: text, digits, or an image file"),
    trust: Path = typer.Option(..., help="The signed trust list (hoso seal trust-list)"),
    trust_key: str = typer.Option(
        ..., envvar="HOSO_SEAL_TRUST_KEY", help="vkey of the key that signs the trust list"
    ),
) -> None:
    """Verify a seal offline: signature, trusted key, agency scope, validity at issue time."""
    try:
        text = _seal_text(seal)
        anchor = parse_ed25519_vkey(trust_key)
        trusted = open_trust_list(trust.read_bytes(), [anchor])
        parsed = parse_seal(decode_text(text))
        key = verify_seal(parsed, trusted)
    except OSError as err:
        fail(str(err), 3)
    except HosoError as err:
        typer.echo(f"✗ not verified: {err}", err=True)
        raise typer.Exit(2 if isinstance(err, MalformedError) else 1) from err
    c = parsed.claims
    issued = datetime.fromtimestamp(c.issued_s, VN_TZ).isoformat()
    host = url_host(text)
    typer.echo("✓ authentic: signed by a trusted agency seal key, claims unchanged")
    for label, value in (
        ("agency", c.agency),
        ("procedure", c.procedure),
        ("result", c.result_number),
        ("dossier", c.dossier),
        ("issued", issued),
        ("seal key", key.key_id.hex()),
        ("document sha256[:16]", c.document_hash.hex()),
        ("event hash[:16]", c.event_hash.hex()),
    ):
        typer.echo(f"  {label:<21} {value}")
    if host is not None:
        typer.echo(f"  {'verification host':<21} {host}")
    typer.echo(
        "revocation status not checked offline: open the URL, or POST it to /v1/seals/verify"
    )


def _seal_text(seal: str) -> str:
    path = Path(seal)
    if path.suffix.lower() in IMAGE_SUFFIXES:
        from ledger.services.seals.qr import read_qr_file  # noqa: PLC0415 (zxing-cpp only for images)

        return read_qr_file(path)  # OSError for a missing file: exit 3
    return seal


@result_app.command("render")
def render(
    dossier: str = typer.Option(..., help="Dossier code"),
    result: str = typer.Option(..., help="Result number"),
    key: str = typer.Option(..., help="Keystore name of the agency seal key"),
    out: Path = typer.Option(Path("."), help="Directory for <number>.html and <number>.png"),
    png: bool = typer.Option(True, help="Also screenshot the sheet with headless chromium"),
    db: str | None = DbOption,
) -> None:
    """Write the printable result sheet (Decree 30/2020 layout) with its QR seal."""
    from ledger.services.seals.sheet import write_result_sheet  # noqa: PLC0415

    with opened(db, keystore=True) as ledger:
        keystore = ledger.signing_keys()
        try:
            paths = write_result_sheet(
                ledger,
                dossier,
                result,
                keystore.signer(key),
                out=out,
                host=ledger.settings.seal_host,
                screenshot=png,
            )
        except OSError as err:
            fail(str(err), 3)
        for path in paths:
            typer.echo(str(path))


def register(app: typer.Typer) -> None:
    app.add_typer(seal_app, name="seal")
    app.add_typer(result_app, name="result")
