"""One as-of engine: a world that changes over 400 days (certification, enrollment, courses,
doses here and prior treatment, results, suspensions, discontinuation, closing, dispensing
authorizations used, expired and reversed). On chosen days the live answers are captured late
in the New York evening (UTC's date is already the next day); at the end every one of them is
asked again "as of" that day and must be the same, on every kind of record."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from rems.audit.pointintime import authorization_at
from rems.auth.models import Role, User
from rems.authorizations.models import Authorization
from rems.certification.rules import Transition
from rems.certification.services import apply_transition
from rems.common.transactions import writing
from rems.extensions import db
from rems.monitoring.results import ResultRow
from rems.monitoring.storing import record_results
from rems.patients import lifecycle
from rems.patients.models import Patient
from rems.prescribers.models import Prescriber
from rems.prior_treatment.services import PriorCourse, next_prior, record_prior_course
from rems.sites.queries import site_by_code
from tests.authorizations.helpers import authorize, gate, infusion
from tests.factories import PASSWORD
from tests.patients.helpers import enroll_patient

NEW_YORK = ZoneInfo("America/New_York")
START = date(2026, 11, 24)
MONTHLY = ("cbc", "creatinine", "urinalysis")


class World:
    """The cast, the clock and the API client; every change made through the services or API."""

    def __init__(self, app, factory, clock):
        self.app, self.clock, self.client = app, clock, app.test_client()
        self.gate = gate(app, factory)
        self.reader = {"Authorization": f"Bearer {factory.token(factory.user(Role.AUDITOR))}"}
        self.patients = {"treated": self.gate.patient}
        self.authorizations: list[str] = []
        self.captured: list[tuple[date, dict]] = []

    def at(self, offset: int, hour: int = 9) -> date:
        """Move the clock to `hour` o'clock New York on day START + offset."""
        day = START + timedelta(days=offset)
        moment = datetime(day.year, day.month, day.day, hour, tzinfo=NEW_YORK).astimezone(UTC)
        assert moment >= self.clock.current
        self.clock.current = moment
        return day

    def write(self, change) -> None:
        """One transaction through the services, as an administrator or the prescriber."""
        with self.app.app_context(), writing():
            change(
                db.session.get(User, self.gate.admin.id),
                db.session.get(User, self.gate.prescriber.user.id),
            )
            db.session.commit()

    def patient(self, name: str) -> Patient:
        return db.session.get(Patient, self.patients[name].id)

    def request(self, name: str) -> str:
        """The pharmacy asks for the patient's authorized course; returns the number."""
        with self.app.app_context():
            born = self.patient(name).date_of_birth.isoformat()
        body = self.gate.request(patient_id=self.patients[name].rems_id, date_of_birth=born)
        answer = self.client.post(
            "/api/v1/authorizations", json=body,
            headers={"Authorization": f"Bearer {self.gate.pharmacy_token}"},
        ).get_json()  # fmt: skip
        assert answer["decision"] == "authorized", answer
        self.authorizations.append(answer["authorization_number"])
        return answer["authorization_number"]

    def dose(self, number: str, day: date) -> None:
        answer = self.client.post(
            f"/api/v1/authorizations/{number}/infusions", json=infusion(day),
            headers={"Authorization": f"Bearer {self.gate.nurse_token}"},
        )  # fmt: skip
        assert answer.status_code == 201, answer.get_json()

    def results(self, name: str, collected: date) -> None:
        def record(_admin, doctor):
            patient = self.patient(name)
            rows = [ResultRow(f"{code}-{collected}", patient, {
                "test": code, "collected_on": collected, "value": "within range",
                "abnormal": False}) for code in MONTHLY]  # fmt: skip
            record_results(db.session, doctor, rows, source="web", today=collected)

        self.write(record)

    def prior(self, name: str, first: date) -> None:
        def record(_admin, doctor):
            patient = self.patient(name)
            count = next_prior(db.session, patient).doses_allowed
            doses = {f"dose_{n}": first + timedelta(days=n - 1) for n in range(1, count + 1)}
            record_prior_course(db.session, patient, doctor, PriorCourse(doses, "Hospital chart"),
                                password=PASSWORD, today=self.clock.current.date())  # fmt: skip

        self.write(record)

    def certification(self, party: str, transition: Transition) -> None:
        def move(admin, _doctor):
            record = (
                db.session.get(Prescriber, self.gate.prescriber.id)
                if party == "prescriber"
                else site_by_code(db.session, getattr(self.gate, party))
            )
            apply_transition(db.session, record, transition, actor=admin,
                             today=self.clock.current.date(), reason="Under review")  # fmt: skip

        self.write(move)

    def lookups(self) -> dict:
        """Every lookup's answer now: prescriber, both sites, every patient, every grant."""
        paths = {
            "prescriber": f"/api/v1/prescribers/{self.gate.prescriber.npi}",
            "pharmacy": f"/api/v1/sites/{self.gate.pharmacy_code}",
            "infusion site": f"/api/v1/sites/{self.gate.site_code}",
        } | {name: f"/api/v1/patients/{ref.rems_id}" for name, ref in self.patients.items()}
        return {name: self.client.get(path, headers=self.reader) for name, path in paths.items()}

    def capture(self, day: date) -> None:
        """The live answers at 23:30 New York on `day` (04:30 UTC the next day)."""
        self.at((day - START).days, hour=23)
        self.clock.current += timedelta(minutes=30)
        answers = {name: _body(response) for name, response in self.lookups().items()}
        for number in self.authorizations:
            body = self.client.get(f"/api/v1/authorizations/{number}", headers=self.reader)
            body = body.get_json()
            answers[number] = {"status": body["status"], "doses_given": body["doses_given"]}
        self.captured.append((day, answers))

    def as_of(self, day: date) -> dict:
        """Every answer as of `day`, asked now."""
        answers = {}
        paths = {name: response.request.path for name, response in self.lookups().items()}
        for name, path in paths.items():
            response = self.client.get(path, query_string={"as_of": day.isoformat()},
                                       headers=self.reader)  # fmt: skip
            answers[name] = _body(response)
        moment = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=NEW_YORK)
        with self.app.app_context():
            for number in self.authorizations:
                grant = db.session.scalar(sa.select(Authorization).filter_by(number=number))
                then = authorization_at(db.session, grant, moment - timedelta(microseconds=1))
                if then is not None:
                    answers[number] = {"status": then.status, "doses_given": then.doses_given}
        return answers


