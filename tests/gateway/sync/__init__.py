"""The background sync: its timing, due list, workers and housekeeping."""
