"""Count wrong passwords per login and lock it for a while, as the regional systems do."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field


@dataclass
class _Failures:
    count: int = 0
    locked_until: float = 0.0


@dataclass
class Lockout:
    """Lock a login after ``attempts`` wrong passwords in a row, for ``seconds``."""

    attempts: int
    seconds: float
    clock: Callable[[], float]
    _failures: dict[str, _Failures] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def locked(self, key: str) -> bool:
        """Tell whether a login is locked; a lock that ran out is forgotten."""
        with self._lock:
            failures = self._failures.get(key)
            if failures is None or not failures.locked_until:
                return False
            if self.clock() < failures.locked_until:
                return True
            del self._failures[key]
            return False

    def fail(self, key: str) -> int:
        """Count a wrong password; return the attempts left (0: the login is now locked)."""
        with self._lock:
            failures = self._failures.setdefault(key, _Failures())
            failures.count += 1
            left = self.attempts - failures.count
            if left <= 0:
                failures.locked_until = self.clock() + self.seconds
            return max(left, 0)

    def succeed(self, key: str) -> None:
        """Forget the wrong passwords of a login."""
        with self._lock:
            self._failures.pop(key, None)
