"""The printable result sheet: the result with its QR seal, in the Decree 30/2020 layout.

Self-contained A4 HTML (no external assets): the national motto, the agency,
number and symbol, place and date, title, body, the competent signer's block
(actor, key id, signing time from the ledger's event), the agency seal block,
and the QR with its caption; plus a PNG screenshot by headless chromium. Only
ledger data appears: never the applicant (docs/privacy.md).
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from html import escape
from pathlib import Path

from ledger.core.seal import seal_hs1, seal_url
from ledger.core.signing import Signer
from ledger.domain.calendar import VN_TZ
from ledger.services.seals.issue import SEAL_ROLE, SealSources, issue_seal
from ledger.services.seals.qr import make_qr, png_bytes, svg_text


class ChromiumMissing(OSError):
    """No chromium to take the screenshot with."""


@dataclass(frozen=True, slots=True)
class SignerBlock:
    actor: str
    key_id: str
    role: str
    time: str


def _when(t_us: int) -> datetime:
    return datetime.fromtimestamp(t_us / 1_000_000, VN_TZ)


def sheet_html(
    src: SealSources,
    dossier: str,
    number: str,
    seal: bytes,
    *,
    host: str,
    agency_names: Mapping[str, str] | None = None,
) -> str:
    """The sheet's HTML around a seal issued for this result."""
    state = src.dossiers.existing(dossier)
    result = state.results[number]
    event = src.dossiers.store.stored_event(dossier, result.n)
    records = src.dossiers.store.keys([s.key_id for s in event.signatures])
    blocks = [
        SignerBlock(
            r.actor,
            r.key_id.hex(),
            "agency_seal" if SEAL_ROLE in r.roles else ",".join(sorted(r.roles)),
            _when(event.body.time_us).isoformat(timespec="seconds"),
        )
        for r in records.values()
    ]
    leader = next((b for b in blocks if b.role != "agency_seal"), None)
    sealed = next((b for b in blocks if b.role == "agency_seal"), None)
    procedure = src.dossiers.catalogue.procedures.get(state.procedure)
    name = procedure.name_vi if procedure is not None else state.procedure
    agency = (agency_names or {}).get(state.agency, f"Cơ quan {state.agency}")
    url = seal_url(host, seal)
    qr = svg_text(make_qr(url), scale=3, title="QR xác thực", scalable=True)
    issued = _when(result.issued_us)
    e = escape
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>{e(number)}</title>
<style>
@page {{ size: A4; margin: 20mm 15mm 20mm 30mm; }}
body {{ font-family: "Times New Roman", Times, serif; font-size: 14pt; margin: 0;
  width: 210mm; min-height: 297mm; box-sizing: border-box; padding: 20mm 15mm 20mm 30mm; }}
.head {{ font-size: 12.5pt; display: grid; grid-template-columns: 1fr 1.3fr; text-align: center; }}
.head b {{ display: block; }} .rule {{ width: 40%; margin: 2px auto; border-top: 1px solid; }}
.place {{ text-align: right; font-style: italic; margin-top: 6mm; }}
h1 {{ text-align: center; font-size: 15pt; margin: 10mm 0 6mm; }}
.body p {{ text-indent: 10mm; margin: 2mm 0; text-align: justify; }}
.foot {{ display: grid; grid-template-columns: 1fr 1fr; margin-top: 10mm; gap: 6mm; }}
.qr {{ font-size: 9pt; }} .qr svg {{ width: 38mm; height: 38mm; }}
.sign {{ text-align: center; position: relative; }}
.seal {{ position: absolute; left: -8mm; top: 8mm; width: 34mm; height: 34mm;
  border: 2px solid #c00; border-radius: 50%; color: #c00; font-size: 8pt;
  display: flex; align-items: center; justify-content: center; opacity: .85; }}
