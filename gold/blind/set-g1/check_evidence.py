"""Check that every quoted string in EVIDENCE.md occurs in its document (tags stripped, entities decoded)."""
import html, re, sys, pathlib
import lxml.etree as ET
here = pathlib.Path(__file__).parent
def text(p):
    if p.suffix == ".xml":
        t = " ".join(ET.parse(str(p)).getroot().itertext())
    else:
        t = p.read_text(encoding="utf-8")
    return re.sub(r"\s+", " ", t)
docs = {p.name: text(p) for p in (here / "docs").iterdir()}
bad = 0; n = 0; cur = None
for line in (here / "EVIDENCE.md").read_text(encoding="utf-8").splitlines():
    m = re.search(r"docs/(\S+?\.(?:xml|txt))", line)
    if m:
        cur = m.group(1)
    if cur is None or line.startswith("#"):
        continue
    for q in re.findall(r'"([^"]+)"', re.sub(r"`[^`]*`", "", line)):
        if len(q) < 4: continue
        n += 1
        if q not in docs[cur]:
            # table cells are checked as single cells
            bad += 1; print(f"NOT FOUND in {cur}: {q}")
print(f"{n} quotes checked, {bad} not found"); sys.exit(1 if bad else 0)
