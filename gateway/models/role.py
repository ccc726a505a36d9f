"""Staff roles: administrators, and regional operators of one region each."""

from __future__ import annotations

import datetime as dt
import enum

from sqlalchemy import Enum
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import func
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from gateway.models.base import Base
from gateway.models.base import utcnow
from gateway.models.user import User


class RoleKind(enum.StrEnum):
    """What a role lets a person do."""

    ADMIN = "admin"
    OPERATOR = "operator"


class StaffRole(Base):
    """A role held by a person, or waiting for them to sign in for the first time.

    A person exists only after their first sign-in, so a role may be granted to a verified
    phone or e-mail instead: ``user_id`` is then None until that person signs in
    (``services.roles.claim_pending``). ``region_code`` is set for operators only.
    """

    __tablename__ = "staff_roles"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[RoleKind] = mapped_column(Enum(RoleKind, native_enum=False, length=16))
    region_code: Mapped[str | None] = mapped_column(String(16), index=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    phone: Mapped[str | None] = mapped_column(String(32))
    email: Mapped[str | None] = mapped_column(String(255))
    granted_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    granted_by: Mapped[str | None] = mapped_column(String(255))

    user: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        """Name the role without the person's contacts."""
        return f"<StaffRole {self.id} {self.kind} {self.region_code or ''}>"


# One grant per role, region and holder. NULLs never collide in a unique index, so they are
# compared as empty values: a second admin grant (no region) to the same person collides too.
Index(
    "uq_staff_roles_holder",
    StaffRole.kind,
    func.coalesce(StaffRole.region_code, ""),
    func.coalesce(StaffRole.user_id, 0),
    func.coalesce(StaffRole.phone, ""),
    func.coalesce(StaffRole.email, ""),
    unique=True,
)
