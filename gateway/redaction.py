"""Keep bearer secrets out of request logs: tokens in paths, codes and states in queries.

A request log line is a request line (and, in gunicorn's access log, a referrer): the
calendar feed's and the invitation's tokens sit in the path, and authorization codes,
states and ID-token hints sit in the query. Anyone who reads the log could use them.
:class:`RedactSecrets` is a :class:`logging.Filter` that rewrites a record's message
whatever logger it is put on: werkzeug's now, gunicorn's access log when the gateway runs
there (:func:`install` takes the logger names).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

from werkzeug.routing import Map

REDACTED = "[redacted]"
# Query parameters that carry a secret, in any request to the gateway or by its clients.
SECRET_PARAMETERS = frozenset(
    {
        "code",
        "state",
        "token",
        "id_token_hint",
        "id_token",
        "access_token",
        "refresh_token",
        "logout_token",
        "session_state",
        "code_verifier",
        "nonce",
        "client_secret",
        "password",
    }
)
# Route arguments that are bearer secrets: a URL that holds one grants access by itself.
SECRET_ARGUMENTS = frozenset({"token"})
REQUEST_LOGGERS = ("werkzeug", "gunicorn.access")
_SLASH = r"(?:/|%2[fF])"
_SEGMENT = r"[^/\s?#&\"'%]+"
_VARIABLE = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def secret_paths(url_map: Map) -> list[re.Pattern[str]]:
    """Return a pattern per route with a secret argument, matching it plain or URL-encoded.

    The secret is the pattern's one group; the route's fixed parts are kept, so a log still
    says which page was asked for (``/calendar/[redacted].ics``).
    """
    patterns = []
    for rule in url_map.iter_rules():
        if not SECRET_ARGUMENTS & set(rule.arguments):
            continue
        parts, last = [], 0
        for found in _VARIABLE.finditer(rule.rule):
            parts.append(_literal(rule.rule[last : found.start()]))
            secret = found[1] in SECRET_ARGUMENTS
            parts.append(f"({_SEGMENT})" if secret else f"(?:{_SEGMENT})")
            last = found.end()
        parts.append(_literal(rule.rule[last:]))
        patterns.append(re.compile("".join(parts)))
    return patterns


def _literal(text: str) -> str:
    return _SLASH.join(re.escape(piece) for piece in text.split("/"))


class RedactSecrets(logging.Filter):
    """Replace bearer secrets in a record's message with ``[redacted]``; never drop it."""

    def __init__(self, paths: Iterable[re.Pattern[str]] = ()) -> None:
        """Redact these path patterns' groups and every secret query parameter."""
        super().__init__()
        self.paths: list[re.Pattern[str]] = list(paths)
        names = "|".join(sorted(SECRET_PARAMETERS))
        # Also inside an encoded query, as in a sign-in's ?next=%2Fpage%3Fcode%3D...
        self._query = re.compile(
            rf"((?:[?&;]|%3[fF]|%26)(?:{names})(?:=|%3[dD]))[^&\s\"';#%]*", re.IGNORECASE
        )

    def redact(self, text: str) -> str:
        """Return ``text`` with every secret replaced."""
        text = self._query.sub(rf"\g<1>{REDACTED}", text)
        for pattern in self.paths:
            text = pattern.sub(_without_groups, text)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        """Rewrite the record's message (its arguments merged in) and let it through."""
        message = record.getMessage()
        redacted = self.redact(message)
        if redacted != message:
            record.msg, record.args = redacted, None
        return True


def _without_groups(match: re.Match[str]) -> str:
    text, start = match.group(0), match.start()
    for index in range(len(match.groups()), 0, -1):
        text = text[: match.start(index) - start] + REDACTED + text[match.end(index) - start :]
    return text


# One filter for the process: apps built in it share their secret routes.
FILTER = RedactSecrets()


def install(url_map: Map, loggers: Iterable[str] = REQUEST_LOGGERS) -> RedactSecrets:
    """Put the redacting filter on each request logger and teach it this app's routes."""
    known = {pattern.pattern for pattern in FILTER.paths}
    FILTER.paths.extend(p for p in secret_paths(url_map) if p.pattern not in known)
    for name in loggers:
        logger = logging.getLogger(name)
        if FILTER not in logger.filters:
            logger.addFilter(FILTER)
    return FILTER
