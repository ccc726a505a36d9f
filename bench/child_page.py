"""How many backend requests one child's page costs, with a fresh and a reused session.

Run from the repository root: ``.venv/bin/python -m bench.child_page``. It starts the same
stack as ``bench.family_page``, links Ирина's three children, then for each child opens
the grades page twice with no cached sections: once after the backend ended every session
(the gateway notices, renews its session and fetches again), once with the session reused.
A link made on the system's own page (Dnevnik.ru as a partner) has no password to sign in
with: when the backend revokes its tokens, the parent is asked to relink. It prints the
requests each emulator received; it asserts nothing.
"""

from __future__ import annotations

import sys
from collections import Counter

import requests

from bench.family_page import TIMEOUT
from bench.family_page import Stack
from bench.family_page import backend_stats
from bench.family_page import children
from bench.family_page import clear_snapshots
from bench.family_page import link_children
from bench.family_page import running_stack
from bench.family_page import sign_in


def end_backend_sessions(stack: Stack, emulator: str) -> None:
    """Make the backend end every session it gave out, as a night's expiry would."""
    url = f"{stack.emulators[emulator]}/__admin/faults"
    requests.post(url, json={"expire_sessions": True}, timeout=TIMEOUT).raise_for_status()


def requests_for_page(
    stack: Stack, browser: requests.Session, child_id: int, emulator: str
) -> Counter[str]:
    """Open a child's grades page with nothing cached; return the emulator's requests."""
    clear_snapshots(stack)
    before = backend_stats(stack)[emulator]
    reply = browser.get(f"{stack.gateway}/child/{child_id}?section=grades", timeout=TIMEOUT)
    reply.raise_for_status()
    return backend_stats(stack)[emulator] - before


def main() -> int:
    """Print the request counts per child."""
    with running_stack() as stack:
        browser = sign_in(stack)
        link_children(stack, browser)
        print(f"{'child':34} {'system':11} {'fresh session':>14} {'reused session':>15}")
        for child_id, connector, name in children(stack):
            emulator = connector  # the emulators are keyed by connector name
            reused = requests_for_page(stack, browser, child_id, emulator)
            end_backend_sessions(stack, emulator)
            fresh = requests_for_page(stack, browser, child_id, emulator)
            print(f"{name:34} {connector:11} {sum(fresh.values()):>14} {sum(reused.values()):>15}")
            print(f"    fresh:  {dict(fresh)}")
            print(f"    reused: {dict(reused)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
