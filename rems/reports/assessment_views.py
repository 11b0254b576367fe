"""The REMS assessment: the page, the printable layout and the PDF, all from one `assess()` of
the period and one of the previous period, with the auditor's narrative."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from flask import Response, current_app, render_template, request

from rems.auth.models import Role
from rems.auth.permissions import current_actor, roles
from rems.common.clock import utcnow
from rems.common.errors import ValidationFailed
from rems.common.localtime import program_today
from rems.common.transactions import reading, writing
from rems.extensions import db
from rems.reports import charts, labels, narrative
from rems.reports.assessment import Assessment, assess
from rems.reports.assessment_frame import frame, previous_period
from rems.reports.filters import parse_period
from rems.reports.narrative_forms import NarrativeForm
from rems.reports.pdf import render_pdf
from rems.reports.services import record_assessment_download
from rems.reports.views import READERS, bp

#: The assessment's period when none is given: the last 365 days.
DEFAULT_DAYS = 365


@bp.app_template_filter("label")
def _label(code, kind: str) -> str:
    """`{{ code|label('test') }}`: the code's human name (rems.reports.labels)."""
    return labels.label(kind, code)


def period_asked():
    """The period asked for (ValidationFailed names a bad field)."""
    return parse_period(
        request.args, today=program_today(), max_days=current_app.config["REMS_REPORT_MAX_DAYS"],
        default_days=DEFAULT_DAYS,
    )  # fmt: skip


def _charts(result: Assessment) -> dict[str, str | None]:
    """The charts of the assessment, as SVG data URIs."""
    tests = result.monitoring["by_test"]
    return {
        "decisions": charts.decisions_chart(result.decisions_by_month),
        "denials": charts.bars_chart(
            [labels.label("gate_reason", d["code"]) for d in result.denials],
            [d["denials"] for d in result.denials], "Denials",
        ),
        "monitoring": charts.bars_chart(
            [labels.label("test", m["test"]) for m in tests],
            [float(m["compliance"] or 0) for m in tests],
            "Items due in the period that were met (%)", percent=True,
        ),
        "adverse_events": charts.bars_chart(
            [f"{labels.label('adverse_event', e['category'])} ({e['seriousness']})"
             for e in result.adverse_events],
            [e["events"] for e in result.adverse_events], "Events",
        ),
    }  # fmt: skip


def assess_beside_previous(date_from, date_to, today) -> tuple[Assessment, Assessment]:
    """The period's assessment and the previous period's (for the comparison), computed side
    by side: the previous one in a thread with its own app context, so its own session and
    connection. Each only reads, each statement on its own (as one after the other did), so
    the figures are those of computing them in turn; the page takes the longer of the two
    rather than their sum (bench/README: 32 → 22 s at a million patients). Both read in
    `reading()`: on SQLite neither takes the write lock, which a form's page shown again
    after a refused POST would otherwise hold (and the thread, outside any request, would
    wait for). An error in either is raised here."""
    app = current_app._get_current_object()

    def previous() -> Assessment:
        with app.app_context(), reading():
            return assess(db.session, *previous_period(date_from, date_to), today)

    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="assessment") as pool:
        earlier = pool.submit(previous)
        with reading():
            current = assess(db.session, date_from, date_to, today)
        return current, earlier.result()


def render_assessment(template: str, *, form: NarrativeForm | None = None, status: int = 200):
    """(the assessment in `template`, status, its period), or the page with the errors and 400."""
    try:
        date_from, date_to = period_asked()
    except ValidationFailed as failure:
        args = request.args.to_dict()
        page = render_template(
            "reports/assessment.html", result=None, errors=failure.errors, args=args
        )
        return page, 400, args
    today = program_today()
    result, previous = assess_beside_previous(date_from, date_to, today)
    versions = narrative.versions(db.session, date_from, date_to)
    if form is None:
        form = NarrativeForm(narrative=versions[0].text if versions else "", formdata=None)
    args = {"from": date_from.isoformat(), "to": date_to.isoformat()}
    page = render_template(
        template, result=result, frame=frame(result, previous, today), charts=_charts(result),
        errors={}, args=args, generated_at=utcnow(), generated_by=current_actor().username,
        versions=versions, form=form, may_write=current_actor().role == Role.AUDITOR,
        printing=template.endswith("_print.html"),
    )  # fmt: skip
    return page, status, args


@bp.get("/assessment")
@roles(*READERS)
def assessment():
    """The assessment for a period, with its charts, tables and narrative."""
    page, status, _ = render_assessment("reports/assessment.html")
    return page, status


@bp.get("/assessment/print")
@roles(*READERS)
def assessment_print():
    """The same assessment laid out for printing."""
    page, status, _ = render_assessment("reports/assessment_print.html")
    return page, status


@bp.get("/assessment.pdf")
@roles(*READERS)
def assessment_pdf():
    """The printable layout as a PDF download; the download is recorded like every export."""
    page, status, args = render_assessment("reports/assessment_print.html")
    if status != 200:
        return page, status
    pdf = render_pdf(page, title=f"LEMTRADA REMS assessment {args['from']} to {args['to']}")
    db.session.rollback()
    with writing():
        name = record_assessment_download(db.session, pdf, args, actor=current_actor())
        db.session.commit()
    return Response(
        pdf, mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )  # fmt: skip
