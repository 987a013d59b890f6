#!/usr/bin/env python3
"""Check a blind set's gold against its documents.

Run from anywhere on a sealed set: `python3 gold/blind/check_evidence.py gold/blind/set-g6`.
It reads the set's files and exits non-zero on any problem.

EVIDENCE.md is read as sections headed `## <case_id or note> — docs/<file>`. Checked:
- every text in double quotes occurs in that section's document (whitespace runs compared as one space; an XML
  document is compared as its text without markup, its parts joined directly and with spaces);
- no quote stands outside a section that names a document;
- every row of cases.csv has one section, on the document whose doc_id manifest.csv gives, and every filled column
  of the row is named in a bold label of that section;
- every document in docs/ is listed in manifest.csv and has a section, and manifest.csv's in-scope count of each
  document equals its rows in cases.csv.
"""
import csv
import re
import sys
import xml.etree.ElementTree as ElementTree
from collections import Counter
from pathlib import Path

HERE = Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else Path.cwd()
HEADING = re.compile(r"^## (?P<title>.+?) — (?P<doc>docs/\S+)\s*$")
QUOTE = re.compile(r'"([^"]+)"')
BOLD = re.compile(r"\*\*(.+?)\*\*")


def normalised(text):
    return re.sub(r"\s+", " ", text).strip()


def document_texts(path):
    raw = path.read_text(encoding="utf-8")
    texts = [normalised(raw)]
    if path.name.endswith(".xml"):
        parts = list(ElementTree.parse(path).getroot().itertext())
        texts += [normalised("".join(parts)), normalised(" ".join(parts))]
    return texts


def sections(evidence):
    """(title, doc or None, body lines) for the preamble and each `## ` section."""
    title, doc, body = "preamble", None, []
    for line in evidence.splitlines():
        if line.startswith("## "):
            yield title, doc, body
            match = HEADING.match(line)
            title, doc, body = (match["title"], match["doc"], []) if match else (line[3:], None, [])
        else:
            body.append(line)
    yield title, doc, body


def main():
    problems = []
    with open(HERE / "cases.csv", newline="", encoding="utf-8") as f:
        reader = csv.DictReader(f)
        columns = reader.fieldnames
        cases = {row["case_id"]: row for row in reader}
    with open(HERE / "manifest.csv", newline="", encoding="utf-8") as f:
        manifest = {row["file"]: row for row in csv.DictReader(f)}

    texts, quotes_checked, case_sections = {}, 0, Counter()
    for title, doc, body in sections((HERE / "EVIDENCE.md").read_text(encoding="utf-8")):
        quotes = [q for line in body for q in QUOTE.findall(line)]
        if doc is None:
            if quotes:
                problems.append(f"section '{title}': {len(quotes)} quote(s) but no docs/ file in its heading")
            continue
        path = HERE / doc
        if not path.is_file():
            problems.append(f"section '{title}': {doc} does not exist")
            continue
        texts.setdefault(doc, document_texts(path))
        for quote in quotes:
            quotes_checked += 1
            if not any(normalised(quote) in text for text in texts[doc]):
                problems.append(f"{title}: not in {doc}: \"{quote}\"")
        if title in cases:
            case_sections[title] += 1
            row = cases[title]
            if doc not in manifest or manifest[doc]["doc_id"] != row["doc_id"]:
                problems.append(f"{title}: doc_id {row['doc_id']} is not manifest.csv's doc_id of {doc}")
            labelled = {name for label in BOLD.findall("\n".join(body))
                        for name in re.findall(r"[a-z0-9_]+", label)}
            for column in columns:
                if row[column] and column not in labelled:
                    problems.append(f"{title}: filled column {column} is named in no bold label of its section")

    for case_id in cases:
        if case_sections[case_id] != 1:
            problems.append(f"{case_id}: {case_sections[case_id]} sections in EVIDENCE.md (want 1)")
    rows_per_doc = Counter(row["doc_id"] for row in cases.values())
    for path in sorted((HERE / "docs").iterdir()):
        doc = f"docs/{path.name}"
        if doc not in manifest:
            problems.append(f"{doc}: not in manifest.csv")
            continue
        if doc not in texts:
            problems.append(f"{doc}: no EVIDENCE.md section")
        want = int(manifest[doc]["in_scope_patients"])
        if rows_per_doc[manifest[doc]["doc_id"]] != want:
            problems.append(f"{doc}: {rows_per_doc[manifest[doc]['doc_id']]} rows in cases.csv, manifest says {want}")

    filled = sum(1 for row in cases.values() for column in columns if row[column])
    for problem in problems:
        print("PROBLEM", problem)
    print(f"{len(texts)} documents, {len(cases)} gold rows, {filled} filled cells, "
          f"{quotes_checked} quotes checked, {len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
