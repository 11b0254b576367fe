"""Which document versions are current, and whether a patient has acknowledged them (§5 item 5)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class VersionFact:
    """A published version as the rule sees it."""

    id: int
    document_code: str
    label: str
    effective_on: date


def current_versions(
    versions: Iterable[VersionFact], required_codes: Iterable[str], today: date
) -> dict[str, VersionFact | None]:
    """For each required document, its newest version already in effect today (None: none yet)."""
    current: dict[str, VersionFact | None] = {code: None for code in required_codes}
    for version in versions:
        if version.document_code not in current or version.effective_on > today:
            continue
        best = current[version.document_code]
        if best is None or (version.effective_on, version.id) > (best.effective_on, best.id):
            current[version.document_code] = version
    return current


def missing_acknowledgments(
    current: Mapping[str, VersionFact | None],
    acknowledged_version_ids: Iterable[int],
    *,
    reacknowledge_on_new_version: bool,
    acknowledged_codes: Iterable[str] = (),
) -> list[str]:
    """The required documents whose current version the patient has not acknowledged. With
    re-acknowledgment off, any acknowledged version of the document is enough. A required
    document with no published version cannot be acknowledged, so it is missing too."""
    acknowledged = set(acknowledged_version_ids)
    any_version = set(acknowledged_codes)
    missing = []
    for code, version in current.items():
        if version is None:
            missing.append(code)
        elif version.id in acknowledged or (
            not reacknowledge_on_new_version and code in any_version
        ):
            continue
        else:
            missing.append(code)
    return missing


def guides_acknowledged(*args, **kwargs) -> bool:
    """Authorization rule 5: every current required document version is acknowledged."""
    return not missing_acknowledgments(*args, **kwargs)
