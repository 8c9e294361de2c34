"""One router per resource; :data:`api.app.ROUTERS` is what :func:`api.app.create_app` includes."""

__all__ = [
    "agency",
    "checkpoints",
    "citizens",
    "commands",
    "dossiers",
    "events",
    "health",
    "portal",
    "proofs",
    "seals",
    "witness",
]
