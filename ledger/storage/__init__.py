"""Durable storage of the ledger on eventsourcing's recorders (SQLite and PostgreSQL)."""
