"""Scale: `pecrs run` on corpora of 100, 1,000 and 10,000 documents made by re-identifying copies of the corpus
documents (each copy gets its own DOI, so nothing is shared through the cache), with 1 and 2 workers, and a no-op
re-run of each size. Prints wall time, the flow's parse-and-extract time, documents/s, the 10k/1k time ratio,
the re-run fraction and the peak RSS of the whole process tree (Dask workers included).

`pecrs run` alone starts Prefect's ephemeral API server, 10-15 s on this machine whatever the corpus. With
--prefect-server every run talks to one server started for the benchmark, as the runs of `pecrs serve` do.
Usage: python bench/scale.py [--sizes 100,1000,10000] [--workers 1,2] [--keep DIR] [--prefect-server]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from measure import run_measured  # noqa: E402  (bench/measure.py)
from pipeline.run.prefect_server import server_of_its_own  # noqa: E402
DOI = re.compile(rb"10\.\d{4,9}/[A-Za-z0-9.\-_/]+?(?=[\s<\"',;)]|$)")


def build_corpus(folder: Path, size: int) -> None:
    """``size`` copies of the embedded corpus documents (PDFs aside), each re-identified."""
    sources = sorted(p for p in (ROOT / "corpus/docs").iterdir() if p.suffix in (".xml", ".txt"))
    docs = folder / "docs"
    docs.mkdir(parents=True)
    for i in range(size):
        source = sources[i % len(sources)]
        data = DOI.sub(f"10.5555/scale.{i}".encode(), source.read_bytes())
        # a document without a DOI still differs from its other copies, by a trailing line or comment
        data += f"\n<!-- copy {i} -->\n".encode() if source.suffix == ".xml" else f"\n\nCopy {i}.\n".encode()
        (docs / f"{i:05d}-{source.name}").write_bytes(data)


def timed_run(corpus: Path, out: Path, data: Path, workers: int) -> dict:
    env = {**os.environ, "PECRS_DATA": str(data), "PECRS_DATABASE_URL": f"sqlite:///{data / 'pecrs.db'}",
           "COLUMNS": "300"}  # rich wraps at the terminal's width; the timing line is read back in one piece
    command = [sys.executable, "-m", "pipeline", "run", "--corpus", str(corpus), "--out", str(out), "--no-score",
               "--workers", str(workers)]
    measured = run_measured(command, ROOT, env)
    seconds, text = measured.seconds, measured.output
    if measured.returncode != 0:
        sys.exit(f"pecrs run failed ({measured.returncode}):\n{text[-3000:]}")
    stages = {name: float(m.group(1)) if (m := re.search(rf"• {name}: .*?\((\d+(?:\.\d+)?) s\)", text)) else float("nan")
              for name in ("parse and extract", "store", "outputs")}
    return {"seconds": seconds, "flow_seconds": stages["parse and extract"], "store_seconds": stages["store"],
            "outputs_seconds": stages["outputs"], "peak_mb": measured.peak_bytes / 2**20}


def wait_until_idle(busy_percent: float = 10.0, patience: float = 60.0) -> None:
    """Until the machine's CPUs are below ``busy_percent`` over a second, or ``patience`` seconds have gone."""
    deadline = time.monotonic() + patience
    while psutil.cpu_percent(interval=1.0) >= busy_percent and time.monotonic() < deadline:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,10000")
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--keep", type=Path, help="Build the corpora here and keep them (default: a temporary folder).")
    parser.add_argument("--prefect-server", action="store_true",
                        help="Run against one Prefect server started for the benchmark, not an ephemeral one per run.")
    args = parser.parse_args()
    # as `make run` does: bytecode for the project's modules, which an editable install does not compile
    subprocess.run([sys.executable, "-m", "compileall", "-q", "pipeline", "extractors"], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    if args.prefect_server:
        os.environ.pop("PREFECT_API_URL", None)
    with server_of_its_own() if args.prefect_server else nullcontext():
        measure(args)


def measure(args) -> None:
    sizes = [int(s) for s in args.sizes.split(",")]
    workers = [int(w) for w in args.workers.split(",")]
    base = args.keep or Path(tempfile.mkdtemp(prefix="pecrs-scale-"))
    results: dict[tuple[int, int], dict] = {}
    try:
        for size in sizes:
            corpus = base / f"corpus-{size}"
            if not corpus.exists():
                build_corpus(corpus, size)
            for n in workers:
                data = base / f"data-{size}-{n}"
                shutil.rmtree(data, ignore_errors=True)
                wait_until_idle()
                figures = timed_run(corpus, base / f"out-{size}-{n}", data, n)
                results[(size, n)] = figures
                print(f"{size:6d} documents, {n} worker(s): {figures['seconds']:7.1f} s wall, parse+extract "
                      f"{figures['flow_seconds']:7.1f} s, {size / figures['seconds']:6.1f} docs/s wall, "
                      f"{size / figures['flow_seconds']:6.1f} docs/s parse+extract, peak RSS {figures['peak_mb']:6.0f} MB",
                      flush=True)
        for size in sizes:
            for n in workers:
                # a no-op is short and a single one is at the mercy of the machine: the median of five, each
                # started when the machine is idle (a Prefect server records the last run's events for seconds)
                runs = []
                for _ in range(5):
                    wait_until_idle()
                    runs.append(timed_run(base / f"corpus-{size}", base / f"out-{size}-{n}-again", base / f"data-{size}-{n}", n))
                runs.sort(key=lambda r: r["seconds"])
                again, full = runs[2], results[(size, n)]
                print(f"no-op re-run of {size} documents, {n} worker(s), median of 5 ({runs[0]['seconds']:.1f}-"
                      f"{runs[-1]['seconds']:.1f} s): {again['seconds']:.1f} s wall "
                      f"({again['seconds'] / full['seconds']:.1%} of the full run); parse+extract "
                      f"{again['flow_seconds']:.1f} s, store {again['store_seconds']:.1f} s, outputs "
                      f"{again['outputs_seconds']:.1f} s; peak RSS {again['peak_mb']:.0f} MB", flush=True)
        if 1000 in sizes and 10000 in sizes:
            for n in workers:
                small, large = results[(1000, n)], results[(10000, n)]
                print(f"{n} worker(s): 10k/1k time ratio {large['seconds'] / small['seconds']:.2f} wall, "
                      f"{large['flow_seconds'] / small['flow_seconds']:.2f} parse+extract; "
                      f"peak RSS ratio {large['peak_mb'] / small['peak_mb']:.2f}")
    finally:
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
