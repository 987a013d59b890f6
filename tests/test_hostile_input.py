"""Hostile corpus folders and files: links and manifest rows outside the folder, devices, FIFOs, binary files under
document names, PDF decompression bombs. Nothing outside the folder is opened, and every file gets its row."""

import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from pipeline.run import stages
from pipeline.settings import settings
from pipeline.run.corpus import corpus_entries, with_content_hash
from pdf_bytes import pdf_bytes
from pipeline.parsing import ParseError, parse_file
from pipeline.run.work_cache import WorkCache

ROOT = Path(__file__).resolve().parent.parent
SECRET = "TOP SECRET: the launch codes are 0000"
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"

_forbidden: set[str] = set()
_opened: list[str] = []


def _audit(event: str, args: tuple) -> None:
    """Refuses (and notes) any open() of a file the test says must never be opened."""
    if event == "open" and _forbidden and isinstance(args[0], (str, bytes, os.PathLike)):
        path = os.path.abspath(os.fsdecode(args[0]))
        if path in _forbidden:
            _opened.append(path)
            raise PermissionError(f"the test forbids opening {path}")


sys.addaudithook(_audit)


def pdf(content: bytes, filters: str = "/Filter /FlateDecode") -> bytes:
    """A one-page PDF whose page draws ``content`` (compressed or not, as ``filters`` says)."""
    return pdf_bytes([content], filters)


def text_pdf(text: str) -> bytes:
    return pdf(zlib.compress(f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()))


