"""An opener process: open (and so create the tables of) ledger databases at set
times, as every hoso process does when it starts.

``python -m tests.storage.procs.opener URL... --start-at T --every S`` opens
the i-th URL at time T + i·S (a URL may repeat: the second time it exists) and
prints ``OPENED <i>`` after each.
"""

from __future__ import annotations

import argparse
import sys
import time

from ledger.storage.database import open_backend


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("urls", nargs="+")
    parser.add_argument("--start-at", type=float, required=True, help="epoch time of slot 0")
    parser.add_argument("--every", type=float, default=0.3, help="seconds between slots")
    args = parser.parse_args(argv)
    for i, url in enumerate(args.urls):
        time.sleep(max(0.0, args.start_at + i * args.every - time.time()))
        open_backend(url, pool_size=1).close()
        print(f"OPENED {i}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
