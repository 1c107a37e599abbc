"""The portal's one way to its numbers: the latest published release's protected aggregates, indexed.

Pages and the public aggregates API both call `portal_figures`, so what a page shows and what the API returns
are the same object. Each web process keeps a small cache: the latest release (looked up again after
`settings.CTDC_PORTAL_RELEASE_TTL` seconds, so a newly published or withdrawn release shows within that time on every process) and one
`AggregateIndex` per release version (read from the release storage on first use). Nothing in it is state that
another process needs: scale-out is only more processes each filling its own cache.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from dataclasses import dataclass

from django.conf import settings

from ctdc.errors import CtdcError
from ctdc.release.package import citation_text
from ctdc.web.portal.figures import AggregateIndex, Figures
from ctdc.web.releases.models import Release
from ctdc.web.releases.selectors import release_latest
from ctdc.web.releases.store import release_file_open

INDEXES_KEPT = 4
QUERIES_KEPT = 4096

_lock = threading.Lock()
_latest: dict[str, tuple[float, Release | None]] = {}
_indexes: OrderedDict[tuple, AggregateIndex] = OrderedDict()
# One lock per release being indexed: the first thread to need a newly published release reads it, the others wait
# for that one read instead of each reading it again (issue 18: under load, every thread of every worker read the
# same aggregates.csv at once, seconds each on 2 cores, and requests waiting behind them timed out).
_building: dict[tuple, threading.Lock] = {}
_queries: OrderedDict[tuple, Figures] = OrderedDict()


class NoPublishedRelease(CtdcError):
    code = "no-published-release"


@dataclass(frozen=True)
class PortalRelease:
    release: Release
    index: AggregateIndex

    @property
    def citation(self) -> str:
        r = self.release
        return citation_text(dataset=r.dataset, version=r.version, method=r.method, created=r.created_at.isoformat())


def portal_cache_clear() -> None:
    """Forget every cached release and index (tests publish and withdraw releases within a second)."""
    with _lock:
        _latest.clear()
        _indexes.clear()
        _queries.clear()
        _building.clear()
    PAGES.clear()
    ANSWERS.clear()


def _latest_release(dataset: str) -> Release | None:
    now = time.monotonic()
    hit = _latest.get(dataset)
    if hit and now - hit[0] < settings.CTDC_PORTAL_RELEASE_TTL:
        return hit[1]
    release = release_latest(dataset=dataset)
    _latest[dataset] = (now, release)
    return release


def portal_release(dataset: str = "victims") -> PortalRelease | None:
    """The latest published release of `dataset` with its indexed aggregates, or None when none is published."""
    release = _latest_release(dataset)
    if release is None:
        return None
    key = (release.pk, release.dataset, release.version, release.created_at)
    index = _indexes.get(key)
    if index is None:
        index = _index_build(key, release, dataset)
    return PortalRelease(release, index)


def _index_build(key: tuple, release: Release, dataset: str) -> AggregateIndex:
    """Read a release's aggregates into an index once per process, however many threads ask for it at once."""
    with _lock:
        building = _building.setdefault(key, threading.Lock())
    try:
        with building:
            index = _indexes.get(key)  # built by the thread this one waited for
            if index is not None:
                return index
            fh = release_file_open(release=release, name="aggregates.csv")
            if fh is None:
                raise NoPublishedRelease(f"Release {release.version} of '{dataset}' has no aggregates.csv.",
                                         {"dataset": dataset, "version": release.version})
            with fh:
                index = AggregateIndex.from_csv(fh.read(), version=release.version,
                                                k=int(release.params.get("k", 11)))
            with _lock:
                _indexes[key] = index
                while len(_indexes) > INDEXES_KEPT:
                    _indexes.popitem(last=False)
            return index
    finally:
        with _lock:
            if _building.get(key) is building and not building.locked():
                _building.pop(key, None)


def portal_figures(*, dataset: str = "victims", by: tuple[str, ...] = (), filters: dict[str, str] | None = None,
                   year_from: int | None = None, year_to: int | None = None) -> tuple[PortalRelease, Figures]:
    """The protected answer to one question, as pages and the API show it. Raises `FigureQueryError` for a
    question the release cannot answer and `NoPublishedRelease` when there is nothing to read."""
    pr = portal_release(dataset)
    if pr is None:
        raise NoPublishedRelease(f"No published release of dataset '{dataset}'.", {"dataset": dataset})
    filters = {k: v for k, v in (filters or {}).items() if v}
    key = (pr.release.pk, pr.release.created_at, tuple(by), tuple(sorted(filters.items())), year_from, year_to)
    figures = _queries.get(key)
    if figures is None:
        figures = pr.index.query(by=tuple(by), filters=filters, year_from=year_from, year_to=year_to)
        with _lock:
            _queries[key] = figures
            while len(_queries) > QUERIES_KEPT:
                _queries.popitem(last=False)
    return pr, figures


class ByteCache:
    """A per-process LRU of rendered answers (page HTML, API JSON) bounded in total bytes.

    An answer is a pure function of the release, the language and the question (the URL), so it is kept under
    that key; a newly published release changes the key and the old entries age out. Nothing here is shared
    between processes or needed by another one.
    """

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._items: OrderedDict[tuple, bytes] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple) -> bytes | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: tuple, value: bytes) -> None:
        if len(value) > self.max_bytes // 8:
            return
        with self._lock:
            old = self._items.pop(key, None)
            self.size += len(value) - (len(old) if old else 0)
            self._items[key] = value
            while self.size > self.max_bytes:
                _, dropped = self._items.popitem(last=False)
                self.size -= len(dropped)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.size = 0


PAGES = ByteCache(48 * 1024 * 1024)
ANSWERS = ByteCache(16 * 1024 * 1024)


def release_key(dataset: str = "victims") -> tuple | None:
    """What identifies the latest published release in cache keys (None when nothing is published)."""
    release = _latest_release(dataset)
    return None if release is None else (release.pk, release.version, release.created_at)
