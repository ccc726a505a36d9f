"""What each person wants to hear of, and the notifications planned for them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import String
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from gateway.models.base import Base


class NotificationSettings(Base):
    """A person's quiet hours, digest time and time zone (none stored: the defaults)."""

    __tablename__ = "notification_settings"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    # Instant news waits from ``quiet_from`` to ``quiet_until`` unless urgent; equal: none.
    quiet_from: Mapped[dt.time]
    quiet_until: Mapped[dt.time]
    digest_at: Mapped[dt.time]
    # An IANA zone; None: the child's region's.
    time_zone: Mapped[str | None] = mapped_column(String(64))
    # E-mail at all (one-click unsubscribe turns it off), and with marks and comments in it.
    email: Mapped[bool] = mapped_column(default=True)
    details: Mapped[bool] = mapped_column(default=False)


class NotificationPreference(Base):
    """How a person hears of one kind of news of one child: instant, digest or off."""

    __tablename__ = "notification_preferences"
    __table_args__ = (UniqueConstraint("user_id", "link_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    link_id: Mapped[int] = mapped_column(ForeignKey("child_links.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    delivery: Mapped[str] = mapped_column(String(8))


class Notification(Base):
    """One change to tell one person by one channel, and when to send it.

    Unique per person, channel and change: a change planned twice (two workers, a retried
    sync) is told once. Several due at once for one person and channel go out as one
    message (a burst, a digest).
    """

    __tablename__ = "notifications"
    __table_args__ = (UniqueConstraint("user_id", "channel", "change_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    link_id: Mapped[int] = mapped_column(ForeignKey("child_links.id", ondelete="CASCADE"))
    change_id: Mapped[int] = mapped_column(ForeignKey("record_changes.id", ondelete="CASCADE"))
    channel: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    delivery: Mapped[str] = mapped_column(String(8))
    urgent: Mapped[bool] = mapped_column(default=False)
    low: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime]
    due_at: Mapped[dt.datetime]
    sent_at: Mapped[dt.datetime | None]
    # Failed sends so far; each waits longer before the next try.
    attempts: Mapped[int] = mapped_column(default=0)
    # The sender about to send it, until when: other senders pass it by meanwhile, and a
    # sender that died leaves it to the next once the claim has run out.
    claimed_by: Mapped[str | None] = mapped_column(String(32))
    claimed_until: Mapped[dt.datetime | None]


# The sender reads what is due and unsent, oldest first.
Index("ix_notifications_due", Notification.sent_at, Notification.due_at)


class PushSubscription(Base):
    """A browser's Web Push subscription (RFC 8030), owned by the person signed in there.

    The endpoint is the push service's address for that browser, unique: the same browser
    subscribing again, or under another person, replaces the row. ``p256dh`` and ``auth``
    are the browser's keys (base64url) the messages are encrypted to (RFC 8291).
    """

    __tablename__ = "push_subscriptions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    endpoint: Mapped[str] = mapped_column(String(2048), unique=True)
    p256dh: Mapped[str] = mapped_column(String(128))
    auth: Mapped[str] = mapped_column(String(64))
    # What the person sees in the list of their devices: «Chrome, Android».
    device: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[dt.datetime]
    last_sent_at: Mapped[dt.datetime | None]


class TelegramChat(Base):
    """The Telegram chat a person bound to the gateway's bot; inactive once they blocked it."""

    __tablename__ = "telegram_chats"

    user_id: Mapped[int] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    chat_id: Mapped[int] = mapped_column(BigInteger)
    # Who Telegram says the chat is («Ирина»), for the person's own page.
    name: Mapped[str] = mapped_column(String(64))
    active: Mapped[bool] = mapped_column(default=True)
    bound_at: Mapped[dt.datetime]


class TelegramBinding(Base):
    """A one-time deep-link token that binds the chat which sends it to a person.

    Only its SHA-256 is kept: the link is the person's to open, and a leaked table must not
    let anyone else bind their chat. It works once, for a few minutes.
    """

    __tablename__ = "telegram_bindings"

    digest: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    expires_at: Mapped[dt.datetime]


class TelegramCursor(Base):
    """The next update the bot asks Telegram for (getUpdates' offset): one row."""

    __tablename__ = "telegram_cursor"

    id: Mapped[int] = mapped_column(primary_key=True)
    next_update: Mapped[int] = mapped_column(BigInteger)
