"""Run the Telegram Bot API stand-in: ``python -m bot_mock [--port 9104]``."""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence

from werkzeug.serving import run_simple

from bot_mock import create_app


def main(argv: Sequence[str] | None = None) -> None:
    """Serve the stand-in until interrupted."""
    parser = argparse.ArgumentParser(prog="python -m bot_mock", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("TELEGRAM_PORT", 9104)))
    args = parser.parse_args(argv)
    run_simple(args.host, args.port, create_app(), threaded=True)


if __name__ == "__main__":
    main()
