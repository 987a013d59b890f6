"""A PDF is as good as its XML (#17): the corpus's JATS articles typeset as two-column journal PDFs
(tests/pdf_render.py, headless Chromium), pecrs run on each XML and on its PDF, and the case rows compared.

Per document and overall: patients found in each, the share of the XML's filled cells that the PDF reproduces (the
same value in the same column of the matching patient), whether the PDF's title is the XML's, and the differing
cells. tests/test_pdf_roundtrip.py asserts on the same comparison.
Usage: python bench/pdf_roundtrip.py [--corpus DIR] [--keep DIR] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from pdf_render import articles, render_jats  # noqa: E402  (tests/pdf_render.py)
from pipeline.run import stages  # noqa: E402
from pipeline.run.corpus import CorpusEntry, corpus_entries  # noqa: E402
from pipeline.schema import SCORED_FIELDS  # noqa: E402


@dataclass(frozen=True)
class Cell:
    patient: str  # the XML row's patient label, or its number in the document
    field: str
    xml: str
    pdf: str


@dataclass
class Roundtrip:
    """One XML article against the PDF rendered from it."""
    name: str
    xml_title: str
    pdf_title: str
    xml_patients: int
    pdf_patients: int
    matched_patients: int = 0
    filled: int = 0  # the XML rows' non-empty scored cells
    reproduced: int = 0  # of those, the same value in the PDF's matching row
    differences: list[Cell] = field(default_factory=list)  # every cell that differs, either way
    error: str = ""  # the PDF could not be read

    @property
    def every_patient_found(self) -> bool:
        return not self.error and self.matched_patients == self.xml_patients

    @property
    def title_read(self) -> bool:
        return _normal(self.pdf_title) == _normal(self.xml_title)


def _normal(value: str) -> str:
    return " ".join(str(value).split())


def jats_files(corpus: Path) -> list[Path]:
    """The corpus's files that hold JATS articles, in the manifest's order."""
    return [entry.path for entry in corpus_entries(corpus)
            if not entry.status and entry.path.suffix in (".xml", ".nxml") and articles(entry.path)]


def pair_patients(xml_rows: list[dict], pdf_rows: list[dict]) -> tuple[list[tuple[dict, dict | None]], list[dict]]:
    """Each XML row with the PDF row of the same patient label, the rest paired in order (None where the PDF has
    no row left); and the PDF's rows left unpaired."""
    remaining = list(pdf_rows)
    pairs: list[tuple[dict, dict | None]] = []
    for row in xml_rows:
        same = next((p for p in remaining if row["patient_label"] and p["patient_label"] == row["patient_label"]), None)
        if same is not None:
            remaining.remove(same)
        pairs.append((row, same))
    for index, (row, partner) in enumerate(pairs):
        if partner is None and remaining:
            pairs[index] = (row, remaining.pop(0))
    return pairs, remaining


def compare(name: str, xml_document, xml_rows: list[dict], pdf_document, pdf_rows: list[dict]) -> Roundtrip:
    result = Roundtrip(name, xml_document.title, pdf_document.title if pdf_document else "", len(xml_rows),
                       len(pdf_rows))
    pairs, extras = pair_patients(xml_rows, pdf_rows)
    for number, (xml_row, pdf_row) in enumerate(pairs, start=1):
        patient = xml_row["patient_label"] or f"patient {number}"
        result.matched_patients += pdf_row is not None
        for column in SCORED_FIELDS:
            xml_value, pdf_value = _normal(xml_row[column]), _normal(pdf_row[column]) if pdf_row else ""
            result.filled += bool(xml_value)
            result.reproduced += bool(xml_value) and xml_value == pdf_value
            if xml_value != pdf_value:
                result.differences.append(Cell(patient, column, xml_value, pdf_value))
    for extra in extras:  # patients the PDF found that the XML has not
        patient = f"extra {extra['patient_label'] or 'patient'}"
        result.differences.extend(Cell(patient, column, "", _normal(extra[column]))
                                  for column in SCORED_FIELDS if _normal(extra[column]))
    return result


def _documents_and_rows(path: Path):
    parsed = stages.parse_entry(CorpusEntry(path))
    if parsed.error:
        return [], [], parsed.error
    per_document = []
    for document in parsed.documents:
        rows, _ = stages.case_rows([stages.extract(document)])
        per_document.append(rows)
    return parsed.documents, per_document, ""


def roundtrip(files: list[Path], folder: Path) -> list[Roundtrip]:
    """Each JATS file rendered into ``folder`` and read both ways."""
    return read_both(render_jats(files, folder))


def read_both(rendered: dict[Path, list[Path]]) -> list[Roundtrip]:
    """Each JATS file and the PDFs rendered from it (render_jats) read by pecrs, their case rows compared."""
    results = []
    for path, pdfs in rendered.items():
        xml_documents, xml_rows, error = _documents_and_rows(path)
        if error:
            raise RuntimeError(f"{path.name}: the XML itself is not read: {error}")
        for pdf, xml_document, rows in zip(pdfs, xml_documents, xml_rows):
            pdf_documents, pdf_rows, pdf_error = _documents_and_rows(pdf)
            # a PDF is one article; rows of every document read from it count
            result = compare(pdf.stem, xml_document, rows, pdf_documents[0] if pdf_documents else None,
                             [row for rows_of_one in pdf_rows for row in rows_of_one])
            result.error = pdf_error
            results.append(result)
    return results


def share(results: list[Roundtrip]) -> float:
    filled = sum(r.filled for r in results)
    return sum(r.reproduced for r in results) / filled if filled else 1.0


def report(results: list[Roundtrip], cells: bool = True) -> str:
    lines = [f"{'document':28s} {'patients xml/pdf':>16s} {'cells':>11s} {'share':>6s}  title"]
    for r in results:
        cell_share = f"{r.reproduced / r.filled:.3f}" if r.filled else "  -  "
        lines.append(f"{r.name:28s} {r.xml_patients:>8d}/{r.pdf_patients:<7d} {r.reproduced:>5d}/{r.filled:<5d} "
                     f"{cell_share:>6s}  {'same' if r.title_read else repr(r.pdf_title[:60])}"
                     + (f"  PDF not read: {r.error}" if r.error else ""))
        if cells:
            lines.extend(f"    {c.patient:14s} {c.field:20s} xml {c.xml[:50]!r:52s} pdf {c.pdf[:50]!r}"
                         for c in r.differences)
    with_patients = [r for r in results if r.xml_patients]
    lines.append(
        f"overall: {len(results)} articles; patients xml {sum(r.xml_patients for r in results)}, pdf "
        f"{sum(r.pdf_patients for r in results)}, matched {sum(r.matched_patients for r in results)}; every patient "
        f"found in {sum(r.every_patient_found for r in with_patients)} of {len(with_patients)} case reports; "
        f"filled cells reproduced {sum(r.reproduced for r in results)}/{sum(r.filled for r in results)} = "
        f"{share(results):.3f}; titles read {sum(r.title_read for r in results)} of {len(results)}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--keep", type=Path, help="write the PDFs here (kept) rather than in a temporary folder")
    parser.add_argument("--only", nargs="*", help="file names (or their starts) to render, not the whole corpus")
    parser.add_argument("--quiet", action="store_true", help="no per-cell differences")
    args = parser.parse_args()
    files = [p for p in jats_files(args.corpus) if not args.only or any(p.name.startswith(o) for o in args.only)]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        results = roundtrip(files, folder)
    print(report(results, cells=not args.quiet))
    print(f"{time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
