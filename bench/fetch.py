"""Fetching 1,000 PubMed records (every fifth with PMC full text) from the test E-utilities server on
127.0.0.1 at NCBI's 3 requests/s: requests and seconds for a first run, a second run, a run after 50 new
records, a run after 20 records and 5 full texts were revised, a full re-check (--full) of every record, and a first
run against a server that fails every 7th (429), 11th (500) and 13th (cut body) request.
Usage: python bench/fetch.py
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from eutils_server import EutilsServer, FakeNcbi, Faults  # noqa: E402

from pipeline.fetch.eutils import EutilsClient, EutilsConfig  # noqa: E402
from pipeline.fetch.updates import fetch_new  # noqa: E402


def one_run(label: str, fake: FakeNcbi, url: str, corpus: Path, full: bool = False) -> None:
    before = len(fake.log)
    started = time.perf_counter()
    with EutilsClient(EutilsConfig(base_url=url, email="bench@example.org")) as client:
        summary = fetch_new(corpus, client, "bench", full=full)
    seconds = time.perf_counter() - started
    print(f"{label:34s} {len(fake.log) - before:3d} requests ({summary.retries} retries) {seconds:6.1f} s  "
          f"new {summary.new}, updated {summary.updated}, unchanged {summary.unchanged}, full texts "
          f"{summary.full_texts}, failed {summary.failed}; busiest second: {fake.most_in_one_second()} requests")


def main() -> None:
    fake = FakeNcbi.generated(1000)
    with EutilsServer(fake) as url, tempfile.TemporaryDirectory() as corpus:
        one_run("first run, 1,000 records", fake, url, Path(corpus))
        one_run("second run, nothing new", fake, url, Path(corpus))
        fake.add_records(50, date.today(), 40000000)
        one_run("third run, 50 new records", fake, url, Path(corpus))
        for record in fake.records[:100:5]:  # 20 records, of which the 5th, 10th ... have full texts
            fake.revise(record.pmid, date.today())
        for record in [r for r in fake.records if r.pmcid and r.open_access][:5]:
            fake.revise_pmc(record.pmcid, date.today())
        one_run("fourth run, 20 + 5 full texts revised", fake, url, Path(corpus))
        one_run("fifth run, --full re-check", fake, url, Path(corpus), full=True)
    fake = FakeNcbi.generated(1000, faults=Faults(too_many=7, server_error=11, truncated=13))
    with EutilsServer(fake) as url, tempfile.TemporaryDirectory() as corpus:
        one_run("first run, faults 7/11/13", fake, url, Path(corpus))


if __name__ == "__main__":
    main()
