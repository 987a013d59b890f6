"""Check that every double-quoted passage of EVIDENCE.md occurs in the document of its section.

Run from this folder: python check_quotes.py  (exit status 1 when a quote is not found).
XML documents are compared with their tags stripped; whitespace is collapsed on both sides.
"""
import re
import sys
from pathlib import Path

import lxml.etree as et

HERE = Path(__file__).parent


def text_of(path: Path) -> str:
    if path.suffix == ".xml":
        return "".join(et.parse(str(path)).getroot().itertext())
    return path.read_text(encoding="utf-8")


def norm(s: str) -> str:
    return re.sub(r"\s+", " ", s).strip()


def main() -> int:
    missing = 0
    checked = 0
    doc = None
    for line in (HERE / "EVIDENCE.md").read_text(encoding="utf-8").splitlines():
        m = re.match(r"## \S+\s+\((docs/[^,)]+)", line)
        if m:
            doc = norm(text_of(HERE / m.group(1)))
            continue
        if doc is None:
            continue
        line = re.sub(r"`[^`]*`", "", line)
        for q in re.findall(r"\u201c([^\u201d]+)\u201d|\"([^\"]+)\"", line):
            q = norm(q[0] or q[1])
            checked += 1
            if q not in doc:
                missing += 1
                print("NOT FOUND:", q)
    print(f"{checked} quotes checked, {missing} not found")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
