"""Tests of the regional connectors."""
