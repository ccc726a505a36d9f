"""Tests of the OpenID provider mock, one module per endpoint."""

from __future__ import annotations
