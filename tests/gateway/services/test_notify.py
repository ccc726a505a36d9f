"""Who hears of a sync's news, and when: the parent and the trusted persons of that section,
by their preferences, after their quiet hours unless urgent, in their digest; once each."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from sqlalchemy import select
from sqlalchemy.orm import Session

from connectors.schema import Attendance
from connectors.schema import AttendanceKind
from connectors.schema import Section
from gateway.models import ChildLink
from gateway.models import Grant
from gateway.models import GrantScope
from gateway.models import Notification
from gateway.models import NotificationPreference
from gateway.models import NotificationSettings
from gateway.models import RecordChange
from gateway.models import User
from gateway.services import notify
from gateway.services import records
from gateway.services.notify import Schedule
from gateway.services.snapshots import aware
from tests.gateway.services.test_records import MONDAY
from tests.gateway.services.test_records import grade
from tests.gateway.services.test_records import make_link

MOSCOW = ZoneInfo("Europe/Moscow")
NOON = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)  # 12:00 in Moscow
NIGHT = dt.datetime(2026, 12, 7, 20, 0, tzinfo=dt.UTC)  # 23:00 in Moscow


@pytest.fixture
def link(session: Session, engine: sa.Engine) -> ChildLink:
    link = session.get(ChildLink, make_link(engine))
    assert link is not None
    session.get(User, link.user_id).email = "maria@example.ru"  # type: ignore[union-attr]
    session.commit()
    return link


def _changes(
    session: Session,
    link: ChildLink,
    found: list[object],
    *,
    at: dt.datetime,
    section: Section = Section.GRADES,
) -> list[RecordChange]:
    records.apply(
        session,
        link_id=link.id,
        section=section,
        window=None,
        records=[],
        seen_at=at,
        baseline=True,
    )
    return records.apply(
        session,
        link_id=link.id,
        section=section,
        window=None,
        records=found,
        seen_at=at,
        baseline=False,
    )


def _planned(session: Session) -> list[tuple[int, str, bool, dt.datetime]]:
    rows = session.scalars(select(Notification).order_by(Notification.id))
    return [(n.user_id, n.kind, n.low, aware(n.due_at)) for n in rows]


def test_a_low_mark_at_noon_goes_to_the_parent_at_once_and_only_once(
    session: Session, link: ChildLink
) -> None:
    changes = _changes(session, link, [grade("g1", "2")], at=NOON)
    assert notify.plan(session, link, changes, now=NOON) == 1
    assert notify.plan(session, link, changes, now=NOON) == 0  # the same change again
    session.commit()
    assert _planned(session) == [(link.user_id, "mark", True, NOON)]


def test_a_parent_without_an_email_address_gets_no_row(session: Session, link: ChildLink) -> None:
    session.get(User, link.user_id).email = None  # type: ignore[union-attr]
    changes = _changes(session, link, [grade("g1")], at=NOON)
    assert notify.plan(session, link, changes, now=NOON) == 0


def test_quiet_hours_hold_instant_news_till_morning_but_not_truancy(
    session: Session, link: ChildLink
) -> None:
    marks = _changes(session, link, [grade("g1")], at=NIGHT)
    absences = _changes(
        session,
        link,
        [Attendance(date=MONDAY, kind=AttendanceKind.UNEXCUSED, subject="Физика", lesson_number=3)],
        at=NIGHT,
        section=Section.ATTENDANCE,
    )
    notify.plan(session, link, marks + absences, now=NIGHT)
    morning = dt.datetime(2026, 12, 8, 8, 0, tzinfo=MOSCOW).astimezone(dt.UTC)
    assert [(kind, due) for _, kind, _, due in _planned(session)] == [
        ("mark", morning),
        ("absence", NIGHT),
    ]


def test_digest_news_waits_for_the_digest_hour(session: Session, link: ChildLink) -> None:
    session.add(
        NotificationPreference(
            user_id=link.user_id, link_id=link.id, kind="mark", delivery="digest"
        )
    )
    notify.plan(session, link, _changes(session, link, [grade("g1")], at=NOON), now=NOON)
    evening = dt.datetime(2026, 12, 7, 19, 0, tzinfo=MOSCOW).astimezone(dt.UTC)
    assert [due for *_, due in _planned(session)] == [evening]


def test_news_turned_off_is_not_planned(session: Session, link: ChildLink) -> None:
    session.add(
        NotificationPreference(user_id=link.user_id, link_id=link.id, kind="mark", delivery="off")
    )
    assert (
        notify.plan(session, link, _changes(session, link, [grade("g1")], at=NOON), now=NOON) == 0
    )


def test_a_persons_own_zone_and_quiet_hours_are_kept(session: Session, link: ChildLink) -> None:
    session.add(
        NotificationSettings(
            user_id=link.user_id,
            quiet_from=dt.time(13, 0),
            quiet_until=dt.time(15, 30),
            digest_at=dt.time(20, 0),
            time_zone="Asia/Yekaterinburg",
        )
    )
    # 14:00 in Yekaterinburg (UTC+5) is quiet: the mark waits for 15:30 there.
    notify.plan(session, link, _changes(session, link, [grade("g1")], at=NOON), now=NOON)
    after = dt.datetime(2026, 12, 7, 15, 30, tzinfo=ZoneInfo("Asia/Yekaterinburg"))
    assert [due for *_, due in _planned(session)] == [after.astimezone(dt.UTC)]


def _trusted(
    session: Session, link: ChildLink, sections: list[str], *, revoked: bool = False
) -> int:
    person = User(
        issuer="http://idp.test", subject="granny", full_name="Петрова Галина", email="g@example.ru"
    )
    session.add(person)
    session.flush()
    grant = Grant(
        owner_id=link.user_id,
        invitee_name="Петрова Галина",
        invitation_expires_at=NOON + dt.timedelta(days=7),
        grantee_id=person.id,
        accepted_at=NOON - dt.timedelta(days=1),
        active_from=NOON - dt.timedelta(days=1),
        revoked_at=NOON - dt.timedelta(hours=1) if revoked else None,
    )
    grant.scopes.append(GrantScope(link_id=link.id, sections=sections))
    session.add(grant)
    session.flush()
    return person.id


def test_a_trusted_person_hears_only_of_the_granted_sections(
    session: Session, link: ChildLink
) -> None:
    granny = _trusted(session, link, ["attendance"])
    marks = _changes(session, link, [grade("g1")], at=NOON)
    absences = _changes(
        session,
        link,
        [Attendance(date=MONDAY, kind=AttendanceKind.ILL, subject="Физика", lesson_number=1)],
        at=NOON,
        section=Section.ATTENDANCE,
    )
    notify.plan(session, link, marks + absences, now=NOON)
    heard = {(user, kind) for user, kind, *_ in _planned(session)}
    assert heard == {(link.user_id, "mark"), (link.user_id, "absence"), (granny, "absence")}


def test_a_revoked_grant_hears_nothing(session: Session, link: ChildLink) -> None:
    _trusted(session, link, ["grades"], revoked=True)
    notify.plan(session, link, _changes(session, link, [grade("g1")], at=NOON), now=NOON)
    assert {user for user, *_ in _planned(session)} == {link.user_id}


def test_a_grant_revoked_after_planning_is_told_nothing_and_its_news_dropped(
    session: Session, link: ChildLink
) -> None:
    granny = _trusted(session, link, ["grades"])
    notify.plan(session, link, _changes(session, link, [grade("g1")], at=NOON), now=NOON)
    session.commit()
    assert {user for user, *_ in _planned(session)} == {link.user_id, granny}
    grant = session.scalars(select(Grant)).one()
    grant.revoked_at = NOON + dt.timedelta(minutes=1)
    session.commit()
    later = NOON + dt.timedelta(minutes=2)
    due = notify.due(session, channel=notify.EMAIL, now=later)
    assert [n.user_id for n in due] == [link.user_id]
    session.commit()
    assert {user for user, *_ in _planned(session)} == {link.user_id}  # hers deleted


def test_the_baseline_plans_nothing(session: Session, link: ChildLink) -> None:
    baseline = records.apply(
        session,
        link_id=link.id,
        section=Section.GRADES,
        window=None,
        records=[grade("g1")],
        seen_at=NOON,
        baseline=True,
    )
    assert baseline == [] and notify.plan(session, link, baseline, now=NOON) == 0


@pytest.mark.parametrize(
    ("start", "end", "local", "quiet"),
    [
        (dt.time(21), dt.time(8), dt.time(23), True),
        (dt.time(21), dt.time(8), dt.time(7, 59), True),
        (dt.time(21), dt.time(8), dt.time(8), False),
        (dt.time(13), dt.time(15), dt.time(14), True),
        (dt.time(13), dt.time(15), dt.time(15), False),
        (dt.time(0), dt.time(0), dt.time(3), False),
    ],
)
def test_quiet_hours_may_span_midnight(
    start: dt.time, end: dt.time, local: dt.time, quiet: bool
) -> None:
    schedule = Schedule(start, end, dt.time(19), MOSCOW)
    moment = dt.datetime.combine(MONDAY, local, tzinfo=MOSCOW)
    assert schedule.is_quiet(moment) is quiet


def test_due_notifications_are_read_oldest_first(session: Session, link: ChildLink) -> None:
    notify.plan(
        session, link, _changes(session, link, [grade("g1"), grade("g2")], at=NIGHT), now=NIGHT
    )
    assert notify.due(session, channel=notify.EMAIL, now=NIGHT) == []  # quiet till morning
    later = dt.datetime(2026, 12, 8, 5, 0, tzinfo=dt.UTC)
    due = notify.due(session, channel=notify.EMAIL, now=later)
    assert [n.kind for n in due] == ["mark", "mark"]


def test_notifications_older_than_the_keep_are_forgotten(session: Session, link: ChildLink) -> None:
    notify.plan(session, link, _changes(session, link, [grade("g1")], at=NOON), now=NOON)
    later = NOON + dt.timedelta(days=31)
    notify.plan(session, link, _changes(session, link, [grade("g2")], at=later), now=later)
    assert notify.forget_old(session, now=later, keep=dt.timedelta(days=30)) == 1
    assert [kind for _, kind, _, _ in _planned(session)] == ["mark"]


def test_a_persons_news_is_never_split_between_two_reads(
    session: Session, link: ChildLink, engine: sa.Engine
) -> None:
    other = session.get(ChildLink, make_link(engine, "s2"))
    assert other is not None
    session.get(User, other.user_id).email = "other@example.ru"  # type: ignore[union-attr]
    notify.plan(
        session, link, _changes(session, link, [grade("a1"), grade("a2")], at=NOON), now=NOON
    )
    later = NOON + dt.timedelta(minutes=1)
    notify.plan(session, other, _changes(session, other, [grade("b1")], at=later), now=later)
    first = notify.due(session, channel=notify.EMAIL, now=later, people=1)
    assert [n.user_id for n in first] == [link.user_id, link.user_id]  # both of hers, not one
    assert {n.user_id for n in notify.due(session, channel=notify.EMAIL, now=later, people=2)} == {
        link.user_id,
        other.user_id,
    }
