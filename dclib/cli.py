"""Command line: ``dclib execute`` runs the book's pages (``make book`` uses it),
``dclib run`` runs one method, ``dclib reference`` runs the reference plan (``make
reference``), ``dclib scoreboard`` prints the cross-paper leaderboard of the results
on disk.

Exit status: 0 on success; 2 for bad usage or input (an unknown page, parameter,
method, dataset or config field, a value of the wrong type), with one line on stderr
and nothing run or written; 1 for a failure while running, with a short message.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from dclib.book import params
from dclib.book.params import OneLineParser
from dclib.book.profiles import start_run
from dclib.models import PRECISIONS

USAGE = 2
"""exit status of bad usage or input"""
FAILURE = 1
"""exit status of a failure while running"""


@contextlib.contextmanager
def exits(
    status: int,
    errors: tuple[type[BaseException], ...],
    prog: str,
    describe: Callable[[Any], str] = str,
) -> Iterator[None]:
    """Turn ``errors`` raised inside into exit ``status`` with ``prog: message`` on
    stderr (``describe(error)``) and no traceback."""
    try:
        yield
    except errors as err:
        print(f"{prog}: {describe(err)}", file=sys.stderr)
        raise SystemExit(status) from None


def _failure(err: Exception) -> str:
    """An error while running, as its type and message."""
    return f"{type(err).__name__}: {err}"


def _cell_error(err: Any) -> str:
    """papermill's error of a cell, as the exception it raised."""
    return (
        f"cell In [{err.exec_count}] raised {err.ename}: {err.evalue} (the page's "
        "notebook is kept as book/_executed/<page>.failed.ipynb)"
    )


