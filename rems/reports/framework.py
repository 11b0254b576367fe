"""The report framework: a report is a Core query, its columns and the filters it accepts.

One page template, one CSV writer and one XLSX writer serve every report; each report only
says what it selects. Reports read, never write (exports record their audit event themselves).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a report: its key in the query, its heading, and how de-identification
    treats it."""

    key: str
    label: str
    #: text, number, date, datetime, flag or percent: how the page and the XLSX show the value.
    kind: str = "text"
    #: A direct identifier of a patient (name, date of birth, contact): left out when de-identified.
    identifier: bool = False
    #: The REMS patient ID: replaced by a keyed hash, stable within one export, when de-identified.
    patient_key: bool = False
    #: A date of the patient's care: moved by the patient's one offset when de-identified.
    patient_date: bool = False
    #: An age in years: capped at 89 when de-identified.
    age: bool = False
    #: A record number (decision ID, authorization number): a keyed hash when de-identified.
    record_key: bool = False
    #: A count of days from one of the patient's dates to the report's day: counted from the
    #: shifted date when de-identified, so it reveals neither the shift nor the real date.
    days_to_today: bool = False
    sortable: bool = True
    #: (endpoint, URL parameter): the page links each value to that record's own page.
    link: tuple[str, str] | None = None

    @property
    def page_label(self) -> str:
        """The heading on the page, where each time carries its own zone (the program's): the
        files' "(UTC)" does not apply there."""
        return self.label.removesuffix(" (UTC)")


@dataclass(frozen=True, slots=True)
class Filters:
    """What a report is narrowed to. Every field has been checked (see `rems.reports.filters`)."""

    date_from: date | None = None
    date_to: date | None = None
    prescriber: str | None = None  # NPI as given
    prescriber_id: int | None = None
    site: str | None = None  # site ID as given
    site_id: int | None = None
    state: str | None = None
    status: str | None = None
    party: str | None = None
    within_days: int | None = None
    sort: str | None = None
    descending: bool = False
    today: date | None = None

    def described(self) -> dict[str, str]:
        """The filters that were set, as text, for the page, the file and the audit trail."""
        shown = {
            "from": self.date_from,
            "to": self.date_to,
            "prescriber": self.prescriber,
            "site": self.site,
            "state": self.state,
            "status": self.status,
            "party": self.party,
            "within_days": self.within_days,
            "sort": (f"{self.sort} {'desc' if self.descending else 'asc'}" if self.sort else None),
        }
        return {key: str(value) for key, value in shown.items() if value not in (None, "")}


#: Builds a report's select() from its filters and the database dialect's name.
QueryBuilder = Callable[[Filters, str], sa.Select]


@dataclass(frozen=True, slots=True)
class Report:
    """A report: a query, its columns, and which filters it accepts."""

    name: str
    title: str
    summary: str
    columns: tuple[Column, ...]
    query: QueryBuilder
    #: Among: period, prescriber, site, state, status, party, within_days.
    filters: frozenset[str]
    default_sort: str
    default_descending: bool = False
    statuses: tuple[str, ...] = ()
    status_label: str = "Status"
    #: What the period applies to, said on the page ("decided on", "enrolled on" …).
    period_of: str = ""
    #: Rows are about patients (the de-identified export is meaningful).
    about_patients: bool = False
    #: The order when none is asked for, when an index gives it (so an export's first rows
    #: stream at once instead of after a sort of every row); the default sort otherwise.
    default_order: Callable[[], tuple] | None = None
    #: A query with exactly as many rows as `query` for the same filters, read from the
    #: report's own table alone: for a report whose joins each find one row or none (many-to-one
    #: on a key, never dropping a row) and whose filters read only that table. The pager counts
    #: this instead: a period of ten times the rows then costs the count no more index work
    #: than the joins into tables ten times larger did. None: the pager counts `query`.
    counted: QueryBuilder | None = None

    def column(self, key: str) -> Column | None:
        """The column with this key."""
        return next((c for c in self.columns if c.key == key), None)

    @property
    def sort_keys(self) -> tuple[str, ...]:
        """Columns the page may sort by."""
        return tuple(c.key for c in self.columns if c.sortable)


def identified_patients(report: Report, rows: Iterable[dict]) -> set[str]:
    """The REMS IDs of the patients that rows of `report` name (none if it names none)."""
    key = next((c.key for c in report.columns if c.patient_key), None)
    if key is None:
        return set()
    return {str(row[key]) for row in rows if row.get(key)}


def ordered(report: Report, filters: Filters, dialect: str) -> sa.Select:
    """The report's query with its sort applied (the first column breaks ties)."""
    statement = report.query(filters, dialect)
    if filters.sort is None and report.default_order is not None:
        return statement.order_by(*report.default_order())
    key = filters.sort or report.default_sort
    descending = filters.descending if filters.sort else report.default_descending
    column = statement.selected_columns[key]
    order = [column.desc() if descending else column.asc()]
    first = statement.selected_columns[report.columns[0].key]
    if key != report.columns[0].key:
        order.append(first.asc())
    return statement.order_by(*order)


def count_of(statement: sa.Select) -> sa.Select:
    """How many rows a report's query gives."""
    return sa.select(sa.func.count()).select_from(statement.order_by(None).subquery())


def capped_count_of(statement: sa.Select, cap: int) -> sa.Select:
    """How many rows a report's query gives, counting no further than `cap` + 1 (more than
    `cap` is all a pager needs to know). Only the rows are counted: the selected values (a
    correlated count of doses, say) are not computed, but joins, filters and groups stay."""
    ones = statement.with_only_columns(sa.literal_column("1"), maintain_column_froms=True)
    limited = ones.order_by(None).limit(cap + 1).subquery()
    return sa.select(sa.func.count()).select_from(limited)
