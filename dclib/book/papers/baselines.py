"""The baselines page: AE + k-means, DEC, IDEC, DCN and DKM on the MLP autoencoder,
under the protocol every paper page shares."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import partial
from typing import Any

import numpy as np
import pandas as pd
import torch
from sklearn.cluster import KMeans

from dclib import functional as Fn
from dclib.book import catalog, recipes
from dclib.book.cache import RunResult, cached_pretraining, seed_mean
from dclib.book.paper_tables import paper_results
from dclib.book.profiles import Run
from dclib.book.reference import store
from dclib.book.reference.jobs import Job, job
from dclib.data import Dataset
from dclib.methods import get_method, stage_records
from dclib.methods.baselines import DCNConfig
from dclib.metrics import scores
from dclib.models import Autoencoder, autoencoder_for
from dclib.pretrain import PretrainConfig
from dclib.storage import array_hash
from dclib.train import History

PAGE = "baselines"
"""its key in the catalog (``catalog.PAGES``)"""

RECIPE = "baseline"
"""its reference jobs' recipe (``reference.Job.recipe``; the jobs' names)"""

RUNS = catalog.names(PAGE, reference=True)
"""the page's methods, every one on the MLP autoencoder (DKM_a anneals alpha, DKM_p
keeps alpha = 1000 on a pretrained network, DKM §4)"""


def runs(
    run: Run, ds: Dataset, seed: int, names: Iterable[str] = RUNS
) -> dict[str, RunResult]:
    """The page's runs of ``names`` on ``ds`` for ``seed``."""
    return {
        m: recipes.runs_of(run, m, recipes.config(run, m, ds), ds, seed) for m in names
    }


def seed_runs(
    run: Run, ds: Dataset, seeds: Iterable[int]
) -> dict[str, dict[int, RunResult]]:
    """``runs`` of every seed of ``seeds``, as ``{name: {seed: RunResult}}``
    (``recipes.by_seed``)."""
    return recipes.by_seed(run, partial(runs, run, ds), seeds)


def pixel_kmeans(ds: Dataset, seed: int, n_init: int = 10) -> dict[str, float]:
    """Scores (``metrics.scores``) of scikit-learn's k-means on the flattened pixels
    of ``ds``: K from the data, ``n_init`` restarts, seeded. The floor every paper
    starts from."""
    km = KMeans(ds.n_clusters, n_init=n_init, random_state=seed)
    return scores(ds.y, km.fit_predict(ds.flat))


def baseline_autoencoders(run: Run, ds: Dataset) -> dict[str, tuple[Any, Any]]:
    """The baselines page's pretrained autoencoders on ``ds`` for the first seed,
    label -> (model on the run's device, pretraining ``History``), from the cache
    the methods' runs fill: the MLP AE trained end to end (AE + k-means, DKM) and
    the MLP AE pretrained greedily then end to end (DEC, IDEC, DCN)."""
    kw: dict[str, Any] = {"seed": run.seed, "device": run.device}
    end_to_end = recipes.config(run, "ae_kmeans", ds).pretrain
    greedy = recipes.config(run, "dec", ds).pretrain
    return {
        "MLP, end to end": pretrained_model(ds, end_to_end, **kw),
        "MLP, greedy then end to end": pretrained_model(ds, greedy, **kw),
    }


def pixel_floor(ds: Dataset, seeds: Iterable[int]) -> float:
    """The mean over ``seeds`` of ``pixel_kmeans``'s ACC on ``ds`` (a fraction)."""
    return float(np.mean([pixel_kmeans(ds, s)["acc"] for s in seeds]))


def end_to_end_records(
    autoencoders: dict[str, tuple[Any, Any]],
) -> dict[str, list[dict[str, Any]]]:
    """The end-to-end epochs of each pretraining of ``baseline_autoencoders``
    (label -> records), leaving out the greedy layer-wise records."""
    return {
        label: [r for r in history.records if "layer" not in r]
        for label, (_, history) in autoencoders.items()
    }


def annealing_cut() -> list[str]:
    """What the baselines page says of committed DKM_a references whose clustering
    cap ended alpha's annealing (DKM §4: ``n_alphas`` values, ``epochs_per_alpha``
    epochs each) before its last value: a sentence each, since their row then
    measures a truncated schedule, not the method."""
    e = catalog.entry("dkm")
    label = e.label
    schedule = Fn.dkm_alphas(get_method("dkm").config().n_alphas)
    out = []
    for profile, dataset in store.available():
        for seed, r in store.load(profile, dataset, e.name).items():
            reached = [h["alpha"] for h in stage_records(r.history, "cluster")]
            if reached and reached[-1] < schedule[-1]:
                out.append(
                    f"The reference's {label} on {dataset} (profile {profile}, "
                    f"seed {seed}) ran into its clustering cap with alpha at "
                    f"{reached[-1]:.2f}, value {len(set(reached))} of the "
                    f"schedule's {len(schedule)} (the last is {schedule[-1]:.1f}): "
                    f"its row measures a truncated annealing, not {label}."
                )
    return out


