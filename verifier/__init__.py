"""An offline verifier for the gateway's transparency log: checkpoints and proof bundles.

It stands on its own (the standard library and ``cryptography``), so that whoever holds a
bundle (a parent, a school, an ombudsman) can check it without trusting the gateway's code.
Run ``python -m verifier --help``.
"""
