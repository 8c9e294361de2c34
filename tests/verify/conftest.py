from tests.support.tamperable import ledger_url, tamperable

__all__ = ["ledger_url", "tamperable"]
