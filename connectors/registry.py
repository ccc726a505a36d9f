"""Discover connector classes through the ``diary_gateway.connectors`` entry-point group."""

from __future__ import annotations

import functools
import logging
from collections.abc import Mapping
from importlib.metadata import entry_points

from connectors.base import Connector

ENTRY_POINT_GROUP = "diary_gateway.connectors"

log = logging.getLogger(__name__)


@functools.cache
def installed_connectors() -> Mapping[str, type[Connector]]:
    """Load every installed connector class once, keyed by its entry-point name."""
    found: dict[str, type[Connector]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            cls = ep.load()
        except (ImportError, AttributeError) as err:
            # One broken plug-in must not take every region down with it.
            log.error("connector %s cannot be loaded (%s); skipped", ep.name, err)
            continue
        if not isinstance(cls, type) or not hasattr(cls, "from_settings"):
            log.warning("entry point %s does not name a connector class; skipped", ep.name)
            continue
        found[ep.name] = cls
    return found
