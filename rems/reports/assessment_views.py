"""The REMS assessment: the page, the printable layout and the PDF, all from one `assess()`."""

from __future__ import annotations

from flask import Response, current_app, render_template, request

from rems.auth.permissions import current_actor, roles
from rems.common.clock import utcnow
from rems.common.errors import ValidationFailed
from rems.common.localtime import program_today
from rems.common.transactions import writing
from rems.extensions import db
from rems.reports import charts
from rems.reports.assessment import Assessment, assess
from rems.reports.filters import parse_period
from rems.reports.pdf import render_pdf
from rems.reports.services import record_assessment_download
from rems.reports.views import READERS, bp

#: The assessment's period when none is given: the last 365 days.
DEFAULT_DAYS = 365


def _period():
    """The period asked for (ValidationFailed names a bad field)."""
    return parse_period(
        request.args, today=program_today(), max_days=current_app.config["REMS_REPORT_MAX_DAYS"],
        default_days=DEFAULT_DAYS,
    )  # fmt: skip


def _charts(result: Assessment) -> dict[str, str | None]:
    """The charts of the assessment, as SVG data URIs."""
    return {
        "decisions": charts.decisions_chart(result.decisions_by_month),
        "denials": charts.bars_chart(
            [d["code"] for d in result.denials], [d["denials"] for d in result.denials], "Denials"
        ),
        "monitoring": charts.bars_chart(
            [m["test"] for m in result.monitoring_by_test],
            [float(m["compliance"] or 0) for m in result.monitoring_by_test],
            "Patients compliant (%)",
        ),
        "adverse_events": charts.bars_chart(
            [f"{e['category']} ({e['seriousness']})" for e in result.adverse_events],
            [e["events"] for e in result.adverse_events], "Events",
        ),
    }  # fmt: skip


def _render(template: str) -> tuple[str, int, dict[str, str]]:
    """(the assessment in `template`, 200, its period), or the page with the errors and 400."""
    try:
        date_from, date_to = _period()
    except ValidationFailed as failure:
        args = request.args.to_dict()
        page = render_template(
            "reports/assessment.html", result=None, errors=failure.errors, args=args
        )
        return page, 400, args
    result = assess(db.session, date_from, date_to, program_today())
    args = {"from": date_from.isoformat(), "to": date_to.isoformat()}
    page = render_template(
        template, result=result, charts=_charts(result), errors={}, args=args,
        generated_at=utcnow(), generated_by=current_actor().username,
    )  # fmt: skip
    return page, 200, args


@bp.get("/assessment")
@roles(*READERS)
def assessment():
    """The assessment for a period, with its charts and tables."""
    page, status, _ = _render("reports/assessment.html")
    return page, status


@bp.get("/assessment/print")
@roles(*READERS)
def assessment_print():
    """The same assessment laid out for printing."""
    page, status, _ = _render("reports/assessment_print.html")
    return page, status


@bp.get("/assessment.pdf")
@roles(*READERS)
def assessment_pdf():
    """The printable layout as a PDF download; the download is recorded like every export."""
    page, status, args = _render("reports/assessment_print.html")
    if status != 200:
        return page, status
    pdf = render_pdf(page)
    db.session.rollback()
    with writing():
        name = record_assessment_download(db.session, pdf, args, actor=current_actor())
        db.session.commit()
    return Response(
        pdf, mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )  # fmt: skip
