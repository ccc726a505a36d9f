"""Tests of the Dnevnik.ru connector."""
