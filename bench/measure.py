"""Running a pecrs command and measuring it: wall time and the peak memory of its whole process tree (the run,
its PDF readers, Dask workers and Prefect's server), sampled with psutil."""

from __future__ import annotations

import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import psutil


@dataclass
class Measured:
    returncode: int
    output: str  # stdout and stderr together
    seconds: float
    peak_bytes: int


def run_measured(command: list[str], cwd: Path, env: dict, every: float = 0.5) -> Measured:
    started = time.perf_counter()
    process = psutil.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    peak = 0
    while process.poll() is None:
        try:
            tree = [process] + process.children(recursive=True)
            peak = max(peak, sum(p.memory_info().rss for p in tree if p.is_running()))
        except psutil.Error:
            pass
        time.sleep(every)
    output = process.stdout.read()
    return Measured(process.returncode, output, time.perf_counter() - started, peak)
