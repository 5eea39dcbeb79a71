from __future__ import annotations

import pytest

from dclib.runs import paper_results


def test_dcss_table1_kmeans_fashion_mnist():
    rows = paper_results(
        paper="dcss", table="Table 1", method="k-means", dataset="fmnist"
    )
    assert dict(zip(rows["metric"], rows["value"], strict=True)) == {
        "ACC": 47.40,
        "NMI": 51.20,
    }


def test_dataset_aliases_cover_every_spelling():
    rows = paper_results(dataset="fmnist")
    assert set(rows["dataset"]) == {"Fashion MNIST", "Fashion-MNIST", "FMNIST"}
    assert set(rows["paper"]) == {"dcss", "dssl", "dml", "dynae", "rdc"}


@pytest.mark.parametrize(
    ("where", "match"),
    [({"dataset": "imagenet"}, "imagenet"), ({"colour": "red"}, "colour")],
)
def test_bad_filters_raise(where, match):
    with pytest.raises(ValueError, match=match):
        paper_results(**where)
