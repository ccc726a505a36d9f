"""An offline verifier for the gateway's transparency log: checkpoints and proof bundles.

It stands on its own (the standard library, ``cryptography``, and ``rfc3161-client`` for the
timestamps), so that whoever holds a bundle (a parent, a school, an ombudsman) can check it
without trusting the gateway's code.
Run ``python -m verifier --help``.
"""