def reference_names(method: str) -> tuple[str, ...]:
    """The run the page's reference job for ``method`` computes: the method's own
    run (an unknown method fails in its job, reported beside the others)."""
    return (method,)


def reference_runs(
    at: Callable[[str], Run], ds: Dataset, seed: int, todo: Iterable[str], method: str
) -> Iterator[tuple[str, RunResult, Any]]:
    """The reference job's run of ``method``, ``(name, RunResult, config)``."""
    if method in todo:
        run = at(method)
        yield (
            method,
            runs(run, ds, seed, [method])[method],
            recipes.config(run, method, ds),
        )


QUICK_AIM = 55.0
"""the quick profile's promise: AE + k-means at this ACC (in %) at least"""


def floor_sentences(
    raw: float, acc: dict[str, float], n: int, seeds: Iterable[int]
) -> list[str]:
    """k-means on raw pixels (mean ACC ``raw`` over ``seeds`` on ``n`` images) and
    which of the runs (name -> mean ACC, fractions) beat it."""
    labels = recipes.labels(acc)
    beaten = [labels[m] for m, a in acc.items() if a > raw] or ["none"]
    missed = [labels[m] for m, a in acc.items() if a <= raw] or ["none"]
    listed = ", ".join(map(str, seeds))
    return [
        f"k-means on the raw pixels of these {n:,} images reaches ACC "
        f"{100 * raw:.1f} % (mean over the seeds {listed}).",
        f"Beating it: {', '.join(beaten)}. Not beating it: {', '.join(missed)}.",
    ]


def dkm_sentence(acc: dict[str, float], alpha: float) -> str:
    """DKM_p (alpha held at ``alpha``) beside DKM_a (alpha annealed) in mean ACC
    (``acc``: run name -> fraction)."""
    held, annealed = catalog.entry("dkm_p"), catalog.entry("dkm")
    better = "better" if acc[held.name] > acc[annealed.name] else "no better"
    return (
        f"{held.label} reaches ACC {100 * acc[held.name]:.1f} %, {annealed.label} "
        f"{100 * acc[annealed.name]:.1f} %: holding alpha at {alpha:g} does {better} "
        "here than annealing it after pretraining."
    )


