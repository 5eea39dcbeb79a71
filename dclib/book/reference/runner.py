"""The reference runner: the papers' protocol on full data, computed once, committed.

``dclib reference`` runs a declared plan of jobs (``plan(profile)``): each job is one
page recipe (``dclib.book.recipes``) for one dataset and seed, e.g. "the DCSS runs on
mnist5k, seed 0" (AE + k-means on the conv AE, DCSS_u, DCSS). Jobs go through
submitit: its local executor on one machine (at most ``max_parallel`` at once), or
SLURM on a cluster (``executor="slurm"``, with partition and GPUs per job). Each job

- resumes: every stage checkpoints after each epoch in the run cache, so a job
  killed at any moment continues where it stopped and ends with the metrics of an
  uninterrupted run; a run whose result the job has written is not rerun, and a job
  with all its results is skipped;
- writes one JSON per run atomically as soon as that run ends (a machine lost
  between two runs keeps the first), under ``results/reference/<profile>/
  <dataset>/<run>/seed=<s>.json``: metrics, history, a hash of the labels, the
  config, and the provenance (git commit, dclib source hash, profile, device, torch
  version, date, the job's wall time when the run ended, and the command that
  reproduces it). No weights;
- fails alone: a failing job is reported at the end and never touches another's
  results.

Pages read these files with ``dclib.book.reference.store``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

from dclib import storage
from dclib.book import catalog, claims, papers, provenance, recipes
from dclib.book.cache import RESULTS_DIR, RunResult, source_hash
from dclib.book.params import OneLineParser
from dclib.book.profiles import start_run
from dclib.book.reference import jobs as plans
from dclib.book.reference.jobs import REFERENCE_PROFILES, Job, dataset
from dclib.book.reference.store import epochs_by_stage, format_seconds, result_path
from dclib.storage import array_hash
from dclib.train import PROGRESS_ENV

RECIPES = (*papers.RECIPES, "grids")
"""the page recipes a job can run (``papers.RECIPES``: a paper module's
``reference_runs``; ``grids``: a page's grid studies, ``compute_grids``)"""


def plan(profile: str, seeds: Sequence[int] = (0,)) -> list[Job]:
    """The declared jobs of a profile: per seed, each paper module's
    ``reference_jobs`` in the book's order (the baselines' MLP methods on
    Fashion-MNIST, cheapest first; DSSL, DCSS and DML on the conv-AE data; DynAE and
    R-DC), then the grid studies (sweeps, imbalance, paper vs code) of the pages
    that have them, on the conv-AE data: many runs each, the longest jobs, last.
    Before those, one job per sensitivity statement of the claims ledger
    (``claims.Robustness``) computes that study alone."""
    grids_data = dataset(profile, "conv")
    ledger = [c for c in claims.CLAIMS if isinstance(c, claims.Robustness)]
    jobs = []
    for seed in seeds:
        for module in papers.RECIPES.values():
            jobs += papers.reference_jobs(module, profile, seed)
        jobs += [ledger_grids(c, profile, seed) for c in ledger]
        jobs += [Job("grids", grids_data, seed, {"page": p}) for p in papers.GRIDS]
    return jobs


def ledger_grids(claim: claims.Robustness, profile: str, seed: int) -> Job:
    """The job of a sensitivity statement: its study alone on the claim's data, at
    the CPU caps of its page's runs, binding every run of the study."""
    args = {"page": claim.paper, "study": claim.study}
    entries = catalog.page_runs(claim.paper)
    found = plans.job("grids", claim.data, profile, seed, entries, args)
    return dataclasses.replace(found, capped_runs=())


def run_names(job: Job) -> tuple[str, ...]:
    """The runs a job writes (their result folders), in the order it computes them."""
    if job.recipe == "grids":
        return (plans.grids_name(job.args["page"], job.args.get("study")),)
    return papers.reference_names(_paper(job), **job.args)


def _paper(job: Job) -> ModuleType:
    """The paper module (``dclib.book.papers``) whose recipe ``job`` runs."""
    if job.recipe not in papers.RECIPES:
        raise ValueError(f"unknown recipe {job.recipe!r}; choose one of {RECIPES}")
    return papers.RECIPES[job.recipe]


def _runs_of_job(
    job: Job, run, todo: Sequence[str]
) -> Iterator[tuple[str, RunResult, Any]]:
    """Execute the job's recipe for the runs ``todo`` (of ``run_names(job)``),
    yielding ``(run name, RunResult, config)`` as each run ends (a recipe that
    computes several runs at once yields them together), each run at the job's caps
    for it (``Job.stage_cap``)."""
    if not todo:
        return
    ds = recipes.page_data(run, job.dataset)
    yield from _paper(job).reference_runs(
        lambda name: _capped(run, job, name), ds, job.seed, todo, **job.args
    )


def run_job(job: Job, profile: str, device: str = "auto", root: str | None = None):
    """Run one job (in whatever process submitit gives it), writing each run's
    result as soon as that run ends; returns the paths written. A run whose result
    file this job has written already is kept, not rerun: a job stopped between its
    runs (a session's end) goes on with the next one."""
    root_dir = Path(root) if root is not None else RESULTS_DIR
    run = start_run(
        profile=profile, dataset=job.dataset, seeds=[job.seed], device=device
    )
    run = _capped(run, job)
    todo = [n for n in run_names(job) if not _written(job, profile, root_dir, n)]
    written = []
    tic = time.perf_counter()
    for name, body in _records_of_job(job, run, todo):
        stamp = provenance.stamp(run.device) | {
            "dclib_source": source_hash(),
            "profile": profile,
            "job_wall_seconds": round(time.perf_counter() - tic, 1),
            "command": f"dclib reference --profile {profile} --only {job.name}",
        }
        path = result_path(root_dir, profile, job.dataset, name, job.seed)
        head = {"job": job.name, "run": name, "dataset": job.dataset, "seed": job.seed}
        head |= {
            "pretrain_cap": job.pretrain_cap,
            "clustering_cap": job.stage_cap(name),
        }
        storage.write_json(path, head | body | {"provenance": stamp})
        written.append(str(path))
    return written


def _capped(run, job: Job, name: str | None = None):
    """``run`` at ``job``'s caps for its run ``name`` (``Job.stage_cap``), on its
    shared network's seed (``Job.pretrain_seed``)."""
    profile = dataclasses.replace(
        run.profile,
        pretrain_epochs=job.pretrain_cap,
        clustering_epochs=job.stage_cap(name),
        pretrain_seed=job.pretrain_seed,
    )
    return dataclasses.replace(run, profile=profile)


def _records_of_job(
    job: Job, run, todo: Sequence[str]
) -> Iterator[tuple[str, dict[str, Any]]]:
    """The job's results for the runs ``todo`` as they end, ``(run name, record)``
    as written (without provenance): a run's metrics, history, labels' hash and
    config; a ``grids`` job's studies (``grids.Grids.to_json``)."""
    if job.recipe == "grids":
        page, study = job.args["page"], job.args.get("study")
        if plans.grids_name(page, study) not in todo:
            return
        ds = recipes.page_data(run, job.dataset)
        only = None if study is None else (study,)
        found = papers.GRIDS[page].compute_grids(run, ds, only)
        yield plans.grids_name(page, study), found.to_json()
        return
    for name, result, cfg in _runs_of_job(job, run, todo):
        yield (
            name,
            {
                "n_samples": int(len(result.labels)),
                "config": dataclasses.asdict(cfg),
                "metrics": result.metrics,
                "labels_sha256": array_hash(result.labels),
                "train_seconds": round(
                    sum(r.get("seconds", 0.0) for r in result.history), 1
                ),
                "monitor_seconds": round(
                    sum(r.get("monitor_seconds", 0.0) for r in result.history), 1
                ),
                "epochs": epochs_by_stage(result.history),
                "history": result.history,
            },
        )


def _written(job: Job, profile: str, root: Path, name: str) -> bool:
    """Whether ``job`` has written its run ``name``'s result under ``root``."""
    path = result_path(root, profile, job.dataset, name, job.seed)
    try:
        return json.loads(path.read_text()).get("job") == job.name
    except (OSError, ValueError):
        return False


def finished(job: Job, profile: str, root: Path) -> bool:
    """Whether every run of ``job`` has its result file (a rerun skips the job)."""
    return all(_written(job, profile, root, n) for n in run_names(job))


# --- dispatch ----------------------------------------------------------------------


def _progress(folder: Path, job: Job) -> str:
    path = folder / f"{job.name}.progress.json"
    try:
        p = json.loads(path.read_text())
    except (OSError, ValueError):
        return "starting"
    done, total = p["epoch"], p["epochs"]
    if not p["seconds"]:
        return f"{p['stage']} epoch {done}/{total}, stage ETA after its first epoch"
    eta = p["seconds"] / max(done, 1) * (total - done)
    return f"{p['stage']} epoch {done}/{total}, stage ETA {format_seconds(eta)}"


def make_executor(kind: str, folder: Path, **slurm: Any):
    """A submitit executor: "local" (subprocesses), "debug" (in this process) or
    "slurm" (``slurm``: partition, gpus_per_node, timeout_min, cpus_per_task)."""
    import submitit

    if kind not in ("local", "debug", "slurm"):
        raise ValueError(f"executor must be local, debug or slurm, got {kind!r}")
    executor = submitit.AutoExecutor(folder=folder, cluster=kind)
    params = {"timeout_min": slurm.pop("timeout_min", 24 * 60)}
    if kind == "slurm":
        params |= {f"slurm_{k}": v for k, v in slurm.items() if v is not None}
    executor.update_parameters(**params)
    return executor


def run_plan(
    jobs: Sequence[Job],
    profile: str,
    *,
    executor: str = "local",
    device: str = "auto",
    max_parallel: int = 1,
    root: Path | None = None,
    poll_seconds: float = 30.0,
    slurm: dict | None = None,
    log=print,
) -> dict[str, str]:
    """Run ``jobs`` (finished ones skipped) through submitit, at most
    ``max_parallel`` at once; prints progress; returns ``{job name: "done" | "skipped"
    | "failed: ..."}``. Jobs of one recipe that share runs (a DML base and the DCSS
    page's DCSS_u) share them through the run cache."""
    root = RESULTS_DIR if root is None else Path(root)
    logs = root / "reference" / profile / ".submitit"
    logs.mkdir(parents=True, exist_ok=True)
    ex = make_executor(executor, logs, **(slurm or {}))
    status: dict[str, str] = {}
    todo = []
    for job in jobs:
        if finished(job, profile, root):
            status[job.name] = "skipped"
            log(f"skip (finished): {job.name}")
        else:
            todo.append(job)
    started: dict[str, float] = {}
    running: dict[str, tuple[Job, Any]] = {}
    total, tic = len(todo), time.perf_counter()
    last_report = 0.0
    while todo or running:
        while todo and len(running) < max_parallel:
            job = todo.pop(0)
            os.environ[PROGRESS_ENV] = str(logs / f"{job.name}.progress.json")
            handle = ex.submit(run_job, job, profile, device, str(root))
            running[job.name], started[job.name] = (job, handle), time.perf_counter()
            log(f"start [{len(status) + len(running)}/{len(jobs)}] {job.name}")
        for name, (_, handle) in list(running.items()):
            if not handle.done():
                continue
            del running[name]
            took = format_seconds(time.perf_counter() - started[name])
            try:
                handle.result()
                status[name] = "done"
                log(f"done {name} in {took}")
            except Exception as err:  # one failure must not stop the others
                status[name] = f"failed: {type(err).__name__}: {str(err)[-500:]}"
                log(f"FAILED {name} after {took}: {status[name]}")
        now = time.perf_counter()
        if running and now - last_report >= poll_seconds:
            last_report = now
            for name, (job, _) in running.items():
                log(
                    f"  {name}: {_progress(logs, job)}, job elapsed "
                    f"{format_seconds(now - started[name])}, plan elapsed "
                    f"{format_seconds(now - tic)} ({total - len(todo) - len(running)}"
                    f"/{total} finished)"
                )
        if running:
            time.sleep(min(poll_seconds, 1.0))
    os.environ.pop(PROGRESS_ENV, None)
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """``dclib reference``: run (or resume) the reference plan; exit 1 if a job
    failed, 2 for bad usage."""
    parser = OneLineParser(prog="dclib reference", description=__doc__)
    parser.add_argument("--profile", default="full", choices=REFERENCE_PROFILES)
    parser.add_argument(
        "--executor", default="local", choices=("local", "slurm", "debug")
    )
    parser.add_argument("--device", default="auto", help="auto | cpu | cuda")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--only", nargs="+", help="job names to run (see --list)")
    parser.add_argument("--list", action="store_true", help="list the plan's jobs")
    parser.add_argument(
        "--max-parallel", type=int, default=max(1, (os.cpu_count() or 2) // 2)
    )
    parser.add_argument("--partition", help="SLURM partition")
    parser.add_argument("--gpus-per-job", type=int, help="SLURM GPUs per job")
    parser.add_argument("--timeout-min", type=int, default=24 * 60)
    args = parser.parse_args(argv)
    jobs = plan(args.profile, args.seeds)
    if args.list:
        for job in jobs:
            print(job.name)
        return 0
    if args.only:
        unknown = sorted(set(args.only) - {j.name for j in jobs})
        if unknown:
            parser.error(f"unknown job(s) {unknown}; --list shows the plan")
        jobs = [j for j in jobs if j.name in args.only]
    slurm = {
        "partition": args.partition,
        "gpus_per_node": args.gpus_per_job,
        "timeout_min": args.timeout_min,
    }
    status = run_plan(
        jobs,
        args.profile,
        executor=args.executor,
        device=args.device,
        max_parallel=args.max_parallel,
        slurm=slurm,
    )
    failed = {k: v for k, v in status.items() if v.startswith("failed")}
    for name, why in failed.items():
        print(f"failed: {name}: {why}", file=sys.stderr)
    print(f"{len(status) - len(failed)} of {len(status)} jobs done or skipped")
    return 1 if failed else 0


__all__ = [
    "Job",
    "main",
    "plan",
    "run_job",
    "run_plan",
]