def _parser() -> argparse.ArgumentParser:
    parser = OneLineParser(prog="dclib", description=__doc__)
    version = importlib.metadata.version("dclib")
    parser.add_argument("--version", action="version", version=f"dclib {version}")
    sub = parser.add_subparsers(dest="command", required=True)

    ex = sub.add_parser(
        "execute",
        help="execute the pages of _toc.yml with papermill into book/_executed/, "
        "printing a line per cell",
    )
    ex.add_argument("pages", nargs="*", help="page stems to run (default: all)")
    ex.add_argument("--profile", default="quick", help="smoke | quick | full | paper")
    ex.add_argument("--only", nargs="*", default=[], help="page stems to run")
    ex.add_argument(
        "-p",
        "--parameter",
        nargs=2,
        action="append",
        default=[],
        metavar=("NAME", "VALUE"),
        dest="parameters",
        help="a parameter of the pages' cell tagged parameters (profile, dataset, "
        "seeds, device, ...), its value read as a Python literal ([0, 1], None, 3) "
        "or as text; checked against the page before any cell runs",
    )
    ex.add_argument("--force", action="store_true", help="ignore the run cache")
    ex.add_argument(
        "--jobs",
        type=int,
        default=1,
        help="pages run at once, each with its share of the cores (make book: one "
        "per core)",
    )
    ex.set_defaults(command_fn=_execute)

    run = sub.add_parser(
        "run",
        help="run one method through the run cache and print its ACC, NMI and ARI",
    )
    run.add_argument("method", nargs="?", help="a method (dclib run --list)")
    run.add_argument("--dataset", help="a dataset (default: the profile's)")
    run.add_argument("--profile", default="quick", help="smoke | quick | full | paper")
    run.add_argument("--seed", type=int, help="default: the profile's first seed")
    run.add_argument("--device", default="auto", help="auto | cpu | cuda | cuda:N")
    run.add_argument(
        "--precision",
        default="fp32",
        choices=PRECISIONS,
        help="how the networks compute: bf16 autocasts their layers (fp32 weights "
        "and losses), 1.9x as fast for the MLP autoencoder on a CPU with AVX-512 BF16",
    )
    run.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        dest="fields",
        help="a field of the method's config (pretrain.n_epochs for a nested one), "
        "set after the profile's caps",
    )
    run.add_argument("--list", action="store_true", help="list methods and datasets")
    run.set_defaults(command_fn=_run)

    board = sub.add_parser(
        "scoreboard",
        help="print the cross-paper leaderboard of the results on disk (the committed "
        "reference, then the pages' runs)",
    )
    board.add_argument("--profile", help="only this profile (full, paper, quick, ...)")
    board.add_argument("--dataset", help="only this dataset")
    board.add_argument("--csv", action="store_true", help="CSV instead of text tables")
    board.set_defaults(command_fn=_scoreboard)

    bench = sub.add_parser(
        "bench",
        help="time every method's epochs (beside ClustPy's where installed), fp32 "
        "against bf16 and the cost's growth with N; write the benchmark JSON that "
        "the performance page reads",
    )
    bench.add_argument("--threads", type=int, default=2, help="torch threads")
    bench.add_argument(
        "--out", help="the JSON to write (default results/bench/cpu.json)"
    )
    bench.add_argument(
        "--smoke", action="store_true", help="a minute's tiny run (the tests')"
    )
    bench.set_defaults(command_fn=_bench)

    sub.add_parser(
        "reference",
        add_help=False,
        help="run or resume the reference plan (dclib reference --help)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    parser = _parser()
    args, rest = parser.parse_known_args(argv)
    if args.command == "reference":
        from dclib.book.reference.runner import main as reference

        sys.exit(reference(rest))
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")
    prog = f"dclib {args.command}"
    with exits(FAILURE, (Exception,), prog, _failure):
        args.command_fn(args, prog)


def _execute(args: argparse.Namespace, prog: str) -> None:
    """``dclib execute``: check the pages and parameters, then execute the pages."""
    from papermill.exceptions import PapermillExecutionError

    from dclib.book import executor

    parameters = {"profile": args.profile}
    parameters |= {name: params.parse(text) for name, text in args.parameters}
    pages = args.pages + args.only
    with exits(USAGE, (ValueError,), prog):
        if args.jobs < 1:
            raise ValueError(f"--jobs must be at least 1, got {args.jobs}")
        executor.plan(parameters, pages)
    with exits(FAILURE, (PapermillExecutionError,), prog, _cell_error):
        executor.execute_all(parameters, only=pages, force=args.force, jobs=args.jobs)


def _method_input(ds: Any, method: str, cfg: Any) -> Any:
    """The data ``method`` clusters on its page: DML's as its base takes them, a
    conv-AE method's through ``recipes.conv_input`` (8x8 digits as vectors), any
    other's as loaded."""
    from dclib.book import recipes
    from dclib.book.papers import dml

    if method == "dml":
        return dml.data_for(ds, cfg.base)
    if getattr(cfg, "autoencoder", "mlp") != "mlp":
        return recipes.conv_input(ds)
    return ds


def _run(args: argparse.Namespace, prog: str) -> None:
    """``dclib run``: one method on one dataset and seed, through the run cache."""
    if args.list:
        _print_list()
        return
    from dclib.book import cache, recipes
    from dclib.methods import get_method

    with exits(USAGE, (ValueError,), prog):
        if args.method is None:
            raise ValueError("name a METHOD (dclib run --list shows them)")
        method = get_method(args.method)
        if method.needs_start:
            raise ValueError(
                f"{method.name} continues a trained model ({method.summary}), which "
                "dclib run does not train; run the method that trains both stages "
                "(dcss for DCSS)"
            )
        run = start_run(
            profile=args.profile,
            dataset=args.dataset,
            seeds=args.seed,
            device=args.device,
        )
        texts = dict(map(params.split_assignment, args.fields))
        ds = recipes.page_data(run)
        base = recipes.config(run, method.name, ds)
        cfg, values = params.set_fields(base, texts)
        ds = _method_input(ds, method.name, cfg)
    precision = {} if args.precision == "fp32" else {"precision": args.precision}
    tag = cache.setting_tag(values | precision)
    result = recipes.runs_of(run, method.name, cfg, ds, run.seed, tag, **precision)
    m = result.metrics
    print(
        f"{method.name}{tag} on {ds.name} ({run.profile.name} profile, seed "
        f"{run.seed}): ACC {m['acc']:.4f}  NMI {m['nmi']:.4f}  ARI {m['ari']:.4f}"
    )
    where = cache.run_dir(method.name + tag, ds.name, run.profile.name, run.seed)
    print(f"result: {where}")


def _bench(args: argparse.Namespace, prog: str) -> None:
    """``dclib bench``: the benchmark, written with its provenance."""
    from dclib.book import bench

    with exits(USAGE, (ValueError,), prog):
        if args.threads < 1:
            raise ValueError(f"--threads must be at least 1, got {args.threads}")
    scale = bench.SMOKE if args.smoke else bench.FULL
    out = bench.run(scale, args.threads, args.out)
    print(f"benchmark: {out}")


def _scoreboard(args: argparse.Namespace, prog: str) -> None:
    """``dclib scoreboard``: one leaderboard table per profile and dataset found
    (``--csv``: all of them as one CSV, with profile and dataset columns)."""
    import pandas as pd

    from dclib.book import leaderboard

    tables = [
        table.assign(profile=profile, dataset=dataset)
        for profile, dataset, table in leaderboard.scoreboards()
        if args.profile in (None, profile) and args.dataset in (None, dataset)
    ]
    with exits(USAGE, (ValueError,), prog):
        if not tables:
            raise ValueError(
                "no results on disk for that choice: `make book` and `dclib "
                "reference` write them, and results/reference/ holds the committed ones"
            )
    if args.csv:
        print(pd.concat(tables).to_csv(index_label="method"), end="")
        return
    for table in tables:
        where = f"{table['dataset'].iloc[0]}, profile {table['profile'].iloc[0]}"
        print(f"\n== {where} ==")
        print(table.drop(columns=["our protocol", "profile", "dataset"]).to_string())


def _print_list() -> None:
    """``dclib run --list``: every method with its summary, every dataset."""
    from dclib import data
    from dclib.methods import REGISTRY

    print("methods:")
    width = max(map(len, [*REGISTRY, *data.DATASETS]))
    for name, method in REGISTRY.items():
        note = " (needs a trained start: not run here)" if method.needs_start else ""
        print(f"  {name:<{width}}  {method.summary}{note}")
    print("datasets (offline: no download):")
    for name in data.DATASETS:
        mark = "offline" if name in data.OFFLINE else "download=True once"
        print(f"  {name:<{width}}  {mark}")


if __name__ == "__main__":
    main()
