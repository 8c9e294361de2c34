"""The citizen's verification page for QR seals, and its JSON twin (docs/seal.md).

Routes (mount with ``app.include_router(router)``):

* ``GET /s/{tail}`` — the page a phone opens from the QR: the verdict rendered
  on the server, Vietnamese by default, ``?lang=en`` for English; the inclusion
  proof and checkpoint are embedded so a script can re-check them; an optional
  local comparison of the result file's SHA-256 (the file never leaves the
  browser).
* ``GET /v1/seals/trust-list`` — the signed trust list (a C2SP note).
* ``POST /v1/seals/verify`` — ``{"seal": "<URL|HS1:…|digits>"}`` → the verdict as JSON.

The ledger is reached through :class:`ledger.services.seals.check.SealBackend`, provided
by overriding the :func:`seal_backend` dependency::

    app.dependency_overrides[seal_backend] = lambda: LedgerSealBackend(ledger, log_signer=...)
"""

from __future__ import annotations

import json
from datetime import datetime
from html import escape
from typing import Annotated, Literal

import orjson
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field

from api.responses import JSON
from ledger.domain.calendar import VN_TZ
from ledger.services.seals.check import SealBackend, Verdict, check_seal

router = APIRouter(tags=["seals"])


async def seal_backend(request: Request) -> SealBackend:
    """The app's ``state.seal_backend_provider()`` (set by :func:`api.app.create_app`), or an
    override (see the module docstring). A provider on the app's state rather than a
    dependency override: with any override in place FastAPI re-analyses every route's
    dependencies on every request."""
    provider = getattr(request.app.state, "seal_backend_provider", None)
    if provider is None:
        raise RuntimeError("no SealBackend configured: override api.routes.seals.seal_backend")
    backend: SealBackend = provider()
    return backend


Backend = Annotated[SealBackend, Depends(seal_backend)]
Lang = Literal["vi", "en"]


class SealVerifyRequest(BaseModel):
    seal: str = Field(max_length=2048, description="The seal URL, HS1: text, or digits")


@router.get(
    "/v1/seals/trust-list",
    response_class=PlainTextResponse,
    operation_id="getSealTrustList",
    summary="The signed trust list of agency seal keys (a C2SP note)",
)
def get_trust_list(backend: Backend) -> PlainTextResponse:
    return PlainTextResponse(backend.trust_list_note(), media_type="text/plain; charset=utf-8")


@router.post(
    "/v1/seals/verify",
    operation_id="verifySeal",
    summary="Verify a QR seal (URL, HS1: text or digits): authentic, valid, in the log",
)
def post_verify(request: SealVerifyRequest, backend: Backend) -> Response:
    return Response(orjson.dumps(check_seal(request.seal, backend).as_dict()), media_type=JSON)


@router.get(
    "/s/{tail}",
    response_class=HTMLResponse,
    operation_id="getSealPage",
    summary="The verification page a phone opens from the QR",
)
def get_page(tail: str, backend: Backend, lang: Annotated[Lang, Query()] = "vi") -> HTMLResponse:
    verdict = check_seal(tail[:2048], backend)
    return HTMLResponse(render_page(verdict, tail=tail, lang=lang))


