"""Typed SQLAlchemy models of the gateway, one module per aggregate."""

from __future__ import annotations

from gateway.models.base import Base
from gateway.models.child import ChildLink
from gateway.models.child import LinkStatus
from gateway.models.child import SchoolCredential
from gateway.models.connector import ConnectorInstance
from gateway.models.session import UserSession
from gateway.models.snapshot import SectionSnapshot
from gateway.models.user import PersonalDataConsent
from gateway.models.user import User

__all__ = [
    "Base",
    "ChildLink",
    "ConnectorInstance",
    "LinkStatus",
    "PersonalDataConsent",
    "SchoolCredential",
    "SectionSnapshot",
    "User",
    "UserSession",
]
