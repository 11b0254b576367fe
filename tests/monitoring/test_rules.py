"""The monitoring schedule as a pure function: every boundary of program §6, with the numbers
taken from the program file."""

from __future__ import annotations

from datetime import date, timedelta

from rems.monitoring.rules import (
    ItemState,
    ResultFact,
    ScheduleFacts,
    WaiverFact,
    compliant,
    format_ranges,
    items_of_test,
    monitored_tests,
    open_items,
    parse_ranges,
    schedule,
    schedule_end,
)
from rems.program import DEFAULT_PROGRAM_FILE, load_program
from rems.program.model import add_months

PROGRAM = load_program(DEFAULT_PROGRAM_FILE)
TESTS = monitored_tests(PROGRAM)
MONTHS = PROGRAM.monitoring.months_after_last_dose
CBC = next(t for t in TESTS if t.code == "cbc")
SKIN = next(t for t in TESTS if t.code == "skin_exam")
GRACE = CBC.grace_days
FIRST_DOSE = date(2025, 1, 10)
COURSE_1 = tuple(FIRST_DOSE + timedelta(days=n) for n in range(PROGRAM.course_doses(1)))
DAY = timedelta(days=1)


def facts(doses=COURSE_1, results=(), waivers=(), closed_on=None, **more) -> ScheduleFacts:
    """Course 1 given from FIRST_DOSE, with whatever results and waivers."""
    return ScheduleFacts(
        tests=TESTS, months_after_last_dose=MONTHS, doses=tuple(doses), closed_on=closed_on,
        results=tuple(results), waivers=tuple(waivers), **more,
    )  # fmt: skip


def items(today, test="cbc", **changes):
    """The schedule's items of one test on `today`."""
    return [i for i in schedule(facts(**changes), today) if i.test_code == test]


def cbc_due(k: int) -> date:
    """Item k of the CBC is due k intervals after the first dose."""
    return add_months(FIRST_DOSE, k * CBC.every_months)


def result(day: date, test="cbc", id=1) -> ResultFact:
    return ResultFact(id, test, day)


def test_the_program_file_gives_the_tests_intervals_and_grace():
    by_code = {t.code: (t.every_months, t.grace_days) for t in TESTS}
    assert by_code == {
        "cbc": (1, 7), "creatinine": (1, 7), "urinalysis": (1, 7), "tsh": (3, 7),
        "liver": (3, 7), "skin_exam": (12, 30),
    }  # fmt: skip
    assert MONTHS == 48


def test_before_the_first_dose_there_are_no_items():
    assert schedule(facts(doses=()), FIRST_DOSE) == []


def test_the_first_item_is_due_one_interval_after_the_first_dose():
    first = items(FIRST_DOSE)[0]
    assert (first.k, first.due_on) == (1, date(2025, 2, 10))
    assert (
        first.window_start == FIRST_DOSE + DAY
    )  # a result on the day of the first dose is baseline
    assert first.window_end == date(2025, 2, 10) + timedelta(days=GRACE)


def test_the_last_item_is_the_last_due_date_not_after_last_dose_plus_48_months():
    cbc = items(FIRST_DOSE)
    end = schedule_end(COURSE_1, MONTHS)
    assert end == date(2029, 1, 14)
    assert (cbc[-1].k, cbc[-1].due_on) == (48, date(2029, 1, 10))
    assert len(cbc) == 48
    assert [len(items(FIRST_DOSE, t.code)) for t in TESTS] == [48, 48, 48, 16, 16, 4]


def test_a_due_date_on_the_last_day_itself_is_included():
    single = (FIRST_DOSE,)
    cbc = items(FIRST_DOSE, doses=single)
    assert cbc[-1].due_on == add_months(FIRST_DOSE, MONTHS) == schedule_end(single, MONTHS)


