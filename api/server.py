"""The uvicorn factory for ``hoso serve``: settings from the environment, at startup."""

from __future__ import annotations

from fastapi import FastAPI

from api.app import create_app
from ledger.settings import development_secrets, load_settings


def app() -> FastAPI:
    """The app for ``hoso serve``'s workers; refuses the public development keys unless
    ``HOSO_ALLOW_DEV_KEYS`` (``hoso serve --dev``)."""
    settings = load_settings()
    public = development_secrets(settings)
    if public and not settings.allow_dev_keys:
        raise RuntimeError(
            f"refusing to serve: {' and '.join(public)} hold the public development secrets"
            " (set real keys, or run `hoso serve --dev`)"
        )
    return create_app(settings)
