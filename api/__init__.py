"""The HTTP API (docs/api.md): :func:`api.app.create_app` builds it, ``api.server`` is the
ASGI entry point, ``api.tokens`` the bearer-token store (``hoso tokens``). Everything
else is the API's own."""

__all__ = ["app", "server", "tokens"]