@pytest.fixture
def limits(monkeypatch):
    """Sets PECRS_* limits for one test."""
    def set_limits(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        settings.cache_clear()

    yield set_limits
    monkeypatch.undo()
    settings.cache_clear()


def hostile_corpus(tmp_path: Path) -> Path:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text(f"{SECRET}\n\nA 45-year-old woman received CAR-T cells and plasma exchange.\n")
    corpus = tmp_path / "corpus"
    docs = corpus / "docs"
    docs.mkdir(parents=True)
    shutil.copy(ROOT / "corpus/docs/santos_multi2023.txt", docs)
    (docs / "link.txt").symlink_to(outside / "secret.txt")
    (docs / "etc").symlink_to("/etc")
    os.mkfifo(docs / "pipe.txt")
    os.mkfifo(docs / "queue.xml")  # not in the manifest: found by the folder scan
    (docs / "nul.txt").write_bytes(bytes(4096))
    (docs / "image.pdf").write_bytes(PNG)
    (docs / "archive.txt").write_bytes(b"PK\x03\x04\x14\x00\x06\x00" + bytes(200))
    (docs / "pic.png").write_bytes(PNG)
    (docs / "junk.bin").write_bytes(bytes(range(256)) * 8)
    (docs / "less-than.txt").write_text("<3 months after CAR-T infusion a 60-year-old man developed grade 3 CRS.\n\n"
                                        "He recovered after tocilizumab.\n")
    (docs / ".hidden.txt").write_text("an editor's backup")
    rows = ["docs/santos_multi2023.txt", "/dev/zero", "../outside/secret.txt", "docs/pipe.txt", "/etc/passwd",
            "/proc/self/environ", "docs/missing.txt"]
    (corpus / "manifest.csv").write_text("file,format,origin,description\n" + "".join(f"{row},text,test,\n" for row in rows))
    return corpus


def test_a_hostile_corpus_gives_every_file_its_row_and_opens_nothing_outside_it(tmp_path):
    corpus = hostile_corpus(tmp_path)
    docs = corpus / "docs"
    secret = tmp_path / "outside/secret.txt"
    _forbidden.update(map(str, [secret, docs / "link.txt", docs / "pipe.txt", docs / "queue.xml", docs / "pic.png",
                                docs / "junk.bin", docs / ".hidden.txt", "/dev/zero", "/etc/passwd", "/proc/self/environ"]))
    try:
        cache = WorkCache(tmp_path / "cache")
        entries = [with_content_hash(entry) for entry in corpus_entries(corpus)]  # as the flow lists them
        outcomes = stages.process_batch(entries, corpus, cache=cache)
        # a re-run retries the files that failed to parse; refused and skipped ones are no work
        unfinished = {entry.path.name for entry in entries if not cache.is_extracted(entry, False)}
        cache.close()
        again = stages.process_batch(corpus_entries(corpus), corpus)  # and without a cache
    finally:
        _forbidden.clear()
    assert _opened == []
    assert unfinished == {"nul.txt", "image.pdf", "archive.txt"}
    assert [r for o in again for r in o.results] == [r for o in outcomes for r in o.results]
    results = {r.file: r for o in outcomes for r in o.results}
    expected = {
        "docs/santos_multi2023.txt": ("relevant", ""),
        "/dev/zero": ("failed", "refused: outside the corpus folder"),
        "../outside/secret.txt": ("failed", "refused: outside the corpus folder"),
        "/etc/passwd": ("failed", "refused: outside the corpus folder"),
        "/proc/self/environ": ("failed", "refused: outside the corpus folder"),
        "docs/link.txt": ("failed", "refused: a link to outside the corpus folder"),
        "docs/etc": ("failed", "refused: a link to outside the corpus folder"),
        "docs/pipe.txt": ("failed", "refused: not a regular file (a FIFO)"),
        "docs/queue.xml": ("failed", "refused: not a regular file (a FIFO)"),
        "docs/missing.txt": ("failed", "not found (listed in the manifest)"),
        "docs/nul.txt": ("failed", "binary content (NUL bytes), not a document"),
        "docs/image.pdf": ("failed", "binary content (PNG image), not a document"),
        "docs/archive.txt": ("failed", "binary content (ZIP archive, e.g. .docx or .xlsx), not a document"),
        "docs/pic.png": ("skipped", "not a document pecrs reads (.png)"),
        "docs/junk.bin": ("skipped", "not a document pecrs reads (.bin)"),
    }
    for file, (status, reason) in expected.items():
        assert (file, results[file].status, results[file].reason if reason else "") == (file, status, reason)
    assert results["docs/less-than.txt"].status != "failed" and results["docs/less-than.txt"].format == "text"
    assert set(results) == set(expected) | {"docs/less-than.txt"}  # hidden files are not listed
    written = json.dumps([([vars(r) for r in o.results], o.rows, o.evidence) for o in outcomes])
    assert "launch codes" not in written and "root:" not in written


def test_parse_file_refuses_devices_and_fifos_unopened_for_reading(tmp_path):
    fifo = tmp_path / "fifo.txt"
    os.mkfifo(fifo)
    for path, kind in (("/dev/zero", "a character device"), (fifo, "a FIFO")):
        with pytest.raises(ParseError) as error:
            parse_file(path)
        assert error.value.reason == f"not a regular file ({kind})"


def test_a_pdf_decompression_bomb_fails_within_the_memory_limit(tmp_path):
    packer = zlib.compressobj(9)
    zeros = bytes(1 << 20)
    stream = b"".join(packer.compress(zeros) for _ in range(1024)) + packer.flush()  # 1 MB inflating to 1 GB
    bomb = tmp_path / "bomb.pdf"
    bomb.write_bytes(pdf(stream))
    assert bomb.stat().st_size < 1.1e6
    # a process of its own: its peak memory (VmHWM: ru_maxrss would count this test process's, inherited through
    # fork and exec) and its children's are this parse's alone
    script = ("import re, resource, sys\nfrom pipeline.parsing import ParseError, parse_file\n"
              "try:\n    parse_file(sys.argv[1])\n    print('parsed')\nexcept ParseError as exc:\n    print(exc.reason)\n"
              "own = re.search(r'VmHWM:\\s*(\\d+) kB', open('/proc/self/status').read()).group(1)\n"
              "print(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")
    run = subprocess.run([sys.executable, "-c", script, str(bomb)], env={**os.environ, "PECRS_PDF_MAX_MB": "256"},
                         capture_output=True, text=True, timeout=600)
    reason, usage = run.stdout.splitlines()[-2:]
    assert reason == "PDF needs more than the memory limit of 256 MB (PECRS_PDF_MAX_MB)"
    own_kb, reader_kb = map(int, usage.split())
    assert own_kb < 256 * 1024 and reader_kb < 256 * 1024


def test_a_pdf_that_needs_too_much_cpu_time_fails_at_the_limit(tmp_path, limits):
    slow = tmp_path / "slow.pdf"
    slow.write_bytes(pdf(zlib.compress(b"1 w\n" * 5_000_000)))  # five million drawing operators
    limits(PECRS_PDF_MAX_SECONDS="1")
    with pytest.raises(ParseError) as error:
        parse_file(slow)
    assert error.value.reason == "PDF needs more than the CPU time limit of 1 s (PECRS_PDF_MAX_SECONDS)"


def test_a_pdf_whose_text_is_over_the_file_size_limit_fails(tmp_path, limits):
    wordy = tmp_path / "wordy.pdf"
    wordy.write_bytes(pdf(zlib.compress(b"BT /F1 1 Tf 0 700 Td " + b"(case report plasma exchange) Tj 0 -0.01 Td " * 1000
                                        + b"ET")))
    limits(PECRS_MAX_FILE_BYTES=str(10_000))
    assert wordy.stat().st_size < 10_000
    with pytest.raises(ParseError) as error:
        parse_file(wordy)
    assert error.value.reason == "PDF text is over the limit of 10,000 bytes (PECRS_MAX_FILE_BYTES)"


def _parse_in(queue, path: str) -> None:
    try:
        queue.put([d.text.strip() for d in parse_file(path)])
    except Exception as exc:  # the test reads what went wrong
        queue.put(f"{type(exc).__name__}: {exc}")


def test_a_pdf_is_read_in_a_daemonic_process_as_dask_workers_are(tmp_path):
    path = tmp_path / "report.pdf"
    path.write_bytes(text_pdf("Plasma exchange for CAR-T cytokine release syndrome"))
    context = multiprocessing.get_context("spawn")  # Dask's nanny starts its workers so, as daemons
    queue = context.Queue()
    worker = context.Process(target=_parse_in, args=(queue, str(path)), daemon=True)
    worker.start()
    try:
        assert queue.get(timeout=300) == ["Plasma exchange for CAR-T cytokine release syndrome"]
    finally:
        worker.join(timeout=60)


def test_a_link_to_a_file_or_folder_of_the_corpus_is_that_file_listed_once(tmp_path):
    docs = tmp_path / "corpus" / "docs"
    (docs / "real").mkdir(parents=True)
    (docs / "real" / "report.txt").write_text("Case report\n\nA 45-year-old woman received CAR-T cells.\n")
    (docs / "alias.txt").symlink_to(docs / "real" / "report.txt")
    (docs / "folder").symlink_to(docs / "real")
    assert [(entry.path, entry.status) for entry in corpus_entries(tmp_path / "corpus")] == [
        (docs / "real" / "report.txt", "")]
