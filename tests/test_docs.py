"""The project carries its own documentation: README and docs/ link only to files inside the
repository (nothing outside it, such as a shared spec folder), and every link resolves."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS = ("program.md", "api.md", "operations.md")
#: [text](target) — the target up to a space, a closing parenthesis or a #fragment.
LINK = re.compile(r"\]\(\s*<?([^)\s#>]*)")
#: A path that climbs out of the file's folder, linked or not (e.g. `../shared/spec/x.md`).
CLIMB = re.compile(r"(?<![\w.])\.\./[\w./-]+")


def _documents() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def _outside(document: Path, target: str) -> bool:
    resolved = (document.parent / target).resolve()
    return not resolved.is_relative_to(ROOT)


def test_the_documentation_folder_has_its_three_guides_and_the_readme_links_them():
    readme = (ROOT / "README.md").read_text()
    for name in DOCS:
        assert (ROOT / "docs" / name).is_file(), name
        assert f"(docs/{name})" in readme, name


def test_no_link_in_the_readme_or_docs_points_outside_the_repository():
    for document in _documents():
        text = document.read_text()
        for target in LINK.findall(text):
            if not target or re.match(r"^[a-z][a-z0-9+.-]*:", target):
                continue  # a fragment only, or a URL (https:, mailto:)
            assert not _outside(document, target), f"{document.name} links {target}"
            assert (document.parent / target).exists(), f"{document.name}: {target} is missing"
        for climb in CLIMB.findall(text):
            assert not _outside(document, climb), f"{document.name} names {climb}"


def test_the_check_catches_a_link_to_the_shared_spec():
    readme = ROOT / "README.md"
    assert _outside(readme, "../shared/spec/program.md")
    assert LINK.findall("see [the rules](../shared/spec/program.md)") == [
        "../shared/spec/program.md"
    ]
    assert not _outside(ROOT / "docs" / "api.md", "../README.md")
