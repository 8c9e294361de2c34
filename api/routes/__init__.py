"""One router per resource; :data:`api.app.ROUTERS` is what :func:`api.app.create_app` includes."""

__all__ = [
    "agency",
    "audit",
    "checkpoints",
    "citizens",
    "commands",
    "dossiers",
    "events",
    "health",
    "index",
    "portal",
    "proofs",
    "seals",
    "status_lists",
    "tiles",
    "witness",
]
