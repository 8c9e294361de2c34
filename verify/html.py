"""``--html``: a self-contained inspector report (inline CSS and SVG, no script, no network).

Charts: findings by rule and by agency; on-time rates by agency and by
procedure; then the steps and the findings table. Only rule ids, streams,
positions, agencies, procedures, times and hashes are shown — never an
applicant commitment or any payload field.
"""

from __future__ import annotations

from collections.abc import Mapping
from html import escape

from verify.report import step_counts
from verify.run import Report

_GREEN = "#1a7f37"
_CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#1b1f24}
h1{font-size:1.5rem;margin:0}h2{font-size:1.1rem;margin:2rem 0 .5rem}
.verdict{display:inline-block;padding:.3rem .8rem;border-radius:1rem;font-weight:600;color:#fff}
.ok{background:#1a7f37}.bad{background:#cf222e}.warn{background:#9a6700}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:1.5rem}
.card{border:1px solid #d0d7de;border-radius:8px;padding:1rem}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{border-bottom:1px solid #eaeef2;padding:.3rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}td.num{text-align:right;font-variant-numeric:tabular-nums}
code{font-size:12px}.muted{color:#656d76}
"""


def _bars(values: Mapping[str, float], *, unit: str = "", color: str = "#0969da") -> str:
    """A horizontal bar chart as inline SVG (largest first, at most 12 bars)."""
    items = sorted(values.items(), key=lambda kv: (-kv[1], kv[0]))[:12]
    if not items:
        return '<p class="muted">nothing to chart</p>'
    top = max(v for _, v in items) or 1.0
    row, label_w, bar_w = 22, 230, 300
    height = row * len(items) + 4
    parts = [f'<svg viewBox="0 0 {label_w + bar_w + 70} {height}" width="100%" role="img">']
    for i, (name, value) in enumerate(items):
        y = i * row + 2
        width = max(1.0, bar_w * value / top)
        text = f"{value:.0f}{unit}" if unit != "%" else f"{value:.1f}%"
        parts.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" font-size="12">'
            f"{escape(name[:34])}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{width:.1f}" height="{row - 6}" '
            f'fill="{color}" rx="3"><title>{escape(name)}: {text}</title></rect>'
            f'<text x="{label_w + width + 6}" y="{y + 15}" font-size="12">{text}</text>'
        )
    parts.append("</svg>")
    return "".join(parts)


def _rates(resolved: Mapping[str, int], on_time: Mapping[str, int]) -> dict[str, float]:
    return {k: 100.0 * on_time.get(k, 0) / n for k, n in resolved.items() if n}


def _more(dropped: int) -> str:
    if not dropped:
        return ""
    return f'<p class="muted">{dropped} more finding(s) of the same checks not listed.</p>'


def render_html(report: Report, *, strict: bool = False) -> str:
    f = report.findings
    code = report.exit_code(strict=strict)
    if f.total("malformed"):
        verdict = '<span class="verdict bad">malformed input</span>'
    elif f.total("integrity"):
        verdict = '<span class="verdict bad">integrity failure</span>'
    elif f.total("rule"):
        verdict = '<span class="verdict warn">verified — with rule findings</span>'
    else:
        verdict = '<span class="verdict ok">verified</span>'
    stats = report.stats
    steps = "".join(
        f"<tr><td>{s['number']}</td><td>{escape(s['name'])}</td><td>{escape(s['title'])}</td>"
        f'<td class="num">{"✓" if s["findings"] == 0 else "✗"} {s["findings"]}</td></tr>'
        for s in step_counts(report)
    )
    rows = "".join(
        f"<tr><td><code>{escape(x.check)}</code></td><td>{x.step}</td>"
        f"<td>{escape(x.position())}</td><td>{escape(x.agency)}</td>"
        f"<td>{escape(x.expected or '')}</td><td>{escape(x.found or '')}</td>"
        f"<td>{escape(x.detail)}</td></tr>"
        for x in f.kept
    )
    dropped = sum(f.counts.values()) - len(f.kept)
    checkpoints = ", ".join(
        f"{a.checkpoint.size} (root <code>{a.checkpoint.root.hex()[:16]}…</code>, "
        f"{len(a.witnesses)} witness)"
        for a in report.checkpoints
    )
    integrity = {c: float(n) for c, n in f.counts.items() if f.families[c] != "rule"}
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>hoso verification — {escape(report.origin)}</title><style>{_CSS}</style></head>
<body>
<h1>hoso verification report</h1>
<p class="muted">ledger <code>{escape(report.origin)}</code> · calendar
<code>{escape(report.calendar_version)}</code> · law <code>{escape(report.law_version)}</code></p>
<p>{verdict} <span class="muted">exit code {code}</span></p>
<p>{report.records} records in {report.streams} streams, {report.signatures} signatures;
{stats.dossiers} dossiers audited. Checkpoints: {checkpoints or "none"}.</p>
<p>{f.total("integrity")} integrity, {f.total("malformed")} malformed and
{f.total("rule")} rule finding(s).</p>
<div class="grid">
<div class="card"><h2>Rule findings by rule</h2>
{_bars({k: float(v) for k, v in stats.findings_by_rule.items()}, color="#9a6700")}</div>
<div class="card"><h2>Rule findings by agency</h2>
{_bars({k: float(v) for k, v in stats.findings_by_agency.items()}, color="#9a6700")}</div>
<div class="card"><h2>On time, by agency</h2>
{_bars(_rates(stats.resolved_by_agency, stats.on_time_by_agency), unit="%", color=_GREEN)}
</div>
<div class="card"><h2>On time, by procedure</h2>
{_bars(_rates(stats.resolved_by_procedure, stats.on_time_by_procedure), unit="%", color=_GREEN)}
</div>
</div>
<h2>Integrity findings by check</h2>
{_bars(integrity, color="#cf222e")}
<h2>Steps</h2>
<table><tr><th>#</th><th>step</th><th>what it checks</th><th>findings</th></tr>{steps}</table>
<h2>Findings</h2>
<table><tr><th>check</th><th>step</th><th>where</th><th>agency</th><th>expected</th>
<th>found</th><th>detail</th></tr>{rows}</table>
{_more(dropped)}
</body></html>
"""