def _body(response) -> dict | None:
    """A lookup's answer without the fields only an as-of answer has (None: not on record)."""
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    return {k: v for k, v in body.items() if k not in ("as_of", "status_since")}


def test_as_of_any_day_answers_what_was_live_that_day(app, factory, clock):
    world = World(app, factory, clock)
    prior = enroll_patient(app, world.gate.prescriber, first_name="Prior")
    world.patients["prior"] = prior
    world.prior("prior", date(2025, 1, 6))  # many monthly items overdue since
    world.capture(world.at(0))

    world.at(1)
    world.patients["stopping"] = enroll_patient(app, world.gate.prescriber, first_name="Stop")
    world.capture(world.at(1))
    grant = world.request("treated")
    world.capture(world.at(2))
    for offset in (3, 4):
        world.dose(grant, world.at(offset))
    world.capture(world.at(4))
    for offset in (5, 6, 7):
        world.dose(grant, world.at(offset))
    world.capture(world.at(7))

    world.at(10)
    world.write(lambda admin, _: lifecycle.discontinue(
        db.session, world.patient("stopping"), admin, reason="Relapse"))  # fmt: skip
    world.capture(world.at(10))
    world.at(20)
    world.certification("prescriber", Transition.SUSPEND)
    world.certification("pharmacy_code", Transition.SUSPEND)
    world.capture(world.at(20))
    world.at(25)
    world.certification("prescriber", Transition.REINSTATE)
    world.certification("pharmacy_code", Transition.REINSTATE)
    world.capture(world.at(25))

    first_dose = START + timedelta(days=3)
    for month in (1, 2):
        day = world.at(31 * month + 3)
        world.results("treated", day)
        world.capture(day)
    world.capture(world.at(80))  # the third month's results are late

    world.at(100)
    world.patients["unused"] = enroll_patient(app, world.gate.prescriber, first_name="Unused")
    authorize(app, world.patients["unused"], world.gate.prescriber)
    unused = world.request("unused")
    world.capture(world.at(100))
    world.capture(world.at(140))  # the unused grant has expired
    assert world.captured[-1][1][unused]["status"] == "expired"

    world.at(150)
    world.prior("prior", date(2026, 1, 12))  # a second prior course, entered late
    world.capture(world.at(150))
    world.at(200)
    world.certification("site_code", Transition.SUSPEND)
    world.capture(world.at(200))
    world.at(210)
    world.certification("site_code", Transition.REINSTATE)
    world.write(lambda admin, doctor: lifecycle.close(
        db.session, world.patient("stopping"), doctor, close_reason="lost_to_follow_up",
        closed_on=START + timedelta(days=205), note="Letters unanswered.",
        today=START + timedelta(days=210)))  # fmt: skip
    world.capture(world.at(210))

    world.at(375)
    authorize(app, world.patients["treated"], world.gate.prescriber, start_in=1)
    second = world.request("treated")
    world.capture(world.at(375))
    for offset in (377, 378):
        world.dose(second, world.at(offset))
    world.capture(world.at(378))
    world.capture(world.at(399))

    assert first_dose < START + timedelta(days=31)
    kinds = {"prescriber", "pharmacy", "infusion site", "treated", "prior", grant, second}
    assert kinds <= set(world.captured[-1][1])
    seen = set()
    for day, live in world.captured:
        then = world.as_of(day)
        for name, answer in live.items():
            assert then.get(name) == answer, (day, name)
            seen.add((answer or {}).get("status"))
        _has_overdue_prior_treatment(live["prior"], day)
    assert {"suspended", "certified", "enrolled", "discontinued", "closed", "issued",
            "partially_used", "used", "expired"} <= seen  # fmt: skip


def _has_overdue_prior_treatment(answer: dict, day: date) -> None:
    """The patient whose only doses are prior treatment is never 'compliant, nothing due'."""
    monitoring = answer["monitoring"]
    assert monitoring["items_overdue"] > 0 and not monitoring["compliant"], (day, monitoring)
