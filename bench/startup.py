"""Start-up: wall times, in one run, of `python -c pass`, `pecrs --help`, `pecrs curate list`, `pecrs doctor`, a
one-document `pecrs run` (first, with pecrs's Prefect server to start, and repeated), and a no-op re-run of 1,000
documents into a new --out as a fraction of its full run, all as one-off commands with no server started by hand.

Targets (issue 19): --help, curate list and doctor within 1.5 s of `python -c pass` on an idle machine; a repeated
one-document run within 3 s plus its parse and extract time; the no-op re-run under 5 % of the full run.
Each command runs in a data folder of its own (PECRS_DATA), so the first run does start the server; the server is
stopped at the end. Usage: python bench/startup.py [--documents 1000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from scale import build_corpus, wait_until_idle  # noqa: E402  (bench/scale.py)

PECRS = [sys.executable, "-m", "pipeline"]


def timed(command: list[str], env: dict) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}")
    return seconds, done.stdout


def flow_seconds(output: str) -> float:
    found = re.search(r"• parse and extract: .*?\((\d+(?:\.\d+)?) s\)", " ".join(output.split()))
    return float(found.group(1)) if found else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each quick command (the median is shown)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        env = {**os.environ, "PECRS_DATA": str(scratch / "data"), "PECRS_PREFECT_IDLE": "600",
               "PECRS_DATABASE_URL": f"sqlite:///{scratch / 'pecrs.db'}", "COLUMNS": "300"}
        env.pop("PREFECT_API_URL", None)
        try:
            wait_until_idle()
            quick = {"python -c pass": [sys.executable, "-c", "pass"], "pecrs --help": PECRS + ["--help"],
                     "pecrs curate list": PECRS + ["curate", "list"], "pecrs doctor": PECRS + ["doctor"]}
            medians = {name: statistics.median(timed(command, env)[0] for _ in range(args.repeat))
                       for name, command in quick.items()}
            base = medians["python -c pass"]
            for name, seconds in medians.items():
                print(f"{name:34s} {seconds:6.2f} s" + (f"  (+{seconds - base:.2f} s)" if name != "python -c pass" else ""))
            one = scratch / "one"
            build_corpus(one, 1)
            first, said = timed(PECRS + ["run", "--corpus", str(one), "--out", str(scratch / "o1"), "--no-score"], env)
            print(f"{'one-document run, first':34s} {first:6.2f} s  (parse and extract {flow_seconds(said):.1f} s; "
                  f"starts pecrs's Prefect server)")
            again, said = timed(PECRS + ["run", "--corpus", str(one), "--out", str(scratch / "o2"), "--no-score"], env)
            print(f"{'one-document run, repeated':34s} {again:6.2f} s  (parse and extract {flow_seconds(said):.1f} s)")
            many = scratch / "many"
            build_corpus(many, args.documents)
            full, _ = timed(PECRS + ["run", "--corpus", str(many), "--out", str(scratch / "m1"), "--no-score"], env)
            noop, said = timed(PECRS + ["run", "--corpus", str(many), "--out", str(scratch / "m2"), "--no-score"], env)
            print(f"{f'{args.documents:,} documents, full run':34s} {full:6.2f} s")
            print(f"{f'{args.documents:,} documents, no-op re-run':34s} {noop:6.2f} s  ({noop / full:.1%} of the full run)")
        finally:
            subprocess.run([sys.executable, "-c", "from pipeline.run.prefect_server import stop_shared_server; "
                            "stop_shared_server()"], cwd=ROOT, env=env)


if __name__ == "__main__":
    main()
