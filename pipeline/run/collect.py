"""A run's file outcomes gathered into one case table: one document per article, unique case ids, evidence
spooled to disk.

The same article often comes more than once: its PubMed record, its PMC full text and a curator's PDF, or one
file copied under another name. Documents that share an identifier (DOI, PMID, PMCID) or are the same bytes are
one article; the one read is chosen by FORMAT_PRECEDENCE (full text before abstract), then by corpus order, and
the others are listed in documents.csv as ``duplicate`` with the file they duplicate. Which document wins is
known only once every file is read, so outcomes are gathered first (their evidence in a scratch file, not in
memory) and made into the table at the end.
"""

from __future__ import annotations

import os
import pickle
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from pipeline.document.ids import normalize_doi
from pipeline.outputs.writer import EvidenceSpool
from pipeline.run.stages import CaseIdRegistry, DocumentResult, FileOutcome

# the document read when an article comes in several formats: structured full text, then a PDF's full text, then
# plain text (mostly full text pasted from an article), then the PubMed record (title and abstract only)
FORMAT_PRECEDENCE = ("jats-xml", "pdf", "text", "pubmed-xml")


@dataclass
class _Gathered:
    results: list[DocumentResult]
    rows: list[dict]
    offset: int  # of the outcome's evidence lines, pickled, in the scratch file, in bytes
    length: int
    cached: bool


class RunCollector:
    """Outcomes in corpus order; ``finish`` makes them the run's table."""

    def __init__(self, folder: Path):
        folder.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=folder, prefix=".outcomes.", suffix=".tmp")
        self._scratch_path = Path(name)
        self._scratch = os.fdopen(handle, "w+b")
        self._gathered: list[_Gathered] = []

    def add(self, outcome: FileOutcome) -> None:
        data = pickle.dumps(outcome.evidence, protocol=pickle.HIGHEST_PROTOCOL)
        self._gathered.append(_Gathered(outcome.results, outcome.rows, self._scratch.tell(), len(data), outcome.cached))
        self._scratch.write(data)

    def finish(self, spool: EvidenceSpool, keep_row=lambda row: row) -> tuple[list[DocumentResult], list[dict], int]:
        """Every document's result (duplicates marked), the case rows of the documents read, with unique case ids,
        and how many outcomes came from the cache; the evidence goes to ``spool``. ``keep_row`` may compact a
        row kept in memory."""
        self._scratch.flush()
        winners = duplicate_winners([g.results for g in self._gathered])
        case_ids = CaseIdRegistry()
        results, rows, reused = [], [], 0
        for number, gathered in enumerate(self._gathered):
            dropped = {r.doc_id for index, r in enumerate(gathered.results) if (number, index) in winners}
            outcome_results = [_as_duplicate(r, winners[(number, index)]) if (number, index) in winners else r
                               for index, r in enumerate(gathered.results)]
            self._scratch.seek(gathered.offset)
            evidence = pickle.loads(self._scratch.read(gathered.length))
            outcome_rows = gathered.rows
            if dropped:
                outcome_rows = [row for row in outcome_rows if row["doc_id"] not in dropped]
                evidence = [line for line in evidence if line["doc_id"] not in dropped]
            outcome = case_ids.unique(FileOutcome(outcome_results, outcome_rows, evidence, gathered.cached))
            results.extend(outcome.results)
            rows.extend(map(keep_row, outcome.rows))
            spool.write(outcome.evidence)
            reused += gathered.cached
        return results, rows, reused

    def close(self) -> None:
        self._scratch.close()
        self._scratch_path.unlink(missing_ok=True)

    def __enter__(self) -> "RunCollector":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def duplicate_winners(outcomes: list[list[DocumentResult]]) -> dict[tuple[int, int], DocumentResult]:
    """For each document that duplicates another, (outcome number, index in its outcome) -> the document read
    instead. ``outcomes`` are the results of each file, in corpus order."""
    parent: dict[tuple[int, int], tuple[int, int]] = {}
    owner: dict[str, tuple[int, int]] = {}  # identifier -> a document holding it

    def root(node):
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    documents = {}
    for number, results in enumerate(outcomes):
        for index, result in enumerate(results):
            if not result.doc_id:  # a file that could not be parsed is no article
                continue
            node = (number, index)
            documents[node] = result
            parent[node] = node
            for key in _identifiers(result, index):
                if key in owner:
                    parent[root(node)] = root(owner[key])
                else:
                    owner[key] = node
    groups: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for node in documents:
        groups.setdefault(root(node), []).append(node)
    winners = {}
    for members in groups.values():
        if len(members) < 2:
            continue
        best = min(members, key=lambda node: (documents[node].status == "failed", _precedence(documents[node]), node))
        winners.update({node: documents[best] for node in members if node != best})
    return winners


def _identifiers(result: DocumentResult, index: int) -> list[str]:
    keys = [result.doc_id]
    keys += [f"doi:{normalize_doi(result.doi)}"] if result.doi else []
    keys += [f"pmid:{result.pmid}"] if result.pmid else []
    keys += [f"pmcid:{result.pmcid.upper()}"] if result.pmcid else []
    # the same bytes are the same article whatever the files are called (the index: a file may hold several)
    keys += [f"sha256:{result.content_hash}/{index}"] if result.content_hash else []
    return keys


def _precedence(result: DocumentResult) -> int:
    return FORMAT_PRECEDENCE.index(result.format) if result.format in FORMAT_PRECEDENCE else len(FORMAT_PRECEDENCE)


def _as_duplicate(result: DocumentResult, winner: DocumentResult) -> DocumentResult:
    return replace(result, status="duplicate", duplicate_of=winner.file,
                   reason=f"the same article as {winner.file} ({winner.doc_id}), which is read instead")
