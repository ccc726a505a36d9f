"""The provider's database holds people's password hashes: readable by the provider alone."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path

START = """
import sys
from idp_mock import create_app
create_app({"IDP_ISSUER": "http://127.0.0.1:9000", "IDP_DATABASE_URL": sys.argv[1],
            "SECRET_KEY": "idp-test-secret"})
assert "gateway" not in sys.modules
"""


def test_the_first_start_creates_the_database_and_its_folder_private(tmp_path: Path) -> None:
    database = tmp_path / "instance" / "idp_mock.sqlite3"
    # A process of its own, as the provider runs: nothing of the gateway is loaded there.
    subprocess.run([sys.executable, "-c", START, f"sqlite:///{database}"], check=True, timeout=60)
    assert stat.S_IMODE(database.stat().st_mode) == 0o600
    assert stat.S_IMODE(database.parent.stat().st_mode) == 0o700
