"""Command line: ``dclib execute`` runs the book's notebooks (``make book`` uses
it); ``dclib reference`` runs the reference plan (``make reference``)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="dclib", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser(
        "execute",
        help="execute the notebooks of _toc.yml with papermill into book/_executed/, "
        "printing a line per cell",
    )
    ex.add_argument("--profile", default="quick", help="smoke | quick | paper")
    ex.add_argument("--only", nargs="*", help="notebook stems to run (default: all)")
    ex.add_argument("--force", action="store_true", help="ignore the run cache")
    sub.add_parser(
        "reference",
        add_help=False,
        help="run or resume the reference plan (dclib reference --help)",
    )
    args, rest = parser.parse_known_args(argv)
    if args.command == "reference":
        from dclib.reference import main as reference

        sys.exit(reference(rest))
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")

    from dclib.executor import NotebookOutputError, execute_all

    try:
        execute_all(args.profile, only=args.only, force=args.force)
    except ValueError as err:
        parser.error(str(err))
    except NotebookOutputError as err:
        sys.exit(f"dclib execute: {err}")


if __name__ == "__main__":
    main()
