"""SHA-256 digests: the one way kalimat fingerprints files, settings and records.

What made an output (weights, int8 engine, cleaning patterns, corpus, dataset inputs) is
recorded as a SHA-256 so that a resume, a report comparison or an engine check can tell two
things apart without trusting names or dates. :class:`Digest` feeds bytes, files and JSON
values into one hash; :func:`files_sha256` hashes files once per size and modification time,
because loading a model and recording what made an output both ask for its weights' hash
(about a second for the IndoBERT-base weights).
"""

import functools
import hashlib
import json
from pathlib import Path


class Digest:
    """A SHA-256 over bytes, files (streamed) and JSON values (canonical: sorted keys), in the order added."""

    def __init__(self):
        self._hash = hashlib.sha256()

    def bytes(self, data: bytes) -> "Digest":
        self._hash.update(data)
        return self

    def file(self, path) -> "Digest":
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                self._hash.update(block)
        return self

    def json(self, value) -> "Digest":
        self._hash.update(json.dumps(value, sort_keys=True, ensure_ascii=False).encode())
        return self

    def hexdigest(self) -> str:
        return self._hash.hexdigest()


@functools.lru_cache(maxsize=16)
def _cached(paths: tuple[Path, ...], stamps: tuple) -> str:
    digest = Digest()
    for path in paths:
        digest.file(path)
    return digest.hexdigest()


def files_sha256(paths) -> str:
    """One SHA-256 over the files' bytes, in the order given; remembered per size and modification time."""
    paths = tuple(Path(p).resolve() for p in paths)
    return _cached(paths, tuple((p.stat().st_size, p.stat().st_mtime_ns) for p in paths))
