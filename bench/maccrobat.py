"""Age and sex accuracy on MACCROBAT2020: 100 real case reports written by others (../shared/data/maccrobat).

Each report's BRAT annotations give the patient's Age and Sex; pecrs reads the report with
--all-patients semantics (every described patient) and its first patient's age and sex are compared.
Usage: python bench/maccrobat.py [--show-errors]
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from extractors.cases import extract_document  # noqa: E402
from extractors.fields.demographics import AGE  # noqa: E402
from pipeline.parsing import parse_file  # noqa: E402

DATA = ROOT.parent / "shared" / "data" / "maccrobat"


def gold_age_sex(annotation: Path) -> tuple[float | None, str | None]:
    age = sex = None
    for line in annotation.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) < 3 or not parts[0].startswith("T"):
            continue
        kind, text = parts[1].split(" ")[0], parts[2]
        if kind == "Age" and age is None:
            match = AGE.search(text) or re.search(r"(\d{1,3})", text)
            if match:
                number = next(g for g in match.groups() if g and re.fullmatch(r"\d{1,3}(?:\.\d)?", g))
                unit = "month" if re.search(r"month", text, re.I) else "week" if re.search(r"week", text, re.I) else "year"
                age = round(float(number) / {"year": 1, "month": 12, "week": 52}[unit], 1)
        if kind == "Sex" and sex is None:
            lowered = text.lower()
            sex = "F" if re.search(r"\b(female|woman|girl|lady|she|her|mother|wife)\b", lowered) else \
                  "M" if re.search(r"\b(male|man|boy|gentleman|he|his|father|husband)\b", lowered) else None
    return age, sex


def main() -> None:
    show = "--show-errors" in sys.argv
    reports = sorted(DATA.glob("*.txt"))
    if not reports:
        sys.exit(f"no reports under {DATA}")
    counts = {"age": [0, 0], "sex": [0, 0]}
    started = time.perf_counter()
    for report in reports:
        age, sex = gold_age_sex(report.with_suffix(".ann"))
        document = parse_file(report)[0]
        cases = extract_document(document).cases
        values = cases[0].values if cases else {}
        for field, gold, predicted in (("age", age, values.get("age_years")), ("sex", sex, values.get("sex"))):
            if gold is None:
                continue
            counts[field][1] += 1
            ok = predicted is not None and (str(gold) == predicted if field == "sex" else abs(float(predicted) - gold) < 0.05)
            counts[field][0] += ok
            if show and not ok:
                print(f"  {report.name}: {field} gold {gold}, predicted {predicted}")
    elapsed = time.perf_counter() - started
    for field, (right, total) in counts.items():
        print(f"{field}: {right}/{total} correct, accuracy {right / total:.3f}")
    print(f"{len(reports)} reports in {elapsed:.1f} s ({len(reports) / elapsed:.1f} reports/s)")


if __name__ == "__main__":
    main()
