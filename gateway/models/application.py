"""A parent's application for a school-issued login, reviewed by the region's operator."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Enum
from sqlalchemy import ForeignKey
from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from gateway.models.base import Base
from gateway.models.base import utcnow
from gateway.models.connector import ConnectorInstance
from gateway.models.user import User


class ApplicationStatus(enum.StrEnum):
    """Where an application stands."""

    SUBMITTED = "submitted"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    REFUSED = "refused"


class AccessApplication(Base):
    """What a parent asked for, and what the operator decided.

    ``documents`` is the vault's ciphertext of the birth-certificate and passport numbers;
    ``documents_masked`` what may be shown (``IV-ЕР ****56``). Both are erased
    (``documents_erased_at``) once the retention period after the decision has passed.
    """

    __tablename__ = "access_applications"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("connector_instances.id"), index=True)
    child_full_name: Mapped[str] = mapped_column(String(255))
    child_birth_date: Mapped[dt.date]
    school: Mapped[str] = mapped_column(String(255))
    class_name: Mapped[str] = mapped_column(String(32))
    # How the parent wants the child shown once linked (Child1 when the parent left it).
    display_name: Mapped[str | None] = mapped_column(String(64))
    applicant_full_name: Mapped[str] = mapped_column(String(255))
    applicant_birth_date: Mapped[dt.date]
    relation: Mapped[str] = mapped_column(String(16))
    documents: Mapped[bytes | None] = mapped_column(LargeBinary)
    certificate_masked: Mapped[str | None] = mapped_column(String(32))
    passport_masked: Mapped[str | None] = mapped_column(String(32))
    documents_erased_at: Mapped[dt.datetime | None]
    consent_at: Mapped[dt.datetime]
    status: Mapped[ApplicationStatus] = mapped_column(
        Enum(ApplicationStatus, native_enum=False, length=16), default=ApplicationStatus.SUBMITTED
    )
    submitted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    due_on: Mapped[dt.date]
    attempts: Mapped[int] = mapped_column(default=1)
    decided_at: Mapped[dt.datetime | None]
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    refusal_reason: Mapped[str | None] = mapped_column(String(32))
    refusal_text: Mapped[str | None] = mapped_column(Text)
    child_link_id: Mapped[int | None] = mapped_column(
        ForeignKey("child_links.id", ondelete="SET NULL")
    )
    notice_seen: Mapped[bool] = mapped_column(default=False)

    user: Mapped[User] = relationship(foreign_keys=[user_id])
    instance: Mapped[ConnectorInstance] = relationship()

    def __repr__(self) -> str:
        """Name the application without personal data."""
        return f"<AccessApplication {self.id} {self.status}>"
