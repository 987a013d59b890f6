"""Keeping the corpus current: search PubMed, fetch what is new, and the PMC Open Access full texts.

The steps, each resumable because every record lands atomically and the state is saved after each batch:
1. esearch the topic's query (from the last entry date searched, less a few days of overlap);
2. efetch the PubMed records not yet stored, 200 at a time (from the history server when the search
   is all new, by id list otherwise);
3. take PMC ids from the records, asking elink only for records that carry none (once per record);
4. efetch the PMC full texts not yet stored, 100 at a time; an article PMC serves without a body is
   not Open Access: noted, and given up after a few runs.
A batch that fails is reported and left for the next run, which fetches whatever is known but not stored.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Iterable

from lxml import etree

from pipeline.fetch.eutils import EutilsClient, EutilsError, SearchResult
from pipeline.fetch.ncbi_cache import PMCID, PMID, FetchState, NcbiCache
from pipeline.parsing.safexml import local_name

PUBMED_BATCH = 200
PMC_BATCH = 100
LINK_BATCH = 200
OVERLAP_DAYS = 3
NOT_OPEN_ACCESS_RUNS = 3  # runs in which PMC withholds an article before it is no longer asked for
RECORD_TAGS = ("PubmedArticle", "PubmedBookArticle")


@dataclass
class FetchSummary:
    query: str
    since: str  # the first entry date searched, "" for a full search
    found: int = 0  # records the search matched
    new: int = 0  # records stored for the first time
    updated: int = 0  # records stored before that gained their full text this run
    skipped: int = 0  # records matched that were already stored
    failed: int = 0  # records of batches that failed (fetched again next run)
    full_texts: int = 0  # PMC full texts stored this run
    not_open_access: int = 0  # PMC articles withheld this run
    requests: int = 0
    retries: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)


class Progress:
    """What a fetch reports as it goes; the CLI shows it with rich, tests and flows may ignore it."""

    def stage(self, name: str, total: int) -> None:
        pass

    def advance(self, count: int = 1) -> None:
        pass


def fetch_new(corpus_dir: Path, client: EutilsClient, query: str, since: date | None = None, full: bool = False,
              progress: Progress | None = None, today: date | None = None) -> FetchSummary:
    progress = progress or Progress()
    started = time.perf_counter()
    cache = NcbiCache(corpus_dir)
    state = cache.load_state()
    today = today or date.today()
    first_day = _first_entry_date(state, query, since, full)
    summary = FetchSummary(query=query, since=first_day.isoformat() if first_day else "")

    progress.stage("search PubMed", 1)
    search = client.esearch("pubmed", query, mindate=first_day, maxdate=today if first_day else None)
    progress.advance()
    summary.found = search.count
    if search.problem:
        summary.failures.append(f"PubMed search: {search.problem}")
    if state.query != query:
        state.query, state.linked = query, []
    stored_before = cache.stored_pmids()
    hits = [pmid for pmid in search.ids if PMID.fullmatch(pmid)]
    if len(hits) < len(search.ids):  # an id that cannot be a PMID fails its record, not the fetch
        bad = sorted(set(search.ids) - set(hits))
        summary.failed += len(bad)
        summary.failures.append(f"PubMed search: {_not_ids('PMID', [repr(i[:40]) for i in bad])}")
    for pmid in hits:
        state.pmcids.setdefault(pmid, "")
    summary.skipped = sum(1 for pmid in hits if pmid in stored_before)

    missing = [pmid for pmid in state.pmcids if pmid not in stored_before]
    _fetch_records(client, cache, state, search, hits, missing, summary, progress)
    _link_full_texts(client, cache, state, summary, progress)
    _fetch_full_texts(client, cache, state, stored_before, summary, progress)

    if not search.problem:  # a search cut short is searched again, from the same date
        state.last_entry_date = today.isoformat()
    cache.save_state(state)
    summary.requests, summary.retries = client.log.total, client.log.retries
    summary.seconds = time.perf_counter() - started
    return summary


def _first_entry_date(state: FetchState, query: str, since: date | None, full: bool) -> date | None:
    if since is not None:
        return since
    if full or state.query != query or not state.last_entry_date:
        return None  # a new or changed query is searched in full
    return date.fromisoformat(state.last_entry_date) - timedelta(days=OVERLAP_DAYS)


def _not_ids(kind: str, shown: list[str]) -> str:
    listed = ", ".join(shown[:10]) + (" ..." if len(shown) > 10 else "")
    many = len(shown) > 1
    return f"{len(shown)} {'ids that are' if many else 'id that is'} not {kind + 's' if many else 'a ' + kind}: {listed}"


def _batches(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _fetch_records(client: EutilsClient, cache: NcbiCache, state: FetchState, search: SearchResult, hits: list[str],
                   missing: list[str], summary: FetchSummary, progress: Progress) -> None:
    progress.stage("fetch PubMed records", len(missing))
    # a search that is all new is fetched from the history server, in the search's own order
    from_history = bool(missing) and bool(search.webenv) and len(hits) == search.count and set(missing) == set(hits)
    for number, batch in enumerate(_batches(hits if from_history else missing, PUBMED_BATCH)):
        try:
            if from_history:
                root = client.efetch("pubmed", webenv=search.webenv, query_key=search.query_key,
                                     retstart=number * PUBMED_BATCH, retmax=PUBMED_BATCH)
            else:
                root = client.efetch("pubmed", batch)
        except EutilsError as exc:
            summary.failed += len(batch)
            summary.failures.append(f"PubMed records {batch[0]}..{batch[-1]} ({len(batch)}): {exc}")
            progress.advance(len(batch))
            continue
        wanted = set(batch)
        for record in root:
            if local_name(record) not in RECORD_TAGS:
                continue
            pmid = (record.findtext(".//PMID") or "").strip()
            if pmid not in wanted:
                continue
            cache.store_pubmed(pmid, record)
            state.pmcids[pmid] = state.pmcids.get(pmid) or _pmcid_of_record(record)
            wanted.discard(pmid)
            summary.new += 1
        if wanted:
            summary.failed += len(wanted)
            summary.failures.append(f"PubMed records not returned: {', '.join(sorted(wanted)[:10])}"
                                    f"{' ...' if len(wanted) > 10 else ''}")
        cache.save_state(state)
        progress.advance(len(batch))


def _pmcid_of_record(record: etree._Element) -> str:
    # PubmedData/ArticleIdList is the article's own; the ArticleIdLists of its references are deeper
    for article_id in record.iterfind("PubmedData/ArticleIdList/ArticleId"):
        if (article_id.get("IdType") or "").lower() == "pmc" and article_id.text:
            return normalise_pmcid(article_id.text)
    return ""


def normalise_pmcid(value: str) -> str:
    """``PMC`` and its digits, or "" for a value that cannot be a PMCID."""
    pmcid = "PMC" + value.strip().upper().removeprefix("PMC")
    return pmcid if PMCID.fullmatch(pmcid) else ""


def _link_full_texts(client: EutilsClient, cache: NcbiCache, state: FetchState, summary: FetchSummary,
                     progress: Progress) -> None:
    stored = cache.stored_pmids()
    linked = set(state.linked)
    lacking = [pmid for pmid, pmcid in state.pmcids.items() if not pmcid and pmid in stored and pmid not in linked]
    progress.stage("link records to PMC", len(lacking))
    bad: list[str] = []
    for batch in _batches(lacking, LINK_BATCH):
        try:
            links = client.elink("pubmed", "pmc", batch, "pubmed_pmc")
        except EutilsError as exc:
            summary.failures.append(f"PMC links for {len(batch)} records: {exc}")
            progress.advance(len(batch))
            continue
        for pmid in batch:
            targets = links.get(pmid, [])
            state.pmcids[pmid] = next(filter(None, map(normalise_pmcid, targets)), "")
            if targets and not state.pmcids[pmid]:
                bad.append(f"{targets[0][:40]!r} for PMID {pmid}")
            state.linked.append(pmid)
        cache.save_state(state)
        progress.advance(len(batch))
    if bad:
        summary.failures.append(f"PMC links: {_not_ids('PMCID', bad)}")


def _fetch_full_texts(client: EutilsClient, cache: NcbiCache, state: FetchState, stored_before: set[str],
                      summary: FetchSummary, progress: Progress) -> None:
    owners = {pmcid: pmid for pmid, pmcid in state.pmcids.items() if pmcid}
    wanted = [pmcid for pmcid in owners if not cache.has_pmc(pmcid)
              and state.not_open_access.get(pmcid, 0) < NOT_OPEN_ACCESS_RUNS]
    progress.stage("fetch PMC full texts", len(wanted))
    for batch in _batches(wanted, PMC_BATCH):
        try:
            root = client.efetch("pmc", [pmcid.removeprefix("PMC") for pmcid in batch])
        except EutilsError as exc:
            summary.failures.append(f"PMC full texts {batch[0]}..{batch[-1]} ({len(batch)}): {exc}")
            progress.advance(len(batch))
            continue
        withheld = set(batch)
        for article in root.iter("{*}article"):
            pmcid = _pmcid_of_article(article)
            if pmcid not in withheld or article.find("{*}body") is None:
                continue
            cache.store_pmc(pmcid, article)
            withheld.discard(pmcid)
            summary.full_texts += 1
            summary.updated += owners[pmcid] in stored_before
        for pmcid in withheld:  # served without a body, or not at all: not Open Access
            state.not_open_access[pmcid] = state.not_open_access.get(pmcid, 0) + 1
            summary.not_open_access += 1
        cache.save_state(state)
        progress.advance(len(batch))


def _pmcid_of_article(article: etree._Element) -> str:
    for article_id in article.iterfind("{*}front/{*}article-meta/{*}article-id"):
        if article_id.get("pub-id-type") in ("pmc", "pmcid") and article_id.text:
            return normalise_pmcid(article_id.text)
    return ""
