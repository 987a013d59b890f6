"""The fetch cache beside a corpus: one file per PubMed record and per PMC article, and the state of the
incremental search. Every write is atomic, so a run killed at any point leaves whole files and a state
that the next run simply continues from.

Layout (under ``<corpus>/cache/ncbi/``)::

    pubmed/<PMID>.xml      a PubmedArticleSet holding one record
    pmc/<PMCID>.xml        a pmc-articleset holding one Open Access article
    state.json             query, last entry date searched, and what is known of each PMID and PMCID
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lxml import etree

from pipeline.outputs.atomic import atomic_write_bytes, atomic_write_json

CACHE_DIR = Path("cache") / "ncbi"
STATE_VERSION = 1
# what an id must be to name a file here (fullmatch them: ASCII digits only, no trailing newline)
PMID = re.compile(r"[0-9]{1,9}")
PMCID = re.compile(r"PMC[0-9]{1,9}")


class CacheError(Exception):
    pass


@dataclass
class FetchState:
    query: str = ""
    last_entry_date: str = ""  # YYYY-MM-DD of the last search that succeeded
    # PMID -> PMCID ("" when PMC has no copy we know of)
    pmcids: dict[str, str] = field(default_factory=dict)
    # PMIDs whose PMC link was asked of elink (so it is not asked again)
    linked: list[str] = field(default_factory=list)
    # PMCID -> runs in which PMC did not serve it as Open Access full text
    not_open_access: dict[str, int] = field(default_factory=dict)
    version: int = STATE_VERSION


class NcbiCache:
    def __init__(self, corpus_dir: Path):
        self.root = Path(corpus_dir) / CACHE_DIR
        self.pubmed_dir = self.root / "pubmed"
        self.pmc_dir = self.root / "pmc"
        self.state_path = self.root / "state.json"

    # -- state ---------------------------------------------------------------------------------------
    def load_state(self) -> FetchState:
        if not self.state_path.exists():
            return FetchState()
        try:
            raw = json.loads(self.state_path.read_text(encoding="utf-8"))
            known = {k: v for k, v in raw.items() if k in FetchState.__dataclass_fields__}
            state = FetchState(**known)
            # ids that cannot be ids (written by a version that did not check what the server sent) are let go
            state.pmcids = {pmid: pmcid if PMCID.fullmatch(pmcid) else "" for pmid, pmcid in state.pmcids.items()
                            if PMID.fullmatch(pmid)}
            return state
        except (ValueError, TypeError, AttributeError) as exc:
            raise CacheError(f"{self.state_path}: unreadable fetch state ({exc}); move it aside to start afresh") from None

    def save_state(self, state: FetchState) -> None:
        atomic_write_json(self.state_path, asdict(state))

    # -- records -------------------------------------------------------------------------------------
    def pubmed_path(self, pmid: str) -> Path:
        if not PMID.fullmatch(pmid):
            raise CacheError(f"not a PMID: {pmid!r}")
        return self.pubmed_dir / f"{pmid}.xml"

    def pmc_path(self, pmcid: str) -> Path:
        if not PMCID.fullmatch(pmcid):
            raise CacheError(f"not a PMCID: {pmcid!r}")
        return self.pmc_dir / f"{pmcid}.xml"

    def has_pubmed(self, pmid: str) -> bool:
        return self.pubmed_path(pmid).exists()

    def has_pmc(self, pmcid: str) -> bool:
        return self.pmc_path(pmcid).exists()

    def store_pubmed(self, pmid: str, record: etree._Element) -> None:
        atomic_write_bytes(self.pubmed_path(pmid), _wrapped("PubmedArticleSet", record))

    def store_pmc(self, pmcid: str, article: etree._Element) -> None:
        atomic_write_bytes(self.pmc_path(pmcid), _wrapped("pmc-articleset", article))

    def stored_pmids(self) -> set[str]:
        return {p.stem for p in self.pubmed_dir.glob("*.xml")} if self.pubmed_dir.is_dir() else set()

    def documents(self) -> list[Path]:
        """The files a run should parse: each article once, its PMC full text when stored, else its record."""
        if not self.root.is_dir():
            return []
        state = self.load_state()
        full_texts = {p.stem: p for p in self.pmc_dir.glob("*.xml")} if self.pmc_dir.is_dir() else {}
        covered = {pmid for pmid, pmcid in state.pmcids.items() if pmcid in full_texts}
        records = [p for p in sorted(self.pubmed_dir.glob("*.xml")) if p.stem not in covered] if self.pubmed_dir.is_dir() else []
        return sorted(full_texts.values()) + records


def _wrapped(root_name: str, element: etree._Element) -> bytes:
    root = etree.Element(root_name)
    record = copy.deepcopy(element)
    record.tail = None
    root.append(record)
    return etree.tostring(root, xml_declaration=True, encoding="UTF-8")
