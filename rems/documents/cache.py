"""Published document versions, cached per app server and checked on every use.

Versions are only ever added (publishing never edits or deletes one), so the pair (how many,
highest id) changes exactly when a version is published. A hot path reads that stamp in its own
query (`stamp_columns`); when it differs from the cached one, the cache is reloaded. Every app
server therefore sees a new version on its next request, with no extra query in between.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import Session

from rems.documents.models import DocumentVersion
from rems.documents.queries import version_facts
from rems.documents.rules import VersionFact

_KEY = "rems_document_versions"


@dataclass(frozen=True, slots=True)
class CachedVersions:
    """Every published version as the rules see them, and the stamp they were read at."""

    stamp: tuple[int, int]
    versions: tuple[VersionFact, ...]

    def ids_of(self, code: str) -> tuple[int, ...]:
        """The ids of every version of one document."""
        return tuple(v.id for v in self.versions if v.document_code == code)


def stamp_columns() -> tuple[sa.ScalarSelect, sa.ScalarSelect]:
    """Two labelled columns for any select: the count and the highest id of the versions."""
    table = DocumentVersion.__table__
    count = sa.select(sa.func.count()).select_from(table).scalar_subquery()
    highest = sa.select(sa.func.coalesce(sa.func.max(table.c.id), 0)).scalar_subquery()
    return count.label("versions_count"), highest.label("versions_max_id")


def cached_versions(session: Session) -> CachedVersions:
    """The cached versions; read them (one query) when this app server has none yet."""
    cached = current_app.extensions.get(_KEY)
    return cached if cached is not None else reload_versions(session)


def reload_versions(session: Session) -> CachedVersions:
    """Read every version and its stamp in one query, and cache them."""
    count, highest = stamp_columns()
    stamp = session.execute(sa.select(count, highest)).one()
    versions = tuple(version_facts(session))
    cached = CachedVersions((int(stamp[0]), int(stamp[1])), versions)
    current_app.extensions[_KEY] = cached
    return cached


def is_current(cached: CachedVersions, count: int, highest: int) -> bool:
    """Whether a stamp read alongside other facts matches the cache."""
    return cached.stamp == (int(count), int(highest))
