"""Access applications: a parent asks the region for a school-issued login; an operator decides.

The parent's name and date of birth must be those the identity provider verified; the
document numbers are sealed by the vault, shown masked, and erased ``retention`` after the
decision (:func:`purge`). Every operator view of them is in the parent's audit log. An
approval creates the login through the connector when it ``IssuesCredentials`` (or takes the
one the operator typed) and links the child to the parent at once.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm import selectinload

from connectors.base import ChecksRoster
from connectors.base import Connector
from connectors.base import Credentials
from connectors.base import IssuesCredentials
from connectors.errors import ConnectorError
from gateway.models import AccessApplication
from gateway.models import ApplicationStatus
from gateway.models import ChildLink
from gateway.models import ConnectorInstance
from gateway.models import User
from gateway.services import audit
from gateway.services import documents
from gateway.services import outbox
from gateway.services.access import children_of
from gateway.services.linking import Linker
from gateway.services.vault import Vault

RELATIONS = ("mother", "father", "guardian")
REASONS = (
    "name_mismatch",
    "birth_date_mismatch",
    "different_applicant",
    "no_such_student",
    "other",
)
OPEN = (ApplicationStatus.SUBMITTED, ApplicationStatus.IN_REVIEW)
DUE_WORKING_DAYS = 3


class ApplicationError(ValueError):
    """An application cannot be accepted or decided as asked; ``str()`` is a code."""


class DifferentApplicant(ApplicationError):
    """The applicant is not the person the identity provider verified."""

    def __init__(self) -> None:
        """Carry the one reason the parent is told."""
        super().__init__("different_applicant")


class NeedsCredentials(ApplicationError):
    """This backend cannot issue logins: the operator must type the school-issued one."""

    def __init__(self) -> None:
        """Carry the code."""
        super().__init__("needs_credentials")


@dataclass(frozen=True, slots=True, kw_only=True)
class ApplicationInput:
    """What the parent typed; a document left None on resubmission keeps the stored one."""

    instance_id: int
    child_full_name: str
    child_birth_date: dt.date
    certificate: str | None
    school: str
    class_name: str
    applicant_full_name: str
    applicant_birth_date: dt.date
    passport: str | None
    relation: str
    display_name: str | None = None


def working_days_after(start: dt.date, days: int = DUE_WORKING_DAYS) -> dt.date:
    """Return the date ``days`` working days (Monday to Friday) after ``start``.

    Public holidays are not counted out: the production calendar is out of scope.
    """
    day = start
    while days:
        day += dt.timedelta(days=1)
        if day.weekday() < 5:
            days -= 1
    return day


def _norm(name: str) -> str:
    return " ".join(name.casefold().replace("ё", "е").split())


def same_name(a: str, b: str) -> bool:
    """Tell whether two spellings name the same person (case, «ё» and spacing aside)."""
    return bool(a.strip()) and _norm(a) == _norm(b)


def check_applicant(user: User, data: ApplicationInput) -> None:
    """Refuse at once unless the applicant is the verified person.

    :raise DifferentApplicant: when the name or date of birth differs from the claims.
    """
    if not same_name(data.applicant_full_name, user.full_name):
        raise DifferentApplicant
    if user.birth_date is None or data.applicant_birth_date != user.birth_date:
        raise DifferentApplicant


def _fill(
    application: AccessApplication, data: ApplicationInput, vault: Vault, now: dt.datetime
) -> None:
    """Copy the input in, sealing the documents; the stored ones stay when none are given."""
    if data.relation not in RELATIONS:
        raise ApplicationError("relation")
    stored = vault.decrypt(application.documents) if application.documents else {}
    cert = documents.certificate(data.certificate) if data.certificate else stored.get("cert")
    pasp = documents.passport(data.passport) if data.passport else stored.get("passport")
    if not cert:
        raise documents.InvalidDocument("certificate")
    if not pasp:
        raise documents.InvalidDocument("passport")
    for name in (
        "instance_id",
        "child_full_name",
        "child_birth_date",
        "school",
        "class_name",
        "applicant_full_name",
        "applicant_birth_date",
        "relation",
        "display_name",
    ):
        value = getattr(data, name)
        setattr(application, name, " ".join(value.split()) if isinstance(value, str) else value)
    application.documents = vault.encrypt({"cert": cert, "passport": pasp})
    application.certificate_masked = documents.mask_certificate(cert)
    application.passport_masked = documents.mask_passport(pasp)
    application.documents_erased_at = None
    application.status = ApplicationStatus.SUBMITTED
    application.submitted_at = now
    application.consent_at = now
    application.due_on = working_days_after(now.date())
    application.decided_at = application.decided_by = None
    application.refusal_reason = application.refusal_text = None


def submit(
    session: Session, user: User, data: ApplicationInput, *, vault: Vault, now: dt.datetime
) -> AccessApplication:
    """File a new application (consent given with it).

    :raise DifferentApplicant: when the applicant is not the verified person.
    :raise documents.InvalidDocument: for a document number out of format.
    """
    check_applicant(user, data)
    application = AccessApplication(user_id=user.id, attempts=1)
    _fill(application, data, vault, now)
    session.add(application)
    session.flush()
    return application


def resubmit(
    session: Session,
    application: AccessApplication,
    data: ApplicationInput,
    *,
    vault: Vault,
    now: dt.datetime,
) -> AccessApplication:
    """Correct a refused application and file it again.

    :raise ApplicationError: ``state`` unless it was refused; as :func:`submit` otherwise.
    """
    if application.status is not ApplicationStatus.REFUSED:
        raise ApplicationError("state")
    check_applicant(application.user, data)
    _fill(application, data, vault, now)
    application.attempts += 1
    session.flush()
    return application


def prefill(application: AccessApplication) -> dict[str, t.Any]:
    """Return what a correction form starts from: everything but the document numbers."""
    fields = (
        "child_full_name",
        "child_birth_date",
        "school",
        "class_name",
        "relation",
        "display_name",
    )
    return {
        "instance": application.instance.key,
        "applicant_full_name": application.applicant_full_name,
        "applicant_birth_date": application.applicant_birth_date,
        **{name: getattr(application, name) for name in fields},
    }


def of_parent(session: Session, user: User) -> list[AccessApplication]:
    """Return a parent's applications, newest first."""
    return list(
        session.scalars(
            select(AccessApplication)
            .where(AccessApplication.user_id == user.id)
            .options(selectinload(AccessApplication.instance))
            .order_by(AccessApplication.submitted_at.desc(), AccessApplication.id.desc())
        )
    )


