"""Tests of the NetSchool connector."""
