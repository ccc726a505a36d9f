"""Pluggable connectors to regional school diary systems and their shared schema."""