def own(session: Session, user: User, application_id: int) -> AccessApplication:
    """Return the parent's own application.

    :raise LookupError: when it is not theirs (or does not exist).
    """
    application = session.get(AccessApplication, application_id)
    if application is None or application.user_id != user.id:
        raise LookupError(application_id)
    return application


def by_id(session: Session, application_id: int) -> AccessApplication | None:
    """Return the application with this id, whoever's it is (the operator checks the region)."""
    return session.get(AccessApplication, application_id)


def take_notices(session: Session, user: User) -> list[AccessApplication]:
    """Return decisions the parent has not been shown yet, and mark them shown."""
    fresh = [
        a
        for a in of_parent(session, user)
        if a.status in (ApplicationStatus.APPROVED, ApplicationStatus.REFUSED) and not a.notice_seen
    ]
    for application in fresh:
        application.notice_seen = True
    session.flush()
    return fresh


def queue(
    session: Session, regions: t.Collection[str], *, include_decided: bool = False
) -> list[AccessApplication]:
    """Return the applications of these regions, by due date (open ones only by default)."""
    query = (
        select(AccessApplication)
        .join(ConnectorInstance, AccessApplication.instance_id == ConnectorInstance.id)
        .where(ConnectorInstance.region_code.in_(list(regions)))
        .options(selectinload(AccessApplication.instance), selectinload(AccessApplication.user))
        .order_by(AccessApplication.due_on, AccessApplication.id)
    )
    if not include_decided:
        query = query.where(AccessApplication.status.in_(OPEN))
    return list(session.scalars(query))


def is_overdue(application: AccessApplication, today: dt.date) -> bool:
    """Tell whether an open application is past its due date."""
    return application.status in OPEN and application.due_on < today


def open_for_review(
    session: Session, application: AccessApplication, operator: User, *, now: dt.datetime
) -> None:
    """Record that an operator looked at the application (and its masked documents)."""
    if application.status is ApplicationStatus.SUBMITTED:
        application.status = ApplicationStatus.IN_REVIEW
    _audit(session, application, operator, "application_viewed", now)


def reveal_documents(
    session: Session,
    application: AccessApplication,
    operator: User,
    *,
    vault: Vault,
    now: dt.datetime,
) -> dict[str, str]:
    """Return the full document numbers for an operator, and log that they were shown."""
    if application.documents is None:
        return {}
    _audit(session, application, operator, "application_documents_revealed", now)
    return {k: str(v) for k, v in vault.decrypt(application.documents).items()}


def roster_hint(application: AccessApplication, *, connector: Connector) -> bool | None:
    """Ask the backend whether the child is on the roster; None when it cannot say."""
    if not isinstance(connector, ChecksRoster):
        return None
    try:
        return connector.find_student(
            application.child_full_name,
            application.child_birth_date,
            application.school,
            application.class_name,
        )
    except ConnectorError:
        return None


