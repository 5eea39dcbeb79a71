"""Command line: ``dclib execute`` runs the book's notebooks (``make book`` uses it)."""

from __future__ import annotations

import argparse
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="dclib", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser(
        "execute",
        help="execute the notebooks of _toc.yml with papermill into book/_executed/",
    )
    ex.add_argument("--profile", default="quick", help="smoke | quick | paper")
    ex.add_argument("--only", nargs="*", help="notebook stems to run (default: all)")
    ex.add_argument("--force", action="store_true", help="ignore the run cache")
    args = parser.parse_args(argv)

    from dclib.book import execute_all

    try:
        execute_all(args.profile, only=args.only, force=args.force)
    except ValueError as err:
        parser.error(str(err))


if __name__ == "__main__":
    main()
