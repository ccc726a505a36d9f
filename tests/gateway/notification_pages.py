"""Read and fill the notification preferences page, as a browser would."""

from __future__ import annotations

import re


def selected(page: str) -> list[str]:
    """Return each delivery select's chosen value, in page order."""
    selects = re.findall(r'<select[^>]*name="deliveries-\d+"[^>]*>(.*?)</select>', page, re.S)
    found = [re.search(r'<option selected value="(\w+)"', s) for s in selects]
    return [match[1] for match in found if match]


def filled(page: str, **fields: str) -> dict[str, str]:
    """Return the page's form as shown, with ``fields`` changed (the e-mail box ticked)."""
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    data = {"quiet_from": "21:00", "quiet_until": "08:00", "digest_at": "19:00"}
    data.update({"time_zone": "", "email": "y"})
    if token:  # the fake app's tests run with CSRF off; test_forms.py posts with it on
        data["csrf_token"] = token[1]
    for index, value in enumerate(selected(page)):
        data[f"deliveries-{index}"] = value
    data.update(fields)
    return data
