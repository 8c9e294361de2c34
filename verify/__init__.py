"""Offline verification of a ledger or a bundle, on the pure core only."""
