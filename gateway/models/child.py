"""School-issued credentials and the children linked through them."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Enum
from sqlalchemy import ForeignKey
from sqlalchemy import LargeBinary
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from gateway.models.base import Base
from gateway.models.base import utcnow
from gateway.models.connector import ConnectorInstance
from gateway.models.user import User
from gateway.services.names import repeats


class LinkStatus(enum.StrEnum):
    """Whether the gateway can still read a linked child's diary."""

    ACTIVE = "active"
    RELINK_REQUIRED = "relink_required"


class SchoolCredential(Base):
    """A parent's school-issued login at one connector instance, encrypted at rest.

    ``secret`` holds the vault's ciphertext of the login, password and school;
    ``backend_session`` the ciphertext of the connector's reusable session.
    """

    __tablename__ = "school_credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("connector_instances.id"))
    secret: Mapped[bytes] = mapped_column(LargeBinary)
    backend_session: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    verified_at: Mapped[dt.datetime | None]

    instance: Mapped[ConnectorInstance] = relationship()
    children: Mapped[list[ChildLink]] = relationship(back_populates="credential")

    def __repr__(self) -> str:
        """Name the row; never the secret."""
        return f"<SchoolCredential {self.id}>"


class ChildLink(Base):
    """A child a parent follows: a student at one backend, shown as Child1, Child2, ..."""

    __tablename__ = "child_links"
    __table_args__ = (UniqueConstraint("user_id", "instance_id", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    instance_id: Mapped[int] = mapped_column(ForeignKey("connector_instances.id"))
    credential_id: Mapped[int | None] = mapped_column(
        ForeignKey("school_credentials.id", ondelete="SET NULL")
    )
    external_id: Mapped[str] = mapped_column(String(128))
    display_name: Mapped[str] = mapped_column(String(64))
    full_name: Mapped[str] = mapped_column(String(255))
    school: Mapped[str | None] = mapped_column(String(255))
    class_name: Mapped[str | None] = mapped_column(String(32))
    position: Mapped[int] = mapped_column(default=0)
    status: Mapped[LinkStatus] = mapped_column(
        Enum(LinkStatus, native_enum=False, length=32), default=LinkStatus.ACTIVE
    )
    linked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)

    user: Mapped[User] = relationship()
    instance: Mapped[ConnectorInstance] = relationship()
    credential: Mapped[SchoolCredential | None] = relationship(back_populates="children")

    @property
    def real_name(self) -> str:
        """Return the child's surname and first name («Смирнов Максим»), no patronymic."""
        return " ".join((self.full_name or "").split()[:2])

    @property
    def names_repeat(self) -> bool:
        """Tell whether the parent named the account after the child («Полина» for Полина)."""
        return repeats(self.display_name, self.full_name or "")

    @property
    def label_parts(self) -> tuple[str, ...]:
        """Return the names a label shows: the account's and the child's, or one of them.

        A child the parent named after herself is shown once by her real name, so that no
        page reads «Полина — Смирнова Полина».
        """
        real = self.real_name
        if not real:
            return (self.display_name,)
        if self.names_repeat:
            return (real,)
        return (self.display_name, real)

    @property
    def label(self) -> str:
        """Return the account name with the real name beside it: «Child1 — Смирнов Максим»."""
        return " — ".join(self.label_parts)

    def __repr__(self) -> str:
        """Name the link by its display name only."""
        return f"<ChildLink {self.id} {self.display_name}>"
