"""Targets of the connector conformance kit for the built-in connectors."""
