"""A hostile corpus run end to end: links out of the folder, a manifest naming /dev/zero, a FIFO and ../ paths, a
PDF decompression bomb, duplicate articles, a file of NUL bytes, a PNG named .pdf, files pecrs does not read, a
text opening with '<', among good documents. Prints the run's exit code, time, peak memory of its process tree
(psutil, sampled every 0.2 s: the run, its PDF readers and Prefect's server) and every documents.csv row.

    .venv/bin/python bench/hostile.py [--keep DIR]
"""

from __future__ import annotations

import argparse
import csv
import os
import shutil
import sys
import tempfile
import zlib
from pathlib import Path

from measure import run_measured  # bench/measure.py

ROOT = Path(__file__).resolve().parent.parent
GOOD = ["pereira2021.xml", "xiao2019.jats.xml", "authorea2023.txt"]
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00\x90wS\xde"


def bomb_pdf(inflated_bytes: int = 1 << 30) -> bytes:
    """A one-page PDF whose content stream is a few MB of Flate data inflating to ``inflated_bytes`` of spaces."""
    squeezer = zlib.compressobj(9)
    chunk = b" " * (1 << 20)
    stream = b"".join(squeezer.compress(chunk) for _ in range(inflated_bytes // len(chunk))) + squeezer.flush()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R >>",
               b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream"]
    body, offsets = b"%PDF-1.4\n", []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(body)
    body += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    body += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    return body + b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)


def hostile_corpus(folder: Path) -> Path:
    corpus, outside = folder / "corpus", folder / "outside"
    docs = corpus / "docs"
    docs.mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.txt").write_text("SECRET-TITLE-LINE\nnot for pecrs\n", encoding="utf-8")
    for name in GOOD:
        shutil.copy(ROOT / "corpus/docs" / name, docs / name)
    shutil.copy(ROOT / "corpus/docs/xiao2019.jats.xml", docs / "xiao2019-copy.jats.xml")  # the same article twice
    (docs / "passwd.txt").symlink_to("/etc/passwd")
    (docs / "secret-link.txt").symlink_to(outside / "secret.txt")
    os.mkfifo(docs / "pipe.txt")
    (docs / "bomb.pdf").write_bytes(bomb_pdf())
    (docs / "zeros.txt").write_bytes(b"\0" * 4096)
    (docs / "image.pdf").write_bytes(PNG + b"\0" * 64)
    (docs / "pic.png").write_bytes(PNG)
    (docs / "junk.bin").write_bytes(os.urandom(2048))
    (docs / "angle.txt").write_text("<3 months after CAR-T infusion the patient was well.\n", encoding="utf-8")
    (corpus / "manifest.csv").write_text(
        "file,format,doc_id,origin,expected_status,in_scope_patients,description\n"
        "/dev/zero,text,,,,,\n../outside/secret.txt,text,,,,,\n/proc/self/environ,text,,,,,\n", encoding="utf-8")
    return corpus


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="build and keep the corpus and outputs here")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="pecrs-hostile-"))
    folder.mkdir(parents=True, exist_ok=True)
    corpus = hostile_corpus(folder)
    data = folder / "data"
    env = {**os.environ, "PECRS_DATA": str(data), "PECRS_DATABASE_URL": f"sqlite:///{data / 'pecrs.db'}"}
    command = [sys.executable, "-m", "pipeline", "run", "--corpus", str(corpus), "--out", str(folder / "out"),
               "--no-score"]
    measured = run_measured(command, ROOT, env, every=0.2)
    print(f"exit code {measured.returncode}; {measured.seconds:.1f} s; peak RSS of the process tree "
          f"{measured.peak_bytes / 2**20:.0f} MB")
    documents = folder / "out/latest/documents.csv"
    if not documents.exists():
        print(measured.output[-3000:])
        sys.exit(1)
    with open(documents, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            print(f"  {row['file']:40s} {row['status']:14s} {row['reason'][:90]}")
    everything = "".join(p.read_text(encoding="utf-8", errors="replace") for p in (folder / "out/latest").iterdir())
    print("secret read:", "SECRET-TITLE-LINE" in everything or "root:x:0:0" in everything)
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