def quick_promise(profile: str, acc: float, cfg: Any, n: int) -> list[str]:
    """Whether AE + k-means (mean ACC ``acc``, a fraction; config ``cfg``, ``n``
    images) kept the quick profile's promise (``QUICK_AIM``); nothing in another
    profile."""
    if profile != "quick":
        return []
    ours, pre = 100 * acc, cfg.pretrain
    steps = pre.n_epochs * -(-n // pre.batch_size)
    verdict = (
        "met."
        if ours >= QUICK_AIM
        else f"not met: its {pre.n_epochs} epochs of pretraining ({steps:,} Adam "
        "steps) are what the book's 30 minutes on a two-core CPU leave; the "
        "committed reference pretrains at the papers' epochs."
    )
    return [
        f"The quick profile aims at AE + k-means ACC of at least {QUICK_AIM:g} %: "
        f"{ours:.1f} %, {verdict}"
    ]


def below_paper(
    table: pd.DataFrame, acc: dict[str, float], dataset: str, n: int, name: str
) -> list[str]:
    """Which runs fall below DCSS Table 1's ACC in ``table`` (``ours_vs_paper``'s,
    indexed by run names) on ``dataset``; ``n`` images of ``name`` are ours.
    Nothing when the table has no DCSS Table 1 column."""
    theirs = table.get(("DCSS Table 1", "ACC"))
    if theirs is None:
        return []
    theirs = pd.to_numeric(theirs, errors="coerce").dropna()
    labels = recipes.labels(theirs.index)
    below = [labels[m] for m, v in theirs.items() if 100 * acc[m] < v] or ["none"]
    column = paper_results(paper="dcss", table="Table 1", dataset=dataset)
    return [
        f"Below DCSS Table 1's ACC on its {column.dataset.iloc[0]} column (the papers' "
        f"whole set; ours: {n:,} images of {name}): {', '.join(below)}, of the "
        f"{len(theirs)} rows it has."
    ]


def budget(name: str, cfg: Any, result: RunResult, n: int) -> str:
    """How a DEC / IDEC run (config ``cfg``, ``n`` images) ended: its tolerance, the
    profile's epoch cap or its whole iteration budget."""
    done = stage_records(result.history, "cluster")[-1]["iteration"]
    allowed = cfg.epochs_for(n) * -(-n // cfg.batch_size)  # epochs x batches
    if done < min(allowed, cfg.max_iter):
        why = "its tolerance stopped it"
    elif allowed < cfg.max_iter:
        why = (
            f"all that the profile's {cfg.epochs_for(n)} epochs allow of its "
            f"{cfg.max_iter:,}-iteration budget"
        )
    else:
        why = "its whole budget"
    return f"{catalog.entry(name).label} ran {done:,.0f} iterations ({why})"


def budgets(
    configs: dict[str, Any], results: dict[str, dict[int, RunResult]], seed: int, n: int
) -> str:
    """``budget`` of the page's DEC and IDEC runs on ``seed``, one sentence."""
    names = [m for m in results if catalog.entry(m).method in ("dec", "idec")]
    ended = [budget(m, configs[m], results[m][seed], n) for m in names]
    return "; ".join(ended) + " on the first seed."


def caps_sentence(run: Run, n: int) -> list[str]:
    """What a capped profile's epochs mean for the page's numbers (none: nothing)."""
    if not run.profile.max_epochs:
        return []
    return [
        f"Every method here was trained for {run.profile.epoch_caps} on {n:,} images "
        f"({run.profile.name} profile), far from the papers' protocol, and nothing "
        "was tuned on labels to make up for it; the implementation details below "
        "list what else differs."
    ]


def findings(
    run: Run,
    ds: Dataset,
    results: dict[str, dict[int, RunResult]],
    configs: dict[str, Any],
    table: pd.DataFrame,
    raw: float,
    seeds: Iterable[int],
) -> list[str]:
    """The page's "What we find": the runs ``results`` (configs ``configs``) beside
    k-means on raw pixels (mean ACC ``raw`` over ``seeds``), DKM_p beside DKM_a,
    the quick profile's promise, the runs below DCSS Table 1 (``table``:
    ``ours_vs_paper``'s), how DEC and IDEC ended, and the profile's caps."""
    acc = {m: seed_mean(res) for m, res in results.items()}
    n, ae = len(ds), catalog.entry("ae_kmeans").name
    return [
        *floor_sentences(raw, acc, n, seeds),
        dkm_sentence(acc, configs["dkm_p"].constant_alpha),
        *quick_promise(run.profile.name, acc[ae], configs[ae], n),
        *below_paper(table, acc, run.dataset, n, ds.name),
        budgets(configs, results, run.seed, n),
        *caps_sentence(run, n),
    ]


def implementation_details(
    run: Run, ds: Dataset, configs: dict[str, Any], seeds: Iterable[int]
) -> str:
    """The page's implementation details (Markdown): what each config's defaults
    follow and where we depart from the papers, read from the methods' default
    configs on ``ds`` and from the page's ``configs`` (the profile's caps) run on
    ``seeds``."""
    d = {m: get_method(m).make_config(n_clusters=ds.n_clusters) for m in RUNS}
    code = DCNConfig.official_code()
    dcn_code = recipes.official_code_fields("dcn")
    arch = "-".join(map(str, ("d", *d["dec"].hidden, d["dec"].latent_dim)))
    dropout = d["dec"].pretrain.greedy_dropout
    official = ", ".join(f"`{k}={v}`" for k, v in dcn_code.items())
    held = d["dkm_p"].constant_alpha
    return f"""
1. **Architecture.** All six runs use the fully connected {arch} autoencoder of
   DEC, ReLU on hidden layers, linear code and output.
2. **Pretraining.** DEC, IDEC and DCN: greedy layer-wise denoising pretraining, then
   end-to-end fine-tuning, as DEC §3.2 describes: each layer's one-hidden-layer
   autoencoder drops out its input *and* its hidden code (rate {dropout}). DKM and
   AE + k-means: end to end. DEC trains 50,000 iterations per layer and 100,000 end
   to end with SGD (lr 0.1, divided by 10 every 20,000 iterations); we use Adam
   (lr {d["dec"].pretrain.lr:g}) and {d["dec"].pretrain.n_epochs} epochs per stage
   ({d["dcn"].pretrain.n_epochs} for DCN, as its paper; {d["dkm"].pretrain.n_epochs}
   end to end for DKM), which the profile caps. IDEC shares DEC's pretraining.
3. **DEC/IDEC.** The target $P$ is recomputed over the whole dataset every
   {d["dec"].update_interval} iterations (the value IDEC reports for MNIST; DEC's
   paper gives none), and training stops once fewer than {100 * d["dec"].tol:g} % of
   the labels change between refreshes. The budget is counted in iterations, as the
   papers count it: `max_iter` = {d["dec"].max_iter:,} (the IDEC code's 2·10^4);
   `n_epochs=None` means as many epochs as that takes, here
   {d["dec"].epochs_for(len(ds)):,} epochs of {len(ds):,} images at batch
   {d["dec"].batch_size} (this profile: {configs["dec"].epochs_for(len(ds)):,}).
   DEC: SGD lr {d["dec"].lr:g}, momentum 0.9; IDEC: Adam lr {d["idec"].lr:g},
   $\\gamma = {d["idec"].gamma:g}$.
4. **DCN.** $\\lambda = {d["dcn"].lam:g}$; Adam lr {d["dcn"].lr:g} (we found no
   optimiser setting in the paper). Our defaults follow the paper's equations where
   the official code adds steps the paper does not describe; the code's choices are
   the preset `DCNConfig.official_code()` ({official}):
   - centre counts `initial_count={d["dcn"].initial_count}`: $c_k$ starts at the
     size of k-means' cluster $k$, since eq. 7 counts the samples a centre has
     received and k-means' are the first (the code: {code.initial_count:g} for
     every centre), so early samples move a large cluster's centre little;
   - `kmeans_every={d["dcn"].kmeans_every}`: the centres move by eq. 7 only (the
     code reruns k-means on all codes every {code.kmeans_every} epochs, replacing
     centres and counts);
   - `final_kmeans={d["dcn"].final_kmeans}`: a sample's label is its nearest centre,
     eq. 6 (the code labels by a final k-means on the codes).

   The count-based update is applied to a whole batch at once, which equals the
   per-sample update (the cell above).
5. **DKM.** $\\lambda = {d["dkm"].lam:g}$, Adam lr {d["dkm"].lr:g}. The paper runs
   either annealing from random weights (DKM$_a$, {d["dkm"].n_alphas} values of
   $\\alpha$) or a constant $\\alpha = {d["dkm_p"].constant_alpha:g}$ after
   pretraining (DKM$_p$). Our `dkm` (DKM$_a$) pretrains and anneals
   ({d["dkm"].epochs_per_alpha} epochs per value of $\\alpha$, {d["dkm"].n_epochs}
   in all), as our specification asks, though the DKM code refuses to anneal a
   pretrained network; while $\\alpha$ is small the soft assignments are nearly
   uniform and the loss pulls every code towards all centres at once. `dkm_p`
   (DKM$_p$) is the paper's pretrained variant, $\\alpha$ = {held:g}
   throughout, and the one the papers' DKM rows report (DCSS Table 1, DML Table I).
6. **Reductions.** IDEC's reconstruction is the mean squared error per pixel (its
   Keras code); DCN's and DKM's are per-sample sums averaged over the batch, as in
   their equations.
7. **No label-based selection.** Every number comes from the last iterate; the true
   labels only score it (and draw learning curves through `y_monitor`, which a test
   shows changes nothing).
8. **Data and epochs.** This page ran on {recipes.describe_data(run, ds, seeds)}, with
   {run.profile.epoch_caps};
   the paper profile runs the full Fashion-MNIST with the papers' epochs.
"""


def reference_jobs(profile: str, seed: int) -> list[Job]:
    """The page's reference jobs: one per method, on the MLP methods' data."""
    return [
        job(RECIPE, "mlp", profile, seed, [catalog.entry(m)], {"method": m})
        for m in RUNS
    ]


def pretrained_model(
    ds: Any,
    cfg: PretrainConfig,
    *,
    kind: str = "mlp",
    latent_dim: int = 10,
    seed: int = 0,
    device: Any = "cpu",
) -> tuple[Autoencoder, History]:
    """The autoencoder ``kind`` (mlp, dcss, dssl) pretrained on ``ds`` with ``cfg``,
    from the same cache the methods use (a method with this config reuses it)."""
    seed = seed if cfg.seed is None else cfg.seed
    torch.manual_seed(seed)
    model = autoencoder_for(ds.image_shape, ds.flat.shape[1], latent_dim, kind)
    X = torch.as_tensor(ds.X, device=device)
    pretrain = cached_pretraining(array_hash(ds.X, ds.y), ds.name)
    history = pretrain(model.to(device), X, cfg, seed)
    return model, history
