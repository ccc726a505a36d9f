"""Typed SQLAlchemy models of the gateway, one module per aggregate."""

from __future__ import annotations

from gateway.models.application import AccessApplication
from gateway.models.application import ApplicationStatus
from gateway.models.base import Base
from gateway.models.child import ChildLink
from gateway.models.child import LinkStatus
from gateway.models.child import SchoolCredential
from gateway.models.connector import ConnectorInstance
from gateway.models.connector import InstanceEvent
from gateway.models.feed import CalendarFeed
from gateway.models.health import BackendCall
from gateway.models.ledger import LedgerCheckpoint
from gateway.models.ledger import LedgerHead
from gateway.models.ledger import LedgerLeaf
from gateway.models.ledger import LedgerNode
from gateway.models.ledger import LedgerOpening
from gateway.models.ledger import LedgerSubject
from gateway.models.notification import Notification
from gateway.models.notification import NotificationPreference
from gateway.models.notification import NotificationSettings
from gateway.models.notification import PushSubscription
from gateway.models.notification import TelegramBinding
from gateway.models.notification import TelegramChat
from gateway.models.notification import TelegramCursor
from gateway.models.record import ChangeKind
from gateway.models.record import RecordChange
from gateway.models.record import SyncedRecord
from gateway.models.role import RoleKind
from gateway.models.role import StaffRole
from gateway.models.session import UserSession
from gateway.models.snapshot import SectionSnapshot
from gateway.models.sync import Queue
from gateway.models.sync import SyncDue
from gateway.models.trust import AuditEvent
from gateway.models.trust import Grant
from gateway.models.trust import GrantScope
from gateway.models.trust import OutboxMessage
from gateway.models.user import PersonalDataConsent
from gateway.models.user import User

__all__ = [
    "AccessApplication",
    "ApplicationStatus",
    "BackendCall",
    "RoleKind",
    "StaffRole",
    "AuditEvent",
    "Grant",
    "GrantScope",
    "OutboxMessage",
    "Base",
    "CalendarFeed",
    "ChangeKind",
    "ChildLink",
    "ConnectorInstance",
    "InstanceEvent",
    "LedgerCheckpoint",
    "LedgerHead",
    "LedgerLeaf",
    "LedgerNode",
    "LedgerOpening",
    "LedgerSubject",
    "LinkStatus",
    "Notification",
    "NotificationPreference",
    "NotificationSettings",
    "PushSubscription",
    "TelegramBinding",
    "TelegramChat",
    "TelegramCursor",
    "PersonalDataConsent",
    "Queue",
    "RecordChange",
    "SchoolCredential",
    "SectionSnapshot",
    "SyncDue",
    "SyncedRecord",
    "User",
    "UserSession",
]
