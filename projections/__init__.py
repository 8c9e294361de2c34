"""Read-model projections of the ledger."""
