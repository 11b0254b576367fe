"""The program file's `[forms]` table: the version of the program's forms (enrollment forms,
knowledge assessment) as published to other systems (FHIR Questionnaires, issue 23)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from rems.program._fields import Node

VERSION_RE = re.compile(r"^[0-9A-Za-z][0-9A-Za-z.\-]{0,31}$")


@dataclass(slots=True, frozen=True)
class FormsInfo:
    """The forms' published version (a Questionnaire's `version`, and part of its id)."""

    version: str


def load_forms(node: Node) -> FormsInfo:
    node.refuse_unknown("version")
    version = node.text("version")
    if not VERSION_RE.match(version):
        raise node.error("version", "must be letters, digits, dots or hyphens (up to 32)")
    return FormsInfo(version=version)
