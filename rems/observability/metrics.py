"""Prometheus metrics for the operators' monitoring: requests by route and status, latency
histograms, and dispensing decisions by outcome and denial reason.

Under gunicorn set PROMETHEUS_MULTIPROC_DIR (an empty directory, wiped at each start) so that
every worker's numbers are added up. /metrics is not public: it answers only a request bearing
METRICS_TOKEN (compared in constant time) and is 404 while no token is configured."""

from __future__ import annotations

import hmac
import os
import time

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from sqlalchemy import event
from sqlalchemy.orm import Session

from rems.auth.permissions import public

bp = Blueprint("metrics", __name__)

REQUESTS = Counter(
    "rems_http_requests_total", "HTTP requests answered, by route and status.",
    ["method", "route", "status"],
)  # fmt: skip
LATENCY = Histogram(
    "rems_http_request_duration_seconds", "Time to answer a request, by route.",
    ["method", "route"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)  # fmt: skip
DECISIONS = Counter(
    "rems_gate_decisions_total", "Dispensing decisions recorded, by outcome.", ["outcome"]
)
DENIAL_REASONS = Counter(
    "rems_gate_denial_reasons_total",
    "Reasons given in recorded denials (a denial with several reasons counts under each).",
    ["reason"],
)
_PENDING = "rems_metrics_decisions"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


@bp.get("/metrics")
@public  # guarded by METRICS_TOKEN below, not by a user's role
def metrics():
    """The Prometheus text format, for a scraper bearing METRICS_TOKEN."""
    expected = current_app.config.get("METRICS_TOKEN")
    if not expected:
        abort(404)
    supplied = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(supplied.encode(), expected.encode()):
        abort(404)
    return Response(generate_latest(_registry()), mimetype=CONTENT_TYPE_LATEST)


def _registry():
    """Every worker's samples under gunicorn (multiprocess mode), else this process's."""
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        return REGISTRY
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return registry


def install(app: Flask) -> None:
    """Time every request and count decisions once their transaction commits."""
    app.register_blueprint(bp)
    app.before_request(_start_timer)
    app.after_request(_observe)
    if not event.contains(Session, "after_commit", _count_decisions):
        event.listen(Session, "after_commit", _count_decisions)
        event.listen(Session, "after_rollback", _forget_decisions)


def _start_timer() -> None:
    """Note when the request started."""
    g.rems_started = time.perf_counter()


def _observe(response):
    """Count the answer under its route template (never the raw path: bounded labels)."""
    route = request.url_rule.rule if request.url_rule else "unmatched"
    method = request.method if request.method in KNOWN_METHODS else "other"
    REQUESTS.labels(method, route, str(response.status_code)).inc()
    started = g.get("rems_started")
    if started is not None:
        LATENCY.labels(method, route).observe(time.perf_counter() - started)
    return response


def note_decision(session: Session, outcome: str, reasons) -> None:
    """A decision stored in this transaction: counted once the transaction commits."""
    codes = [reason["code"] for reason in reasons or ()]
    session.info.setdefault(_PENDING, []).append((outcome, codes))


def _count_decisions(session: Session) -> None:
    """Count the transaction's decisions once they are on record."""
    for outcome, reasons in session.info.pop(_PENDING, ()):
        DECISIONS.labels(outcome).inc()
        for reason in reasons:
            DENIAL_REASONS.labels(reason).inc()


def _forget_decisions(session: Session) -> None:
    """A rolled-back transaction stored no decision."""
    session.info.pop(_PENDING, None)
