"""The gateway's logic: plain functions and classes over a SQLAlchemy session, no Flask."""
