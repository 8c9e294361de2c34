"""``hoso seal`` (issue, trust-list, verify), ``hoso status-list`` (publish, fetch) and
``hoso result render`` (docs/seal.md).

Exit codes as the verifier's: 0 valid, 1 a check failed (or the result is no longer
valid), 2 malformed input, 3 usage or I/O; ``seal verify`` also 4: authentic, but the
status is unknown (no fresh status list). ``seal verify`` needs no network and no
database.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import typer

from ledger.cli.common import DbOption, fail, opened
from ledger.core.errors import HosoError, MalformedError
from ledger.core.note import parse_ed25519_vkey
from ledger.core.seal import seal_hs1, seal_url, url_host
from ledger.core.status_list import DEFAULT_MAX_AGE_S
from ledger.domain.calendar import VN_TZ

seal_app = typer.Typer(help="Citizen QR seals: issue, publish the trust list, verify offline.")
result_app = typer.Typer(help="Result documents: the printable sheet with its QR seal.")
status_app = typer.Typer(
    help="Signed status lists: publish an agency's, fetch one to verify offline."
)

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
    status_list: Path | None = typer.Option(
        None, help="The agency's signed status list (hoso status-list fetch): proves the status"
    ),
    max_age: int = typer.Option(
        DEFAULT_MAX_AGE_S, min=0, help="Oldest status list accepted, in seconds (policy)"
    ),
    now: str | None = typer.Option(None, help="ISO 8601 time to check freshness at"),
    json_out: bool = typer.Option(False, "--json", help="Print one JSON object"),
) -> None:
    """Verify a seal offline: signature, trusted key, agency scope, validity at issue time,
    and — with a fresh status list — whether the result is still valid."""
    from ledger.services.seals.check import check_offline  # noqa: PLC0415

    try:
        text = _seal_text(seal)
        anchor = parse_ed25519_vkey(trust_key)
        trust_note = trust.read_bytes()
        listed = None if status_list is None else status_list.read_bytes()
        now_s = int((datetime.fromisoformat(now) if now else datetime.now(UTC)).timestamp())
        verdict = check_offline(
            text,
            trust_note=trust_note,
            anchors=[anchor],
            status_list=listed,
            now_s=now_s,
            max_age_s=max_age,
        )
    except OSError as err:
        fail(str(err), 3)
    except ValueError as err:
        fail(f"--now: {err}", 3)
    except HosoError as err:  # the trust list itself does not verify or parse
        typer.echo(f"✗ not verified: the trust list: {err}", err=True)
        raise typer.Exit(2 if isinstance(err, MalformedError) else 1) from err
    code = {"valid": 0, "status_unknown": 4, "invalid_status": 1, "unknown_key": 1}.get(
        verdict.outcome, 2 if verdict.check == "seal.malformed" else 1
    )
    if json_out:
        typer.echo(json.dumps(verdict.as_dict(), ensure_ascii=False))
        raise typer.Exit(code)
    c, key = verdict.claims, verdict.key
    if c is None or key is None:
        typer.echo(f"✗ not verified: [{verdict.check}] {verdict.detail}", err=True)
        raise typer.Exit(code)
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
        ("status list entry", "-" if c.status is None else f"{c.status.list_no}/{c.status.entry}"),
    ):
        typer.echo(f"  {label:<21} {value}")
    if host is not None:
        typer.echo(f"  {'verification host':<21} {host}")
    if verdict.outcome == "valid" and verdict.list_issued_s is not None:
        as_of = datetime.fromtimestamp(verdict.list_issued_s, VN_TZ).isoformat()
        typer.echo(
            f"✓ valid as of {as_of} (status list of checkpoint {verdict.list_checkpoint},"
            f" signed by the agency)"
        )
    elif verdict.outcome == "invalid_status":
        typer.echo("✗ no longer valid: revoked or superseded (the status list says so)")
    else:
        typer.echo(
            f"? status unknown: [{verdict.check}] {verdict.detail}"
            " — open the URL, or POST it to /v1/seals/verify"
        )
    raise typer.Exit(code)


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


@status_app.command("publish")
def status_publish(
    agency: str = typer.Option(..., help="Agency code"),
    key: str = typer.Option(..., help="Keystore name of the agency's seal key"),
    out: Path | None = typer.Option(None, help="Also write each list to DIR/<agency>-<n>.hsl"),
    db: str | None = DbOption,
) -> None:
    """Sign the agency's status lists at the latest checkpoint and commit their hashes."""
    from ledger.services.status_lists import publish  # noqa: PLC0415

    with opened(db, keystore=True) as ledger:
        published = publish(
            ledger.store,
            ledger.log,
            ledger.keys,
            agency,
            ledger.signing_keys().signer(key),
            now_us=ledger.clock_us(),
        )
        for item in published:
            body = item.status_list.body
            line = (
                f"{agency} list {body.list_no}: {body.size} entries, {item.invalid} set,"
                f" checkpoint {body.checkpoint}, {len(item.status_list.document)} bytes,"
                f" sha256 {item.status_list.digest.hex()}"
            )
            if out is not None:
                path = out / f"{agency}-{body.list_no}.hsl"
                try:
                    out.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(item.status_list.document)
                except OSError as err:
                    fail(str(err), 3)
                line += f" -> {path}"
            typer.echo(line)
        if not published:
            typer.echo(f"{agency}: no sealed result yet, no list to publish", err=True)


@status_app.command("fetch")
def status_fetch(
    agency: str = typer.Option(..., help="Agency code"),
    list_no: int = typer.Option(0, "--list", min=0, help="List number (the seal's)"),
    url: str = typer.Option(
        "http://127.0.0.1:8000", envvar="HOSO_API_URL", help="The ledger API's base URL"
    ),
    out: Path = typer.Option(..., "--out", "-o", help="Where to write the list"),
) -> None:
    """Download an agency's latest signed status list (verify it with ``seal verify``)."""
    import httpx  # noqa: PLC0415

    from ledger.core.status_list import parse_status_list  # noqa: PLC0415

    target = f"{url.rstrip('/')}/v1/status-lists/{agency}/{list_no}"
    try:
        response = httpx.get(target, timeout=30)
    except httpx.HTTPError as err:
        fail(f"{target}: {err}", 3)
    if response.status_code != 200:
        fail(f"{target}: HTTP {response.status_code} {response.text[:200]}", 3)
    try:
        body = parse_status_list(response.content).body
    except HosoError as err:
        fail(f"{target} did not answer a status list: {err}", 2)
    try:
        out.write_bytes(response.content)
    except OSError as err:
        fail(str(err), 3)
    issued = datetime.fromtimestamp(body.issued_s, VN_TZ).isoformat()
    typer.echo(f"{out}: {body.agency} list {body.list_no}, issued {issued}, {body.size} entries")


def register(app: typer.Typer) -> None:
    app.add_typer(seal_app, name="seal")
    app.add_typer(status_app, name="status-list")
    app.add_typer(result_app, name="result")
