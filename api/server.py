"""The uvicorn factory for ``hoso serve``: settings from the environment, at startup."""

from __future__ import annotations

from fastapi import FastAPI

from api.app import create_app
from ledger.settings import load_settings


def app() -> FastAPI:
    return create_app(load_settings())