TEXT: dict[str, dict[str, str]] = {
    "vi": {
        "title": "Xác thực kết quả giải quyết thủ tục hành chính",
        "valid": "✓ Xác thực: kết quả hợp lệ",
        "valid_sub": "Kết quả do cơ quan có thẩm quyền ký số, không bị sửa đổi và còn hiệu lực.",
        "revoked": "✗ Kết quả đã bị thu hồi",
        "revoked_sub": "Mã QR là thật, nhưng kết quả này đã bị thu hồi và không còn giá trị.",
        "superseded": "⚠ Kết quả đã được thay thế",
        "superseded_sub": "Mã QR là thật, nhưng kết quả này đã được thay thế bởi kết quả số {by}.",
        "unknown_key": "? Không rõ khóa ký",
        "unknown_key_sub": "Khóa ký của mã QR không có trong danh sách tin cậy. "
        "Không thể xác thực.",
        "status_unknown": "? Chưa xác định được hiệu lực",
        "status_unknown_sub": "Mã QR là thật, nhưng chưa có điểm kiểm tra đã ký nào chứng minh "
        "tình trạng hiện tại của kết quả. Hãy kiểm tra lại sau.",
        "fresh": "Tình trạng được chứng minh tại điểm kiểm tra {size}, lúc {time}, "
        "có {n} nhân chứng đồng ký.",
        "fresh_none": "Tình trạng được chứng minh tại điểm kiểm tra {size}; "
        "chưa có nhân chứng nào đồng ký.",
        "invalid": "✗ Không hợp lệ",
        "invalid_sub": "Mã QR đã bị sửa đổi hoặc giả mạo. Không tin tưởng giấy tờ này.",
        "agency": "Cơ quan",
        "procedure": "Thủ tục",
        "number": "Số kết quả",
        "date": "Ngày cấp",
        "dossier": "Mã hồ sơ",
        "in_log": "Sự kiện cấp kết quả có trong sổ cái: bằng chứng Merkle đã kiểm tra với điểm "
        "kiểm tra đã ký mới nhất (vị trí {index} / {size}).",
        "not_in_log": "Sự kiện cấp kết quả chưa có trong điểm kiểm tra đã ký.",
        "file_label": "So sánh với tệp kết quả (tệp chỉ được xử lý trên máy của bạn):",
        "file_same": "✓ Tệp khớp với mã QR.",
        "file_differs": "✗ Tệp KHÔNG khớp với mã QR.",
        "evidence": "Bằng chứng kỹ thuật",
        "check": "Kiểm tra không đạt",
        "switch": "English",
        "privacy": "Trang này không hiển thị thông tin cá nhân.",
    },
    "en": {
        "title": "Verify an administrative result",
        "valid": "✓ Authentic and valid",
        "valid_sub": "Signed by the competent agency, unchanged, and still in force.",
        "revoked": "✗ This result has been revoked",
        "revoked_sub": "The QR code is genuine, but the result was revoked and is no longer valid.",
        "superseded": "⚠ This result has been superseded",
        "superseded_sub": "The QR code is genuine, but the result was replaced by result {by}.",
        "unknown_key": "? Unknown signing key",
        "unknown_key_sub": "The QR code's key is not on the trust list. It cannot be verified.",
        "status_unknown": "? Status not yet proven",
        "status_unknown_sub": "The QR code is genuine, but no signed checkpoint proves the "
        "result's current status yet. Check again later.",
        "fresh": "Status proven at checkpoint {size}, as of {time}, cosigned by {n} witnesses.",
        "fresh_none": "Status proven at checkpoint {size}; no witness has cosigned it yet.",
        "invalid": "✗ Invalid",
        "invalid_sub": "The QR code was altered or forged. Do not trust this document.",
        "agency": "Agency",
        "procedure": "Procedure",
        "number": "Result number",
        "date": "Issued",
        "dossier": "Dossier code",
        "in_log": "The issuing event is in the ledger: its Merkle inclusion proof was verified "
        "against the latest signed checkpoint (leaf {index} of {size}).",
        "not_in_log": "The issuing event is not yet in a signed checkpoint.",
        "file_label": "Compare with the result file (the file stays on your device):",
        "file_same": "✓ The file matches the QR code.",
        "file_differs": "✗ The file does NOT match the QR code.",
        "evidence": "Technical evidence",
        "check": "Failed check",
        "switch": "Tiếng Việt",
        "privacy": "This page shows no personal data.",
    },
}

CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
background:#f4f5f7;color:#1b1f24;line-height:1.45}
main{max-width:40rem;margin:0 auto;padding:1rem}
h1{font-size:1.15rem;margin:.5rem 0 1rem}
.verdict{border-radius:.6rem;padding:1rem 1.1rem;margin-bottom:1rem;color:#fff}
.verdict h2{margin:0 0 .3rem;font-size:1.5rem}
.valid{background:#1a7f37}.revoked,.invalid{background:#b42318}
.superseded,.unknown_key,.status_unknown{background:#b54708}
dl{display:grid;grid-template-columns:max-content 1fr;gap:.3rem .8rem;background:#fff;
padding:1rem;border-radius:.6rem;margin:0 0 1rem}
dt{color:#57606a}dd{margin:0;word-break:break-word}
.box{background:#fff;padding:1rem;border-radius:.6rem;margin-bottom:1rem}
pre{white-space:pre-wrap;word-break:break-all;font-size:.75rem}
nav{text-align:right}a{color:#0b57d0}
"""

SCRIPT = """
document.getElementById('doc')?.addEventListener('change', async (e) => {
  const file = e.target.files[0]; if (!file) return;
  const out = document.getElementById('doc-result');
  const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', await file.arrayBuffer()));
  const hex = Array.from(digest.slice(0, 16), b => b.toString(16).padStart(2, '0')).join('');
  const same = hex === out.dataset.expected;
  out.textContent = same ? out.dataset.same : out.dataset.differs;
  out.dataset.match = same ? 'yes' : 'no';
});
"""


def _date(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, VN_TZ).strftime("%d/%m/%Y %H:%M (UTC+7)")


def render_page(verdict: Verdict, *, tail: str, lang: Lang) -> str:
    """The page for one verdict: only the seal's public claims and the ledger's proof."""
    t = TEXT[lang]
    by = verdict.superseded_by
    sub = t[f"{verdict.outcome}_sub"].format(by=escape(by or "?"))
    other = "en" if lang == "vi" else "vi"
    parts = [
        f'<nav><a id="lang" href="/s/{escape(tail)}?lang={other}">{t["switch"]}</a></nav>',
        f"<h1>{t['title']}</h1>",
        f'<section id="verdict" class="verdict {verdict.outcome}" data-outcome="{verdict.outcome}">'
        f"<h2>{t[verdict.outcome]}</h2><p>{sub}</p></section>",
    ]
    claims = verdict.claims
    if claims is not None:
        status = verdict.status
        name = None
        if status is not None:
            name = status.procedure_name_vi if lang == "vi" else status.procedure_name_en
        procedure = claims.procedure + (f" — {name}" if name else "")
        rows = [
            ("agency", claims.agency),
            ("procedure", procedure),
            ("number", claims.result_number),
            ("date", _date(claims.issued_s)),
            ("dossier", claims.dossier),
        ]
        parts.append(
            '<dl id="claims">'
            + "".join(f"<dt>{t[k]}</dt><dd>{escape(v)}</dd>" for k, v in rows)
            + "</dl>"
        )
    fresh = verdict.freshness
    if fresh is not None:
        if fresh.as_of_s is None:
            line = t["fresh_none"].format(size=fresh.checkpoint_size)
        else:
            line = t["fresh"].format(
                size=fresh.checkpoint_size, time=_date(fresh.as_of_s), n=len(fresh.witnesses)
            )
        parts.append(f'<p class="box" id="freshness">{escape(line)}</p>')
    if verdict.log is not None:
        line = t["in_log"].format(index=verdict.log.leaf_index, size=verdict.log.tree_size)
        parts.append(f'<p class="box" id="log">✓ {line}</p>')
    elif claims is not None and verdict.outcome != "invalid":
        parts.append(f'<p class="box" id="log">{t["not_in_log"]}</p>')
    if claims is not None:
        parts.append(
            f'<div class="box"><label for="doc">{t["file_label"]}</label><br>'
            '<input type="file" id="doc">'
            f'<p id="doc-result" data-expected="{claims.document_hash.hex()}" '
            f'data-same="{t["file_same"]}" data-differs="{t["file_differs"]}"></p></div>'
        )
    evidence = json.dumps(verdict.as_dict(), ensure_ascii=False).replace("</", "<\\/")
    check = f"<p>{t['check']}: <code>{escape(verdict.check)}</code></p>" if verdict.check else ""
    pre = f"<pre>{escape(verdict.log.checkpoint_note)}</pre>" if verdict.log else ""
    parts.append(f'<details class="box"><summary>{t["evidence"]}</summary>{check}{pre}</details>')
    parts.append(f'<script type="application/json" id="evidence">{evidence}</script>')
    parts.append(f"<p><small>{t['privacy']}</small></p>")
    body = "\n".join(parts)
    return (
        f'<!doctype html>\n<html lang="{lang}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{t['title']}</title><style>{CSS}</style></head>"
        f"<body><main>\n{body}\n</main><script>{SCRIPT}</script></body></html>\n"
    )
