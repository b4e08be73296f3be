"""What every `python -m gateway` subcommand shares: argument errors in one line."""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

__all__ = ["ArgumentParser", "CliError"]


class CliError(Exception):
    """A problem the user can fix (a missing file, a bad flag); printed as one line, exit 1."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but a usage mistake is one line naming --help, not the whole usage block."""

    def error(self, message: str) -> NoReturn:
        print(f"error: {message} (see {self.prog} --help)", file=sys.stderr)
        raise SystemExit(2)
