"""Seconds per step of the review page on a large store: N made-up cases (bench/changes.py's, 15 predicted cells
each) in a new SQLite store, the page served in-process (FastAPI's TestClient). Prints the first step (the queue
built), the next steps with nothing changed (the queue kept), and a step after each decision (built anew), medians
of --steps. Usage: python bench/review_speed.py [--cases 1245] [--steps 5]
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "bench")]

from changes import a_run  # noqa: E402  (bench/changes.py)

from pipeline.store import Store  # noqa: E402
from pipeline.web import create_app  # noqa: E402

with warnings.catch_warnings():  # starlette's note on httpx's future
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


def timed(step) -> float:
    started = time.perf_counter()
    response = step()
    assert response.status_code in (200, 303), response.status_code
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=1245)
    parser.add_argument("--steps", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{Path(folder) / 'bench.db'}")
        store.record_run("run-1", datetime.now(timezone.utc), "bench", *a_run(args.cases, 0.0, False), None,
                         digest="d1")
        with TestClient(create_app(store, secret_key="bench"), base_url="http://127.0.0.1") as client:
            csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/").text).group(1)
            client.post("/name", data={"csrf": csrf, "name": "Bench"})
            first = timed(lambda: client.get("/review"))
            kept = [timed(lambda: client.get("/review?at=1")) for _ in range(args.steps)]
            after_decision = []
            for number in range(args.steps):
                client.post("/review/decide", data={"csrf": csrf, "case_id": f"case{number}-1", "field": "sex",
                                                    "action": "accept", "at": "0"}, follow_redirects=False)
                after_decision.append(timed(lambda: client.get("/review")))
        store.close()
    print(f"review page on {args.cases:,} cases x 15 cells (medians of {args.steps})")
    print(f"  first step, queue built          {first:6.3f} s")
    print(f"  next steps, nothing changed      {statistics.median(kept):6.3f} s")
    print(f"  step after a decision (rebuilt)  {statistics.median(after_decision):6.3f} s")


if __name__ == "__main__":
    main()
