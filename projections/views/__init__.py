"""Every view, by name (:data:`VIEWS`), and the view protocol (``base``). The views'
own modules are private to the package. Adding one: docs/projections.md §Adding a view."""

from __future__ import annotations

from projections.views.base import View
from projections.views.citizens import AccessLogView, ErasuresView
from projections.views.documents import DocumentsView
from projections.views.dossiers import DossiersView
from projections.views.findings import FindingsView
from projections.views.results import ResultsView

VIEWS: dict[str, View] = {
    v.name: v
    for v in (
        DossiersView(),
        ResultsView(),
        FindingsView(),
        AccessLogView(),
        ErasuresView(),
        DocumentsView(),
    )
}

__all__ = ["VIEWS", "base"]
