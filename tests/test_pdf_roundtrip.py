"""A PDF is as good as its XML (#17): the corpus's JATS articles typeset as two-column journal PDFs by Chromium
(tests/pdf_render.py) and read back by pecrs, compared as bench/pdf_roundtrip.py compares them.

The issue's bar is ISSUE_SHARE of the XML's filled cells reproduced from the PDF, with every patient found; the test
holds it (on 2026-11-30: 986 of 986 filled cells and all 40 patients; the parser before the layout work gave 0.471
and 28 patients).
"""

from __future__ import annotations

import re
import sys
from collections import Counter
from pathlib import Path

import pdfplumber
import pytest

from browser import require_browser
from pdf_render import PAGE_WIDTH_MM, look_for, render_jats
from pipeline.parsing import parse_file

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from pdf_roundtrip import jats_files, read_both, report, share  # noqa: E402  (bench/pdf_roundtrip.py)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ISSUE_SHARE = 0.97  # #17's bar, with every patient found
MIN_WORDS_KEPT = 0.98  # the renderer's own check; the XML parser's headings ("Back matter") are not printed
MM = 72 / 25.4
GUTTER = 8  # points: the narrowest column gap of the looks is 4 mm, 11 points


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[Path, list[Path]]:
    require_browser()
    files = jats_files(ROOT / "corpus")
    assert len(files) >= 20, "the corpus's JATS articles were not found"
    return render_jats(files, tmp_path_factory.mktemp("pdf-roundtrip"))


def _tokens(text: str) -> Counter:
    """Runs of letters and runs of digits, lower-cased: "FiO2" and "FiO" + subscript "2" read alike."""
    return Counter(re.findall(r"[^\W\d_]+|\d+", text.lower()))


def test_every_article_is_typeset_in_two_columns_at_its_size_with_all_its_words(rendered):
    """The renderer: each XML article is one PDF on the look's page size, its body at the look's size (Chromium
    did not shrink a page to fit), set in two columns, and plain pdfplumber finds the article's words in it."""
    for path, pdfs in rendered.items():
        documents = parse_file(path)
        assert len(pdfs) == len(documents) >= 1, path.name
        look = look_for(path.name)
        for document, pdf in zip(documents, pdfs):
            with pdfplumber.open(pdf) as opened:
                pages = opened.pages
                assert abs(pages[0].width - PAGE_WIDTH_MM[look.page] * MM) < 1, (pdf.name, pages[0].width)
                sizes = Counter(round(char["size"], 1) for page in pages for char in page.chars)
                assert abs(sizes.most_common(1)[0][0] - look.size_pt) < 0.15, (pdf.name, sizes.most_common(3))
                words = [(page, page.extract_words(extra_attrs=["size"])) for page in pages]
            second = sum(_lines_in_second_column(page.width, page_words, look.size_pt) for page, page_words in words)
            assert second >= 10, f"{pdf.name}: {second} lines in a second column"
            want = _tokens(document.text)
            missing = want - _tokens(" ".join(w["text"] for _, page_words in words for w in page_words))
            kept = 1 - sum(missing.values()) / sum(want.values())
            assert kept >= MIN_WORDS_KEPT, f"{pdf.name}: {kept:.3f} of the words; missing {missing.most_common(10)}"


def _lines_in_second_column(width: float, words: list[dict], size: float) -> int:
    """Lines of body text (tables are set smaller) that start at one left edge right of the page's middle, with
    a gutter before it no word of the line enters: a second column's."""
    body = [w for w in words if abs(w["size"] - size) < 0.15]
    starts = Counter(round(w["x0"]) for w in body if w["x0"] > width / 2)
    if not starts:
        return 0
    edge = starts.most_common(1)[0][0]
    lines: dict[int, list[dict]] = {}
    for word in body:
        lines.setdefault(round(word["top"]), []).append(word)
    return sum(1 for line in lines.values() if any(abs(w["x0"] - edge) <= 1 for w in line)
               and not any(w["x0"] < edge - 1 and w["x1"] > edge - GUTTER for w in line))


def test_case_rows_read_from_the_pdfs_are_those_read_from_the_xml(rendered):
    """Every PDF is read; the share of the XML's filled cells that the PDF reproduces and the patients matched
    reach the issue's bar: ISSUE_SHARE of them, with every patient of the XML found in the PDF."""
    results = read_both(rendered)
    summary = report(results, cells=False) + f"\n#17's bar: {ISSUE_SHARE} of filled cells, every patient"
    assert not [r.name for r in results if r.error], summary
    assert sum(r.xml_patients for r in results) >= 35, "the XML articles' patients were not read: " + summary
    assert share(results) >= ISSUE_SHARE, summary
    assert sum(r.matched_patients for r in results) == sum(r.xml_patients for r in results), summary
