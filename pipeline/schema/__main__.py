"""python -m pipeline.schema [--check] [PATH]: write SCHEMA.md (the repository's, unless PATH) from the registry;
with --check, write nothing and exit 1 when the file differs from what the registry gives."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.schema.document import SCHEMA_FILE, schema_markdown


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pipeline.schema", description=__doc__.split(":", 1)[1].strip())
    parser.add_argument("path", nargs="?", type=Path, default=SCHEMA_FILE)
    parser.add_argument("--check", action="store_true", help="only tell whether PATH is up to date")
    args = parser.parse_args(argv)
    text = schema_markdown()
    current = args.path.read_text(encoding="utf-8") if args.path.exists() else None
    if args.check:
        if current != text:
            print(f"{args.path} is not what the registry gives: run python -m pipeline.schema", file=sys.stderr)
            return 1
        return 0
    if current != text:
        args.path.write_text(text, encoding="utf-8")
        print(f"wrote {args.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
