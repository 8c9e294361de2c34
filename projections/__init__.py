"""Read-model projections of the ledger: views followed exactly once and rebuilt beside
the live tables (``engine``, ``runner``, ``rebuild``, ``status``), their tables
(``schema``, ``views``), plain queries (``queries``), the national-portal export
(``portal``) and the post-audit rule findings (``rule_findings``). ``parallel`` (the
split rebuild) is private. docs/projections.md."""

__all__ = [
    "engine",
    "fold",
    "portal",
    "queries",
    "rebuild",
    "rule_findings",
    "runner",
    "schema",
    "status",
    "views",
]
