"""What was recorded after an assessment period's end that bears on the monitoring items due
in it: the patients (or, for a late result, the patient and its test) whose stored item states
(`monitoring_status.item_states`) are not their states as the records stood at the end, and so
are counted from their facts as of then (`assessment_monitoring`).

A fact the schedule reads as of a moment (`facts_as_of_for`) and that bears on the items due by
the period's last day: a dose (infusion or prior treatment), an extension, a result collected
by the last day + its test's grace days (a test not monitored bears on none), a waiver of an
item due by the last day, a closing with none recorded before. A result collected later lies in
no window of those items, and being placed after every result collected before it (oldest
first) moves none of theirs; a waiver of a later item frees results only for later items. Each
query is a range scan of an index on its moment column (0030); the caller unites them (a UNION
of UNIONs is not SQLite's syntax)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from rems.audit.models import StatusChange
from rems.infusions.models import Infusion
from rems.monitoring.followup_models import MonitoringExtension
from rems.monitoring.models import LabResult, MonitoringWaiver
from rems.patients.models import Patient
from rems.prior_treatment.models import PriorDose
from rems.program.model import add_months


def late_results(moment: datetime, date_to: date, graces: dict[str, int]) -> sa.Select:
    """(patient, test) of the results collected by `date_to` + their test's grace days
    (`graces`, by test code) and recorded at or after `moment`. A result bears on its own
    test's items only: each test's results satisfy that test's items."""
    windows = {code: date_to + timedelta(days=grace) for code, grace in graces.items()}
    last_window = sa.case(windows, value=LabResult.test_code) if windows else sa.null()
    return sa.select(LabResult.patient_id, LabResult.test_code).where(
        LabResult.entered_at >= moment, LabResult.collected_on <= last_window
    )


def changed_for_every_test(moment: datetime, date_to: date) -> list[sa.Select]:
    """The patients with a fact other than a result recorded at or after `moment` that bears
    on the items of every test due by `date_to`.

    An infusion given after `date_to` (a later course) moves neither the first dose (a dose
    recorded by the moment was given before it) nor the items due by `date_to`, whose states
    the results before it decide. It only moves the schedule's end (`rules.schedule_end`: the
    last dose + the program's months), which bears on those items only if the schedule had
    ended before `date_to`: only if the patient has a dose given before `date_to` less those
    months (three days to spare for the months' lengths). Only such patients are looked at
    (a year back, every second course was recorded since the period's end)."""
    closing_before = sa.exists().where(
        StatusChange.entity_type == "patient", StatusChange.entity_id == Patient.id,
        StatusChange.to_status == "closed", StatusChange.changed_at < moment,
    )  # fmt: skip
    months = current_app.extensions["rems_program"].monitoring.months_after_last_dose
    ended_if_before = add_months(date_to, -months) + timedelta(days=3)
    dosed_long_ago = sa.union(
        sa.select(Infusion.patient_id).where(Infusion.administered_on < ended_if_before),
        sa.select(PriorDose.patient_id).where(PriorDose.given_on < ended_if_before),
    )
    recorded_since = Infusion.recorded_at >= moment
    return [
        sa.select(Infusion.patient_id).where(recorded_since, Infusion.administered_on <= date_to),
        sa.select(Infusion.patient_id).where(
            recorded_since,
            Infusion.administered_on > date_to,
            Infusion.patient_id.in_(dosed_long_ago),
        ),
        sa.select(PriorDose.patient_id).where(PriorDose.recorded_at >= moment),
        sa.select(MonitoringWaiver.patient_id).where(
            MonitoringWaiver.waived_at >= moment, MonitoringWaiver.due_on <= date_to
        ),
        sa.select(MonitoringExtension.patient_id).where(MonitoringExtension.extended_at >= moment),
        sa.select(Patient.id).where(Patient.closed_on.is_not(None), ~closing_before),
    ]
