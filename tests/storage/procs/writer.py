"""A writer process: append batches of signed events to shared streams until done or killed.

Each round reads the heads of the streams it picked, builds and signs the next
events (a batch may continue several streams), prints ``TRY <i> <hashes>``,
appends, and only after ``append`` returns prints ``ACK <i> <duplicates>``.
It prints ``READY`` once its database is open, and starts when ``--go-file`` exists.
A :class:`StreamConflict` (another writer got there first) prints
``CONFLICT <i>`` and the next round re-reads the heads. The last line is
``DONE <acks> <conflicts>``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

from ledger.core.event import SignedEvent
from ledger.storage.errors import StreamConflict
from tests.storage.procs.common import next_event, open_store, seed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--actor", required=True, help="the actor; its key is seed(actor)")
    parser.add_argument("--streams", required=True, help="comma-separated stream ids")
    parser.add_argument("--batch", type=int, default=1, help="events per append")
    parser.add_argument("--spread", type=int, default=1, help="streams continued per append")
    parser.add_argument("--max-batches", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--go-file", type=Path, default=None, help="start once this exists")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    rng = random.Random(args.seed)
    streams = args.streams.split(",")
    signer = seed(args.actor)
    backend, store = open_store(args.url)
    print("READY", flush=True)
    waiting = time.monotonic() + 60
    while args.go_file is not None and not args.go_file.exists():
        if time.monotonic() > waiting:
            print("no go file: the parent gave up", file=sys.stderr)
            return 2
        time.sleep(0.002)
    deadline = time.monotonic() + args.seconds
    acks = conflicts = 0
    batch_no = 0
    while batch_no < args.max_batches and time.monotonic() < deadline:
        batch_no += 1
        picked = rng.sample(streams, min(args.spread, len(streams)))
        heads: dict[str, SignedEvent | None] = {s: store.head(s) for s in picked}
        events = []
        for i in range(args.batch):
            stream = picked[i % len(picked)]
            event = next_event(
                heads[stream],
                stream=stream,
                kind="Step",
                actor=args.actor,
                signers=[signer],
                payload={"writer": args.actor, "batch": batch_no, "i": i},
            )
            heads[stream] = event
            events.append(event)
        hashes = ",".join(e.event_hash.hex() for e in events)
        print(f"TRY {batch_no} {hashes}", flush=True)
        try:
            results = store.append([e.record for e in events])
        except StreamConflict:
            conflicts += 1
            print(f"CONFLICT {batch_no}", flush=True)
            continue
        acks += 1
        print(f"ACK {batch_no} {sum(r.duplicate for r in results)}", flush=True)
    print(f"DONE {acks} {conflicts}", flush=True)
    backend.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
