"""Build a pure-Python wheel from a tiny pyproject project with the standard library only.

The venv's setuptools cannot build wheels offline (it lacks ``bdist_wheel``), so the plug-in
test builds the wheel itself and lets pip install it: the installation, the ``.dist-info``
and the entry-point metadata are still pip's own.
"""

from __future__ import annotations

import base64
import hashlib
import tomllib
import typing as t
import zipfile
from pathlib import Path


def _digest(data: bytes) -> str:
    """Return a RECORD hash: urlsafe base64 of the sha256, without padding."""
    raw = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=")
    return f"sha256={raw.decode()}"


def _metadata(project: dict[str, t.Any]) -> dict[str, str]:
    """Return the dist-info files (but RECORD) of a ``[project]`` table."""
    lines: list[str] = []
    for group, entries in (project.get("entry-points") or {}).items():
        lines.append(f"[{group}]")
        lines += [f"{name} = {target}" for name, target in entries.items()]
    return {
        "METADATA": (
            f"Metadata-Version: 2.1\nName: {project['name']}\nVersion: {project['version']}\n"
        ),
        "WHEEL": (
            "Wheel-Version: 1.0\nGenerator: diary-gateway-tests\n"
            "Root-Is-Purelib: true\nTag: py3-none-any\n"
        ),
        "entry_points.txt": "\n".join(lines) + "\n",
    }


def build_wheel(source: Path, out: Path) -> Path:
    """Build ``source`` (pyproject with ``[tool.setuptools] packages``) into ``out``."""
    config = tomllib.loads((source / "pyproject.toml").read_text(encoding="utf-8"))
    project = config["project"]
    dist = str(project["name"]).replace("-", "_")
    info = f"{dist}-{project['version']}.dist-info"
    files = {
        path.relative_to(source).as_posix(): path.read_bytes()
        for package in config["tool"]["setuptools"]["packages"]
        for path in sorted((source / package).rglob("*.py"))
    }
    files |= {f"{info}/{name}": text.encode() for name, text in _metadata(project).items()}
    record = [f"{name},{_digest(data)},{len(data)}" for name, data in files.items()]
    files[f"{info}/RECORD"] = ("\n".join([*record, f"{info}/RECORD,,"]) + "\n").encode()
    out.mkdir(parents=True, exist_ok=True)
    wheel = out / f"{dist}-{project['version']}-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return wheel
