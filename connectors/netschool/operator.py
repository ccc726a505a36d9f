"""The operator-side API of a NetSchool region: roster lookups and issuing parents' logins.

The regional operator's account at the backend, not a parent's, makes these calls; the
instance setting ``operator_api_key`` carries it (sent as ``X-Operator-Key``). The emulator
serves the API under ``/__admin/netschool/``:

- ``GET roster?full_name=&birth_date=YYYY-MM-DD&school=&class_name=`` answers
  ``{"found": bool}``;
- ``POST credentials`` with JSON ``{full_name, birth_date, school, class_name, parent_name}``
  answers ``{"found": true, "login", "password", "school"}`` or ``{"found": false}``.

Without the key the instance checks no roster (None: "cannot say") and refuses to issue.
"""

from __future__ import annotations

import datetime as dt
import typing as t

from connectors.base import Credentials
from connectors.errors import AccessDenied
from connectors.errors import StudentNotFound
from connectors.errors import UnexpectedResponse

if t.TYPE_CHECKING:
    from connectors.netschool.client import NetSchoolClient
    from connectors.netschool.settings import NetSchoolSettings

ADMIN_PATH = "/__admin/netschool"


class OperatorApi:
    """Mixed into the NetSchool connector: ``ChecksRoster`` and ``IssuesCredentials``."""

    if t.TYPE_CHECKING:
        settings: NetSchoolSettings
        _client: NetSchoolClient

    def find_student(
        self, full_name: str, birth_date: dt.date, school: str, class_name: str
    ) -> bool | None:
        """Ask the roster whether the student is enrolled; None without operator access."""
        key = self.settings.operator_api_key
        if not key:
            return None
        answer = self._client.outside(
            "GET",
            f"{ADMIN_PATH}/roster",
            "operator roster",
            headers={"X-Operator-Key": key},
            params=_student(full_name, birth_date, school, class_name),
        )
        return _found(answer, "operator roster")

    def issue_credentials(
        self, full_name: str, birth_date: dt.date, school: str, class_name: str, parent_name: str
    ) -> Credentials:
        """Create the parent's school-issued login showing this student.

        :raise AccessDenied: when the instance has no operator key.
        :raise StudentNotFound: when the roster has no such student.
        """
        key = self.settings.operator_api_key
        if not key:
            raise AccessDenied("NetSchool: issuing logins needs an operator_api_key")
        body = {**_student(full_name, birth_date, school, class_name), "parent_name": parent_name}
        answer = self._client.outside(
            "POST",
            f"{ADMIN_PATH}/credentials",
            "operator credentials",
            headers={"X-Operator-Key": key},
            json=body,
        )
        if not _found(answer, "operator credentials"):
            raise StudentNotFound("NetSchool: no such student on the roster")
        try:
            return Credentials(
                login=str(answer["login"]),
                password=str(answer["password"]),
                school=str(answer.get("school") or school),
            )
        except (KeyError, TypeError) as err:
            raise UnexpectedResponse("NetSchool operator credentials: unexpected shape") from err


def _student(full_name: str, birth_date: dt.date, school: str, class_name: str) -> dict[str, str]:
    return {
        "full_name": full_name,
        "birth_date": birth_date.isoformat(),
        "school": school,
        "class_name": class_name,
    }


def _found(answer: t.Any, what: str) -> bool:
    if not isinstance(answer, dict) or not isinstance(answer.get("found"), bool):
        raise UnexpectedResponse(f"NetSchool {what}: unexpected shape")
    return bool(answer["found"])
