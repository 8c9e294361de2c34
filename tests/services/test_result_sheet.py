"""The printable result sheet: Decree 30/2020 layout, its QR verifies, nothing personal."""

from __future__ import annotations

import os
import shlex
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ledger.cli import app as cli_app
from ledger.core.seal import decode_text, parse_seal
from ledger.core.seal_trust import open_trust_list, verify_seal
from ledger.demo.steps import valid_results, write_sheets
from ledger.services.seals.qr import read_qr, read_qr_file
from ledger.services.seals.sheet import write_result_sheet
from tests.services.seal_world import NOW_US, World
from tests.services.test_seals import personal_values

pytestmark = pytest.mark.integration

SHOOT = os.environ.get("HOSO_SKIP_BROWSER") != "1"


def test_sheet_layout_qr_and_privacy(world: World, tmp_path: Path) -> None:
    paths = write_result_sheet(
        world.parts,
        world.codes["valid"],
        "KS-0001",
        world.ward_seal,
        out=tmp_path,
        host="https://xacthuc.hoso.example",
        screenshot=SHOOT,
        agency_names={"000.39.05.H26": "UBND phường Mẫu"},
    )
    html = paths[0].read_text("utf-8")
    for text in (
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "UBND PHƯỜNG MẪU",
        "Số: KS-0001",
        "Hà Nội, ngày",
        "ĐĂNG KÝ KHAI SINH",
        "Người nộp: (xem hồ sơ gốc)",
        "ward:lanhdao-01",  # the competent signer, from the issuing event's signature
        "agency:000.39.05.H26",  # the agency seal
        "<svg",
    ):
        assert text in html, text
    for secret in personal_values(world):
        assert secret not in html
    trust = open_trust_list(world.seal_backend.trust_list_note(), [world.anchor])
    qr_png = paths[1]
    claims = verify_seal(parse_seal(decode_text(read_qr_file(qr_png))), trust)
    assert claims.agency == "000.39.05.H26"
    if SHOOT:
        screenshot = paths[2].read_bytes()
        assert screenshot.startswith(b"\x89PNG")
        # the QR printed on the sheet is readable from the sheet's own screenshot
        verify_seal(parse_seal(decode_text(read_qr(screenshot))), trust)


def test_demo_sheets_are_accepted_by_seal_verify(world: World, tmp_path: Path) -> None:
    picked = valid_results(
        world.parts.dossiers, list(world.codes.values()), {"000.39.05.H26": world.ward_seal}
    )
    signer = world.parts.checkpoints.signer
    assert signer is not None
    sheets_made = write_sheets(
        world.parts,
        picked,
        tmp_path,
        origin=signer.name,
        log_vkey=signer.verifier.vkey,
        now_us=NOW_US,
        agency_names={"000.39.05.H26": "UBND phường Mẫu"},
    )
    sheets = sorted(p.name for p in tmp_path.glob("*.html"))
    assert sheets == ["KS-0001.html", "TL-0003a.html"]  # the valid results only
    assert sheets_made.count == 2
    assert "hoso seal verify" in sheets_made.command
    assert "--status-list" in sheets_made.command  # the ward's published status list
    printed = shlex.split(sheets_made.command)[1:]  # without "hoso"
    for qr in tmp_path.glob("*-qr.png"):
        args = [str(qr) if a.endswith("-qr.png") else a for a in printed]
        result = CliRunner().invoke(cli_app, args)
        assert "✓ valid as of" in result.output, result.output
        assert result.exit_code == 0, result.output
