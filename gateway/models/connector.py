"""Connector instances that regional operators register."""

from __future__ import annotations

import typing as t

from sqlalchemy import JSON
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from gateway.models.base import Base


class ConnectorInstance(Base):
    """One regional backend: region, connector type, base URL and settings."""

    __tablename__ = "connector_instances"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(64), unique=True)
    region_code: Mapped[str] = mapped_column(String(16))
    region_name: Mapped[str] = mapped_column(String(255))
    connector: Mapped[str] = mapped_column(String(64))
    base_url: Mapped[str] = mapped_column(String(512))
    settings: Mapped[dict[str, t.Any]] = mapped_column(JSON, default=dict)
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Moscow")
    concurrency_limit: Mapped[int] = mapped_column(default=8)
    enabled: Mapped[bool] = mapped_column(default=True)

    def __repr__(self) -> str:
        """Name the instance; settings may hold partner secrets, so they stay out."""
        return f"<ConnectorInstance {self.key} {self.connector}>"
