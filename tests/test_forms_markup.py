"""The page check every rendered page goes through (tests/html_checks.py, run by conftest):
one id per element, and error summaries in the order the page shows the fields."""

from __future__ import annotations

from tests import html_checks


def test_the_page_check_finds_repeated_ids_and_a_summary_out_of_order():
    page = """
      <div class="form-errors"><ul><li><a href="#b">B</a></li><li><a href="#a">A</a></li></ul></div>
      <form><input id="a" name="a"><input id="b" name="b"><textarea id="a"></textarea></form>
    """
    found = html_checks.problems(page)
    assert "duplicate element ids: a" in found
    assert "error summary out of page order: ['b', 'a']" in found
    fixed = page.replace('id="a"></textarea>', 'id="c"></textarea>')
    fixed = fixed.replace('href="#b">B', 'href="#x">A').replace('href="#a">A', 'href="#b">B')
    assert html_checks.problems(fixed.replace('href="#x"', 'href="#a"')) == []