def test_a_second_course_moves_the_end_but_not_the_anchor():
    course_2 = tuple(date(2026, 3, 1) + timedelta(days=n) for n in range(3))
    cbc = items(FIRST_DOSE, doses=COURSE_1 + course_2)
    assert cbc[0].due_on == cbc_due(1)
    assert cbc[-1].due_on == date(2030, 2, 10)  # last dose 2026-03-03 + 48 months = 2030-03-03
    assert len(cbc) == 61


def test_doses_in_any_order_give_the_same_schedule():
    assert schedule(facts(doses=reversed(COURSE_1)), FIRST_DOSE) == schedule(facts(), FIRST_DOSE)


SOON = PROGRAM.monitoring_states.due_soon_days


def test_upcoming_then_due_soon_then_due_on_its_date_then_overdue_after_grace():
    due = cbc_due(2)
    assert SOON == 14
    assert items(cbc_due(1) + DAY)[1].state == ItemState.UPCOMING  # its window is open
    assert items(due - timedelta(days=SOON + 1))[1].state == ItemState.UPCOMING
    assert items(due - timedelta(days=SOON))[1].state == ItemState.DUE_SOON
    assert items(due - DAY)[1].state == ItemState.DUE_SOON
    assert items(due)[1].state == ItemState.DUE
    assert items(due + timedelta(days=GRACE))[1].state == ItemState.DUE
    assert items(due + timedelta(days=GRACE + 1))[1].state == ItemState.OVERDUE


def test_a_result_counts_for_the_whole_window_even_before_the_item_is_due_soon():
    early = cbc_due(1) + DAY  # item 2's window opens the day after item 1's due date
    done = [result(cbc_due(1), id=1), result(early, id=2)]
    assert [(i.state, i.result_id) for i in items(early, results=done)[:2]] == [
        (ItemState.SATISFIED, 1), (ItemState.SATISFIED, 2)]  # fmt: skip


def test_lost_to_follow_up_keeps_overdue_items_and_closes_the_rest():
    closing = cbc_due(3) + DAY  # item 3 is due, not overdue; items 1-2 overdue by then
    kept = items(closing + timedelta(days=400), closed_on=closing, closed_keeps_overdue=True)
    assert [i.state for i in kept[:4]] == [ItemState.OVERDUE, ItemState.OVERDUE,
                                            ItemState.CLOSED, ItemState.CLOSED]  # fmt: skip
    as_now = items(closing + timedelta(days=400), closed_on=closing)
    assert [i.state for i in as_now[:4]] == [ItemState.OVERDUE] * 3 + [ItemState.CLOSED]


def test_an_extension_moves_the_end_and_adds_items():
    end = schedule_end(COURSE_1, MONTHS)
    later = add_months(end, 6)
    assert len(items(FIRST_DOSE, extended_to=later)) == len(items(FIRST_DOSE)) + 6
    assert len(items(FIRST_DOSE, extended_to=end - DAY)) == len(items(FIRST_DOSE))


def test_due_until_due_date_plus_grace_and_overdue_one_day_later():
    last_day = cbc_due(1) + timedelta(days=GRACE)
    assert items(last_day)[0].state == ItemState.DUE
    assert items(last_day + DAY)[0].state == ItemState.OVERDUE


def test_the_skin_exam_has_its_own_grace_from_the_program_file():
    assert SKIN.grace_days == 30
    due = add_months(FIRST_DOSE, 12)
    assert items(due + timedelta(days=30), "skin_exam")[0].state == ItemState.DUE
    assert items(due + timedelta(days=31), "skin_exam")[0].state == ItemState.OVERDUE


def test_a_result_on_the_first_and_last_day_of_the_window_satisfies_the_item():
    for day in (FIRST_DOSE + DAY, cbc_due(1) + timedelta(days=GRACE)):
        first = items(day + timedelta(days=60), results=[result(day)])[0]
        assert (first.state, first.result_id) == (ItemState.SATISFIED, 1)