def _audit(
    session: Session, application: AccessApplication, actor: User, kind: str, now: dt.datetime
) -> None:
    audit.record(
        session,
        owner_id=application.user_id,
        actor_id=actor.id,
        kind=kind,
        now=now,
        detail=f"application {application.id}",
    )


def _decide(
    session: Session, application: AccessApplication, operator: User, now: dt.datetime
) -> None:
    if application.status not in OPEN:
        raise ApplicationError("state")
    application.decided_at = now
    application.decided_by = operator.id
    application.notice_seen = False


def refuse(
    session: Session,
    application: AccessApplication,
    operator: User,
    *,
    reason: str,
    text: str | None,
    now: dt.datetime,
) -> None:
    """Refuse with a reason from the list ("other" needs a text), and tell the parent.

    :raise ApplicationError: ``reason`` for an unknown reason or "other" without text.
    """
    if reason not in REASONS or (reason == "other" and not (text or "").strip()):
        raise ApplicationError("reason")
    _decide(session, application, operator, now)
    application.status = ApplicationStatus.REFUSED
    application.refusal_reason = reason
    application.refusal_text = (text or "").strip() or None
    _audit(session, application, operator, "application_refused", now)
    _tell(session, application, "Заявка на доступ к дневнику отклонена", now)


def approve(
    session: Session,
    application: AccessApplication,
    operator: User,
    *,
    connector: Connector,
    vault: Vault,
    now: dt.datetime,
    entered: Credentials | None = None,
) -> ChildLink:
    """Approve: get the school-issued login, link the child to the parent, tell them.

    :raise NeedsCredentials: when the backend cannot issue logins and none was entered.
    :raise ConnectorError: when the backend refuses (nothing is stored then).
    :raise linking.NoStudents: when the login shows no students.
    """
    if application.status not in OPEN:
        raise ApplicationError("state")
    credentials = entered or _issued(connector, application)
    linker = Linker(
        session=session,
        user=application.user,
        instance=application.instance,
        connector=connector,
        vault=vault,
        now=now,
    )
    linked = linker.with_password(credentials)
    wanted = _norm(application.child_full_name)
    # Some systems show «Фамилия Имя» only (NetSchool's nick name).
    child = next((c for c in linked.children if wanted.startswith(_norm(c.full_name))), None)
    child = child or linked.children[0]
    _name_new_child(session, application, child, linked.new)
    _decide(session, application, operator, now)
    application.status = ApplicationStatus.APPROVED
    application.child_link_id = child.id
    _audit(session, application, operator, "application_approved", now)
    _tell(session, application, "Заявка одобрена: ребёнок добавлен на страницу семьи", now)
    return child


def _name_new_child(
    session: Session, application: AccessApplication, child: ChildLink, new: list[ChildLink]
) -> None:
    """Give a newly linked child the parent's name for it; one linked before keeps its own.

    A prefilled ChildN another child took since the application keeps the linker's free one.
    """
    wanted = application.display_name
    if child not in new or not wanted:
        return
    others = {c.display_name for c in children_of(session, application.user) if c is not child}
    if wanted not in others:
        child.display_name = wanted
        session.flush()


def _issued(connector: Connector, application: AccessApplication) -> Credentials:
    if not isinstance(connector, IssuesCredentials):
        raise NeedsCredentials
    return connector.issue_credentials(
        application.child_full_name,
        application.child_birth_date,
        application.school,
        application.class_name,
        application.applicant_full_name,
    )


def _tell(session: Session, application: AccessApplication, subject: str, now: dt.datetime) -> None:
    user = application.user
    channel, recipient = ("sms", user.phone) if user.phone else ("email", user.email)
    if not recipient:
        return
    outbox.queue(
        session,
        channel=channel,
        recipient=recipient,
        subject=subject,
        body=f"{subject}. Подробности: раздел «Заявки» на странице «Привязать ребёнка».",
        now=now,
        payload={"application": application.id},
    )


def purge(session: Session, *, now: dt.datetime, retention: dt.timedelta) -> int:
    """Erase the document numbers of applications decided more than ``retention`` ago."""
    due = list(
        session.scalars(
            select(AccessApplication).where(
                AccessApplication.decided_at.is_not(None),
                AccessApplication.decided_at < now - retention,
                AccessApplication.documents_erased_at.is_(None),
            )
        )
    )
    for application in due:
        application.documents = None
        application.certificate_masked = application.passport_masked = None
        application.documents_erased_at = now
    session.flush()
    return len(due)
