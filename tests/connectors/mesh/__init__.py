"""Tests of the MESH connector."""
