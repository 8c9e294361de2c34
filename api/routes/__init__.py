"""One router per resource; :data:`ROUTERS` is what :func:`api.app.create_app` includes."""