def test_a_result_a_day_after_the_grace_goes_to_the_next_item():
    late = cbc_due(1) + timedelta(days=GRACE + 1)
    cbc = items(late, results=[result(late)])
    assert cbc[0].state == ItemState.OVERDUE
    assert (cbc[1].state, cbc[1].result_id) == (ItemState.SATISFIED, 1)


def test_a_result_that_fits_two_windows_satisfies_the_earliest_open_one():
    both = cbc_due(1) + timedelta(days=3)  # in item 1's grace and item 2's window
    alone = items(both, results=[result(both)])
    assert [i.state for i in alone[:2]] == [ItemState.SATISFIED, ItemState.UPCOMING]
    earlier = result(cbc_due(1) - timedelta(days=5), id=2)
    two = items(both, results=[result(both), earlier])
    assert [(i.state, i.result_id) for i in two[:2]] == [
        (ItemState.SATISFIED, 2),
        (ItemState.SATISFIED, 1),
    ]


def test_each_result_satisfies_at_most_one_item():
    cbc = items(cbc_due(3), results=[result(cbc_due(1))])
    assert sum(1 for i in cbc if i.result_id == 1) == 1


def test_a_result_before_the_first_dose_or_on_its_day_satisfies_nothing():
    for day in (FIRST_DOSE - timedelta(days=10), FIRST_DOSE):
        cbc = items(cbc_due(1), results=[result(day)])
        assert all(i.result_id is None for i in cbc)
        assert cbc[0].state == ItemState.DUE


def test_a_result_of_another_test_satisfies_nothing_of_this_one():
    cbc = items(cbc_due(1), results=[result(cbc_due(1), test="tsh")])
    assert cbc[0].state == ItemState.DUE


def test_a_patient_closed_mid_schedule_has_closed_items_after_the_closing_date():
    closed_on = cbc_due(6)
    cbc = items(cbc_due(10), closed_on=closed_on)
    assert cbc[5].state == ItemState.OVERDUE  # due on the closing day: still owed
    assert all(i.state == ItemState.CLOSED for i in cbc[6:])
    assert items(cbc_due(10), closed_on=cbc_due(6) - DAY)[5].state == ItemState.CLOSED


def test_a_waived_item_is_waived_and_a_result_in_its_window_goes_to_the_next():
    waiver = WaiverFact("cbc", cbc_due(1))
    cbc = items(cbc_due(3), waivers=[waiver], results=[result(cbc_due(1) + DAY)])
    assert cbc[0].state == ItemState.WAIVED
    assert (cbc[1].state, cbc[1].result_id) == (ItemState.SATISFIED, 1)


def test_compliant_means_no_overdue_item():
    assert compliant(schedule(facts(), cbc_due(1)))
    assert not compliant(schedule(facts(), cbc_due(1) + timedelta(days=GRACE + 1)))
    waived = [WaiverFact(t.code, add_months(FIRST_DOSE, t.every_months)) for t in TESTS]
    assert compliant(schedule(facts(waivers=waived), cbc_due(1) + timedelta(days=GRACE + 1)))


def test_due_dates_count_from_the_anchor_at_month_ends():
    anchor = date(2025, 1, 31)
    due = [i.due_on for i in items_of_test(CBC, anchor, date(2025, 6, 1))]
    assert due == [date(2025, 2, 28), date(2025, 3, 31), date(2025, 4, 30), date(2025, 5, 31)]


def test_stored_ranges_rebuild_the_same_items():
    full = items_of_test(CBC, FIRST_DOSE, schedule_end(COURSE_1, MONTHS))
    ks = [1, 2, 3, 5, 7, 8, 48]
    assert format_ranges(ks) == "1-3,5,7-8,48"
    assert list(parse_ranges("1-3,5,7-8,48")) == ks and list(parse_ranges("")) == []
    assert list(open_items(CBC, FIRST_DOSE, ks)) == [i for i in full if i.k in ks]
