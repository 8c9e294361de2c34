from tests.api.api_world import client, world

__all__ = ["client", "world"]
