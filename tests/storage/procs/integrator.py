"""An integrator process: integrate pages of the notification log and sign checkpoints.

Once its database is open it prints ``READY``. Then, in a loop: print
``PAGE <position>``, integrate at most one page, print
``INTEGRATED <added> <size>``; every ``--checkpoint-every`` pages (and when
idle) sign a checkpoint and print ``CHECKPOINT <size>``. Stop once the file
``--stop-file`` exists and a pass found nothing new, or at ``--seconds``.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from ledger.storage.checkpoints import Checkpoints
from ledger.storage.database import open_backend
from ledger.storage.merkle_log import MerkleLog
from tests.storage.procs.common import log_key


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--page", type=int, default=100)
    parser.add_argument("--checkpoint-every", type=int, default=1)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--stop-file", type=Path, default=None)
    parser.add_argument("--idle-sleep", type=float, default=0.01)
    args = parser.parse_args(argv)

    backend = open_backend(args.url, pool_size=2)
    print("READY", flush=True)
    log = MerkleLog(backend)
    checkpoints = Checkpoints(log, signer=log_key())
    deadline = time.monotonic() + args.seconds
    pages = total = 0
    while time.monotonic() < deadline:
        stopping = args.stop_file is not None and args.stop_file.exists()
        print(f"PAGE {log.position()}", flush=True)
        added = log.integrate(page=args.page, limit=args.page)
        total += added
        pages += 1
        print(f"INTEGRATED {added} {log.size()}", flush=True)
        if (added and pages % args.checkpoint_every == 0) or not added:
            note = checkpoints.sign(now_us=time.time_ns() // 1000)
            print(f"CHECKPOINT {note.text.splitlines()[1]}", flush=True)
        if not added:
            if stopping:
                break
            time.sleep(args.idle_sleep)
    print(f"DONE {total}", flush=True)
    backend.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
