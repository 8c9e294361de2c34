from tests.api.world import client, world

__all__ = ["client", "world"]
