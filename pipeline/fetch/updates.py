"""Keeping the corpus current: search PubMed, fetch what is new or revised, and the PMC Open Access full texts.

The steps, each resumable because every record lands atomically and the state is saved after each batch:
1. esearch the topic's query (from the last entry date searched, less a few days of overlap); a run that
   continues the last one also searches PubMed and PMC by modification date over the same days;
2. efetch the PubMed records not yet stored, 200 at a time (from the history server when the search
   is all new, by id list otherwise), and the stored ones modified since (with ``full``, all those matched);
3. take PMC ids from the records, asking elink only for records that carry none (once per record);
4. efetch the PMC full texts not yet stored, and the stored ones modified since, 100 at a time; an article
   PMC serves without a body is not Open Access: noted, and given up after a few runs.
A record or full text fetched again replaces the stored one only when its content changed, and the stored one
is kept as an earlier version (see NcbiCache). A batch that fails is reported and left for the next run, which
fetches whatever is known but not stored, and searches the same days again when what it had to fetch again
could not be searched for or fetched.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import partial
from pathlib import Path
from typing import Callable, Iterable

from lxml import etree

from pipeline.fetch.eutils import EutilsClient, EutilsError, SearchResult
from pipeline.fetch.ncbi_cache import NEW, PMCID, PMID, REVISED, UNCHANGED, FetchState, NcbiCache
from pipeline.parsing.retraction import pubmed_retraction
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
    # articles stored before this run whose PubMed record or PMC full text changed, or that gained a full text
    updated: int = 0
    skipped: int = 0  # records matched that were already stored and not fetched again
    unchanged: int = 0  # records and full texts fetched again and found as stored
    failed: int = 0  # records of batches that failed (fetched again next run)
    full_texts: int = 0  # PMC full texts stored for the first time this run
    not_open_access: int = 0  # PMC articles withheld this run
    requests: int = 0
    retries: int = 0
    seconds: float = 0.0
    failures: list[str] = field(default_factory=list)
    revised: list[str] = field(default_factory=list)  # PMIDs whose record or full text changed this run, sorted
    # PMIDs whose stored record says it is retracted since this run (new records among them), sorted
    retracted: list[str] = field(default_factory=list)


@dataclass
class Recheck:
    """Stored records and full texts to fetch again and compare. ``settled`` turns False when a search for them or a
    batch of them fails: the run then keeps its search window, for the next run to look for them again."""
    pmids: list[str] = field(default_factory=list)
    pmcids: list[str] = field(default_factory=list)
    settled: bool = True


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
    continued = since is None and first_day is not None  # the last run's search, continued
    summary = FetchSummary(query=query, since=first_day.isoformat() if first_day else "")

    progress.stage("search PubMed", 3 if continued else 1)
    search = client.esearch("pubmed", query, mindate=first_day, maxdate=today if first_day else None)
    progress.advance()
    summary.found = search.count
    if search.problem:
        summary.failures.append(f"PubMed search: {search.problem}")
    if state.query != query:
        state.query, state.linked = query, []
    stored_before = cache.stored_pmids()
    hits = _valid(search.ids, _pmid, "PMID", "PubMed search", summary)
    summary.failed += len(search.ids) - len(hits)  # an id that cannot be a PMID fails its record, not the fetch
    for pmid in hits:
        state.pmcids.setdefault(pmid, "")
    if continued:
        recheck = _search_revisions(client, cache, state, query, first_day, today, stored_before, summary, progress)
    else:
        recheck = _stored_matches(cache, state, hits, stored_before) if full else Recheck()
    again = set(recheck.pmids)
    summary.skipped = sum(1 for pmid in hits if pmid in stored_before and pmid not in again)

    missing = [pmid for pmid in state.pmcids if pmid not in stored_before]
    _fetch_records(client, cache, state, search, hits, missing, recheck, summary, progress)
    _link_full_texts(client, cache, state, summary, progress)
    gained = _fetch_full_texts(client, cache, state, stored_before, recheck, summary, progress)
    summary.revised = sorted(set(summary.revised))  # an article whose record and full text both changed is one
    summary.retracted.sort()
    summary.updated = len(gained | set(summary.revised))

    # a search cut short, or revisions not searched for or not fetched, are searched again from the same date
    if not search.problem and recheck.settled:
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


def _search_revisions(client: EutilsClient, cache: NcbiCache, state: FetchState, query: str, first_day: date,
                      today: date, stored_before: set[str], summary: FetchSummary, progress: Progress) -> Recheck:
    """The stored records and full texts modified in the search window. A record that the query matches and that is
    not stored (one it matches now that it was revised) is new: it joins the records to fetch."""
    recheck = Recheck()
    modified = _modified(client, "pubmed", query, first_day, today, recheck, summary, progress)
    for pmid in _valid(modified, _pmid, "PMID", "PubMed search by modification date", summary):
        if pmid in stored_before:
            recheck.pmids.append(pmid)
        else:
            state.pmcids.setdefault(pmid, "")
    modified = _modified(client, "pmc", query, first_day, today, recheck, summary, progress)
    pmcids = _valid(modified, normalise_pmcid, "PMCID", "PMC search by modification date", summary)
    recheck.pmcids = [pmcid for pmcid in pmcids if cache.has_pmc(pmcid)]
    return recheck


def _modified(client: EutilsClient, db: str, query: str, first_day: date, today: date, recheck: Recheck,
              summary: FetchSummary, progress: Progress) -> list[str]:
    """The ids of ``db`` modified in the window that the query matches (PMC's are its numeric uids)."""
    try:
        result = client.esearch(db, query, mindate=first_day, maxdate=today, datetype="mdat", usehistory=False)
    except EutilsError as exc:  # what is new is still fetched
        result = SearchResult(0, [], problem=str(exc))
    progress.advance()
    if result.problem:
        summary.failures.append(f"{'PMC' if db == 'pmc' else 'PubMed'} search by modification date: {result.problem}")
        recheck.settled = False
    return result.ids


def _stored_matches(cache: NcbiCache, state: FetchState, hits: list[str], stored_before: set[str]) -> Recheck:
    """For a full search: every stored record the search matched, and its stored full text."""
    pmids = [pmid for pmid in hits if pmid in stored_before]
    pmcids = [state.pmcids[pmid] for pmid in pmids if state.pmcids.get(pmid)]
    return Recheck(pmids, [pmcid for pmcid in dict.fromkeys(pmcids) if cache.has_pmc(pmcid)])


def _pmid(value: str) -> str:
    return value if PMID.fullmatch(value) else ""


def _valid(ids: list[str], normalise, kind: str, where: str, summary: FetchSummary) -> list[str]:
    """``ids`` as ``normalise`` makes them; those it turns to "" are reported: they fail their record, not the fetch."""
    good = [normalise(i) for i in ids]
    bad = sorted({i for i, n in zip(ids, good) if not n})
    if bad:
        summary.failures.append(f"{where}: {_not_ids(kind, [repr(i[:40]) for i in bad])}")
    return [n for n in good if n]


def _not_ids(kind: str, shown: list[str]) -> str:
    listed = ", ".join(shown[:10]) + (" ..." if len(shown) > 10 else "")
    many = len(shown) > 1
    return f"{len(shown)} {'ids that are' if many else 'id that is'} not {kind + 's' if many else 'a ' + kind}: {listed}"


def _batches(items: list, size: int) -> Iterable[list]:
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _fetch_records(client: EutilsClient, cache: NcbiCache, state: FetchState, search: SearchResult, hits: list[str],
                   missing: list[str], recheck: Recheck, summary: FetchSummary, progress: Progress) -> None:
    progress.stage("fetch PubMed records", len(missing) + len(recheck.pmids))
    again = set(recheck.pmids)
    for batch, request in _record_requests(client, search, hits, missing, recheck.pmids):
        try:
            root = request()
        except EutilsError as exc:
            summary.failed += len(batch)
            summary.failures.append(f"PubMed records {batch[0]}..{batch[-1]} ({len(batch)}): {exc}")
            if not again.isdisjoint(batch):
                recheck.settled = False
            progress.advance(len(batch))
            continue
        wanted = set(batch)
        for record in root:
            if local_name(record) not in RECORD_TAGS:
                continue
            pmid = (record.findtext(".//PMID") or "").strip()
            if pmid not in wanted:
                continue
            _store_record(cache, state, pmid, record, summary)
            wanted.discard(pmid)
        if wanted:
            summary.failed += len(wanted)
            summary.failures.append(f"PubMed records not returned: {', '.join(sorted(wanted)[:10])}"
                                    f"{' ...' if len(wanted) > 10 else ''}")
        cache.save_state(state)
        progress.advance(len(batch))


def _record_requests(client: EutilsClient, search: SearchResult, hits: list[str], missing: list[str],
                     again: list[str]) -> Iterable[tuple[list[str], Callable[[], etree._Element]]]:
    """Each batch of PMIDs to fetch, with the efetch that brings it."""
    # a search that is all new is fetched from the history server, in the search's own order
    from_history = bool(missing) and bool(search.webenv) and len(hits) == search.count and set(missing) == set(hits)
    if from_history:
        for number, batch in enumerate(_batches(hits, PUBMED_BATCH)):
            yield batch, partial(client.efetch, "pubmed", webenv=search.webenv, query_key=search.query_key,
                                 retstart=number * PUBMED_BATCH, retmax=PUBMED_BATCH)
    for batch in _batches(([] if from_history else missing) + again, PUBMED_BATCH):
        yield batch, partial(client.efetch, "pubmed", batch)


def _store_record(cache: NcbiCache, state: FetchState, pmid: str, record: etree._Element,
                  summary: FetchSummary) -> None:
    outcome = cache.store_pubmed(pmid, record)
    summary.new += outcome == NEW
    summary.unchanged += outcome == UNCHANGED
    if outcome == REVISED:
        summary.revised.append(pmid)
    state.pmcids[pmid] = state.pmcids.get(pmid) or _pmcid_of_record(record)
    retraction = pubmed_retraction(record)
    if retraction and pmid not in state.retracted:
        summary.retracted.append(pmid)
    if retraction:
        state.retracted[pmid] = retraction
    else:  # a revised record may take its retraction back
        state.retracted.pop(pmid, None)


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
                      recheck: Recheck, summary: FetchSummary, progress: Progress) -> set[str]:
    """Fetches the full texts not stored yet and those to compare again; returns the PMIDs of articles stored before
    this run that gained their full text."""
    owners = {pmcid: pmid for pmid, pmcid in state.pmcids.items() if pmcid}
    wanted = [pmcid for pmcid in owners if not cache.has_pmc(pmcid)
              and state.not_open_access.get(pmcid, 0) < NOT_OPEN_ACCESS_RUNS]
    again = {pmcid for pmcid in recheck.pmcids if pmcid in owners}
    gained: set[str] = set()
    progress.stage("fetch PMC full texts", len(wanted) + len(again))
    for batch in _batches(wanted + sorted(again), PMC_BATCH):
        try:
            root = client.efetch("pmc", [pmcid.removeprefix("PMC") for pmcid in batch])
        except EutilsError as exc:
            summary.failures.append(f"PMC full texts {batch[0]}..{batch[-1]} ({len(batch)}): {exc}")
            if not again.isdisjoint(batch):
                recheck.settled = False
            progress.advance(len(batch))
            continue
        unserved = set(batch)
        for article in root.iter("{*}article"):
            pmcid = _pmcid_of_article(article)
            if pmcid not in unserved or article.find("{*}body") is None:
                continue
            unserved.discard(pmcid)
            outcome, owner = cache.store_pmc(pmcid, article), owners[pmcid]
            summary.full_texts += outcome == NEW
            summary.unchanged += outcome == UNCHANGED
            if outcome == NEW and owner in stored_before:
                gained.add(owner)
            if outcome == REVISED:
                summary.revised.append(owner)
        # a new one served without a body, or not at all, is not Open Access; a stored one asked again is kept
        for pmcid in unserved - again:
            state.not_open_access[pmcid] = state.not_open_access.get(pmcid, 0) + 1
            summary.not_open_access += 1
        cache.save_state(state)
        progress.advance(len(batch))
    return gained


def _pmcid_of_article(article: etree._Element) -> str:
    for article_id in article.iterfind("{*}front/{*}article-meta/{*}article-id"):
        if article_id.get("pub-id-type") in ("pmc", "pmcid") and article_id.text:
            return normalise_pmcid(article_id.text)
    return ""
