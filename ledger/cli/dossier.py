"""``hoso dossier show``: read a dossier's state, history and timeliness (``hoso audit`` is
:mod:`ledger.cli.audit`)."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from ledger.cli.common import DbOption, fail, opened
from ledger.domain.state import DossierState, format_time
from ledger.domain.timeliness import timeliness

dossier_app = typer.Typer(help="Dossiers: state, history and timeliness.")


@dossier_app.command("show")
def show(
    code: str = typer.Argument(..., help="Dossier code"),
    as_json: bool = typer.Option(False, "--json", help="JSON instead of tables"),
    db: str | None = DbOption,
) -> None:
    """A dossier's current state, due dates, timeliness and signed history."""
    with opened(db) as ledger:
        history = ledger.dossiers.history(code)
        state = ledger.dossiers.state(code)
        if state is None:
            fail(f"no dossier {code}", 1)
        judged = timeliness(state, working_hours_between=ledger.dossiers.working_hours_between)
        summary = {
            "code": state.code,
            "procedure": state.procedure,
            "agency": state.agency,
            "state": state.state.label,
            "portal_code": state.portal_code,
            "received": format_time(state.received_us),
            "due": format_time(state.due_us),
            "due_after_pauses": format_time(state.legal_due_us),
            "flags": _flags(state, ledger.clock_us()),
            "timeliness": judged.dossier,
            "steps": [
                {
                    "agency": s.agency,
                    "step": s.step,
                    "used_hours": round(s.used_hours, 1),
                    "allowance_hours": s.allowance_hours,
                    "outcome": s.outcome,
                }
                for s in judged.steps
            ],
            "results": [
                {
                    "number": r.number,
                    "type": r.result_type,
                    "status": r.status,
                    "superseded_by": r.superseded_by,
                    "issued": format_time(r.issued_us),
                }
                for r in state.results.values()
            ],
        }
        if as_json:
            events = [
                {
                    "n": h.body.n,
                    "type": h.body.type,
                    "actor": h.body.actor,
                    "time": format_time(h.body.time_us),
                }
                for h in history
            ]
            typer.echo(json.dumps({**summary, "history": events}, ensure_ascii=False, indent=2))
            return
        out = Console()
        overview = Table(show_header=False, title=f"dossier {code}", title_justify="left")
        for key, value in summary.items():
            if key not in ("steps", "results"):
                overview.add_row(key, str(value))
        for step in judged.steps:
            overview.add_row(
                "inter-agency step",
                f"{step.step} at {step.agency}: {step.used_hours:.1f} of "
                f"{step.allowance_hours} working hours, {step.outcome}",
            )
        for result in state.results.values():
            replaced = f" by {result.superseded_by}" if result.superseded_by else ""
            overview.add_row(
                "result", f"{result.number} ({result.result_type}): {result.status}{replaced}"
            )
        out.print(overview)
        events_table = Table("n", "type", "actor", "time", "signers")
        for item in history:
            signers = ", ".join(
                sorted({f"{s.actor} ({'/'.join(sorted(s.roles))})" for s in item.signers})
            )
            events_table.add_row(
                str(item.body.n),
                item.body.type,
                item.body.actor,
                format_time(item.body.time_us),
                signers,
            )
        out.print(events_table)


def _flags(state: DossierState, now_us: int) -> list[str]:
    checks = (
        ("overdue", state.overdue(now_us)),
        ("rescheduled", state.rescheduled),
        ("revoked", state.revoked),
        ("corrected", state.corrected),
        ("under audit", state.under_audit),
    )
    return [name for name, on in checks if on]


def register(app: typer.Typer) -> None:
    app.add_typer(dossier_app, name="dossier")
