"""The assessment's monitoring counts by `count_items` (each distinct schedule's due dates
computed once, as `tally` does for the rebuild) are those of the schedule's items
(`rules.resolve`, each placed on the period's last day), on many generated patients and
periods: results on and around window edges, waivers, both kinds of closing, extensions."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, timedelta

from rems.monitoring import rules
from rems.reports.assessment_period import _count_items, _zero_items, count_items
from tests.monitoring.test_tally import _facts

PATIENTS = 400


def _counts(count, facts, date_from, date_to):
    by_test, by_month = defaultdict(_zero_items), defaultdict(_zero_items)
    count(facts, date_from, date_to, by_test, by_month)
    return dict(by_test), dict(by_month)


def _by_items(facts, date_from, date_to, by_test, by_month):
    _count_items(rules.resolve(facts), date_from, date_to, by_test, by_month)


def test_counts_match_the_schedules_items_on_generated_patients():
    rng = random.Random(24)
    seen = defaultdict(int)
    for _ in range(PATIENTS):
        facts = _facts(rng)
        for _ in range(3):
            date_from = date(2024, 1, 1) + timedelta(days=rng.randrange(1800))
            date_to = date_from + timedelta(days=rng.choice((0, 30, 90, 364, 700)))
            expected = _counts(_by_items, facts, date_from, date_to)
            assert _counts(count_items, facts, date_from, date_to) == expected
            for bucket in expected[0].values():
                for state, number in bucket.items():
                    seen[state] += number
    # the generated patients reach every state the assessment counts
    assert all(seen[state] > 50 for state in ("satisfied", "waived", "overdue", "pending"))


def test_a_patient_without_doses_counts_nothing():
    facts = rules.ScheduleFacts(tests=_facts(random.Random(1)).tests, months_after_last_dose=6)
    assert _counts(count_items, facts, date(2024, 1, 1), date(2024, 12, 31)) == ({}, {})
