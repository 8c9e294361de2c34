from tests.projections.ledger_kit import kit

__all__ = ["kit"]