.sig {{ color: #1a3fb0; font-size: 9pt; margin: 12mm 0 4mm 20mm; text-align: left; }}
.meta {{ font-size: 10pt; }}
</style></head><body>
<div class="head">
  <div><b>{e(agency.upper())}</b><div class="rule"></div>
    <div>Số: {e(number)}</div></div>
  <div><b>CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM</b><b>Độc lập - Tự do - Hạnh phúc</b>
    <div class="rule"></div></div>
</div>
<p class="place">Hà Nội, ngày {issued.day:02d} tháng {issued.month:02d} năm {issued.year}</p>
<h1>KẾT QUẢ GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH<br>{e(name.upper())}</h1>
<div class="body">
<p>Thủ tục: {e(state.procedure)} — {e(name)}. Loại kết quả: {e(result.result_type)}.</p>
<p>Hồ sơ số {e(dossier)}. Người nộp: (xem hồ sơ gốc).</p>
<p>Kết quả này được ký số và ghi vào sổ cái; quét mã QR để xác thực.</p>
</div>
<div class="foot">
  <div class="qr">{qr}<div>Quét mã để xác thực / Scan to verify</div>
    <div>HS1: {len(seal_hs1(seal)) - 4} ký tự · {len(seal)} byte</div></div>
  <div class="sign"><b>THỦ TRƯỞNG CƠ QUAN</b>
    <div class="seal" id="seal">{e(sealed.actor if sealed else "")}<br>
    {e(sealed.key_id[:8] if sealed else "")}</div>
    <div class="sig" id="signer">Ký bởi: {e(leader.actor if leader else "")}<br>
    Khóa: {e(leader.key_id if leader else "")}<br>
    Thời gian ký: {e(leader.time if leader else "")}</div>
    <div class="meta">Đóng dấu: {e(sealed.actor if sealed else "")} · khóa
    {e(sealed.key_id if sealed else "")}</div></div>
</div>
</body></html>
"""


def write_result_sheet(
    src: SealSources,
    dossier: str,
    number: str,
    signer: Signer,
    *,
    out: Path,
    host: str,
    screenshot: bool = True,
    agency_names: Mapping[str, str] | None = None,
) -> list[Path]:
    """Write ``out/<number>.html``, its QR ``out/<number>-qr.png`` and (with chromium) the
    sheet's screenshot ``out/<number>.png``."""
    out.mkdir(parents=True, exist_ok=True)
    stem = number.replace("/", "_")
    html_path, qr_path = out / f"{stem}.html", out / f"{stem}-qr.png"
    seal = issue_seal(src, dossier, number, signer)
    html_path.write_text(
        sheet_html(src, dossier, number, seal, host=host, agency_names=agency_names),
        encoding="utf-8",
    )
    qr_path.write_bytes(png_bytes(make_qr(seal_url(host, seal))))
    if not screenshot:
        return [html_path, qr_path]
    png_path = out / f"{stem}.png"
    screenshot_html(html_path, png_path)
    return [html_path, qr_path, png_path]


def screenshot_html(html: Path, png: Path, *, width: int = 794, height: int = 1123) -> None:
    """A PNG of the page by headless chromium (A4 at 96 dpi by default)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise ChromiumMissing("chromium is not installed (apt-get install -y chromium)")
    subprocess.run(  # noqa: S603 (fixed arguments, our own file paths)
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--force-device-scale-factor=2",
            f"--window-size={width},{height}",
            f"--screenshot={png.resolve()}",
            html.resolve().as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )


def write_result_sheets(
    src: SealSources,
    results: list[tuple[str, str, Signer]],
    *,
    out: Path,
    host: str,
    agency_names: Mapping[str, str] | None = None,
) -> tuple[list[Path], bool]:
    """Sheets for many results (the demo); PNGs only if chromium is here. Returns the
    HTML paths and whether PNGs were written."""
    can_shoot = shutil.which("chromium") is not None
    written = []
    for dossier, number, signer in results:
        paths = write_result_sheet(
            src,
            dossier,
            number,
            signer,
            out=out,
            host=host,
            screenshot=can_shoot,
            agency_names=agency_names,
        )
        written.append(paths[0])
    return written, can_shoot
