"""Entry points for the subprocesses of the concurrency and crash tests.

Run as ``python -m tests.storage.procs.writer`` / ``...integrator`` from the
repository root; each prints one line per step to stdout and flushes it, so a
parent that kills it with SIGKILL still knows what was acknowledged.
"""
