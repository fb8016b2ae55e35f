"""A small on-disk cache of query answers, so that running ``reactions
roster wikidata`` again within the hour (to fix an option, or after a failed
batch) does not ask the Wikidata Query Service again.

Wikimedia asks clients that can live with slightly older data to cache on
their side (the service keeps answers five minutes). One JSON file per
endpoint and query, named by their SHA-256, written atomically; a file that
cannot be read is a miss, never an error. Only answers that parsed are
stored.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .atomic import write_atomically

DEFAULT_TTL = 3600.0


def default_cache_dir() -> Path:
    """``$REACTIONS_CACHE_DIR``, else ``$XDG_CACHE_HOME/reaction-archive``,
    else ``~/.cache/reaction-archive``."""
    if os.environ.get("REACTIONS_CACHE_DIR"):
        return Path(os.environ["REACTIONS_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "reaction-archive"


@dataclass(frozen=True)
class CachedAnswer:
    body: str
    retrieved_at: str  # UTC ISO-8601, when the service answered


class AnswerCache:
    def __init__(self, folder: Path, ttl: float = DEFAULT_TTL, clock: Callable[[], float] = time.time):
        self.folder = Path(folder)
        self.ttl = ttl
        self._clock = clock

    def _path(self, endpoint: str, query: str) -> Path:
        digest = hashlib.sha256(f"{endpoint}\n{query}".encode()).hexdigest()
        return self.folder / f"{digest}.json"

    def get(self, endpoint: str, query: str) -> CachedAnswer | None:
        path = self._path(endpoint, query)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
            stored = float(entry["stored"])
            if entry["endpoint"] != endpoint or entry["query"] != query:
                return None
            if not 0 <= self._clock() - stored < self.ttl:
                return None
            return CachedAnswer(body=str(entry["body"]), retrieved_at=str(entry["retrieved_at"]))
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def put(self, endpoint: str, query: str, answer: CachedAnswer) -> None:
        entry = {
            "endpoint": endpoint,
            "query": query,
            "stored": self._clock(),
            "retrieved_at": answer.retrieved_at,
            "body": answer.body,
        }
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_atomically(self._path(endpoint, query), json.dumps(entry, ensure_ascii=False))
            self._prune()
        except OSError:
            pass  # a cache that cannot be written only costs a query next time

    def _prune(self) -> None:
        """Forget answers older than a day."""
        now = self._clock()
        for path in self.folder.glob("*.json"):
            try:
                if now - path.stat().st_mtime > 86400:
                    path.unlink()
            except OSError:
                pass
