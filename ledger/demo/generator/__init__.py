"""The realistic generator's parts: the Hanoi cast (``hanoi``), the plan of arrivals
(``plan``), weighted lifecycles (``lifecycles``), buffered appends (``buffered``) and
the run (``run``). Used through :mod:`ledger.demo.generate` only."""

__all__: list[str] = []
