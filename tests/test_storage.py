"""dclib.storage: writes are all-or-nothing and leave no temporaries; hashes are
stable and change with the content."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest

from dclib import storage


class Boom(RuntimeError):
    pass


def test_atomic_write_replaces_the_file_and_keeps_its_suffix(tmp_path):
    path = tmp_path / "a.npy"
    path.write_text("old")
    names = []

    def write(tmp):
        names.append(tmp)
        np.save(tmp, np.arange(3))  # np.save adds .npy unless the name has it

    storage.atomic_write(path, write)
    np.testing.assert_array_equal(np.load(path), np.arange(3))
    assert names[0].suffix == ".npy" and names[0].parent == tmp_path
    assert names[0] != path
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.npy"]


def test_atomic_write_keeps_the_old_file_on_an_error(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")

    def write(tmp):
        tmp.write_text("half of the new")
        raise Boom

    with pytest.raises(Boom):
        storage.atomic_write(path, write)
    assert path.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]  # no temporary left


def test_atomic_write_of_a_new_file_leaves_nothing_on_an_error(tmp_path):
    path = tmp_path / "sub" / "new.txt"

    def write(tmp):
        tmp.write_text("partial")
        raise Boom

    with pytest.raises(Boom):
        storage.atomic_write(path, write)
    assert not path.exists() and list(path.parent.iterdir()) == []


def test_write_text_and_write_json(tmp_path):
    storage.write_text(tmp_path / "t.txt", "hello")
    assert (tmp_path / "t.txt").read_text() == "hello"
    storage.write_json(tmp_path / "j.json", {"b": (1, 2), "a": np.float32})
    text = (tmp_path / "j.json").read_text()
    assert json.loads(text) == {"a": str(np.float32), "b": [1, 2]}
    assert text.index('"a"') < text.index('"b"') and text.endswith("\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["j.json", "t.txt"]


def test_write_dir_swaps_in_the_new_directory(tmp_path):
    target = tmp_path / "run"
    target.mkdir()
    (target / "stale.txt").write_text("old")
    (target / "keep.txt").write_text("old")

    def fill(tmp):
        assert tmp != target and tmp.parent == tmp_path
        (tmp / "keep.txt").write_text("new")

    storage.write_dir(target, fill)
    assert sorted(p.name for p in target.iterdir()) == ["keep.txt"]  # stale gone
    assert (target / "keep.txt").read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["run"]  # no temporaries


def test_write_dir_keeps_the_old_directory_on_an_error(tmp_path):
    target = tmp_path / "run"
    target.mkdir()
    (target / "a.txt").write_text("old")

    def fill(tmp):
        (tmp / "a.txt").write_text("new")
        (tmp / "b.txt").write_text("new")
        raise Boom

    with pytest.raises(Boom):
        storage.write_dir(target, fill)
    assert sorted(p.name for p in target.iterdir()) == ["a.txt"]
    assert (target / "a.txt").read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["run"]


def test_write_dir_of_a_new_directory_leaves_nothing_on_an_error(tmp_path):
    def fill(tmp):
        (tmp / "a.txt").write_text("new")
        raise Boom

    with pytest.raises(Boom):
        storage.write_dir(tmp_path / "run", fill)
    assert list(tmp_path.iterdir()) == []


def test_array_hash_is_stable_and_sensitive():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    h = storage.array_hash(a)
    assert h == storage.array_hash(a.copy()) == storage.array_hash(np.asfortranarray(a))
    assert len(h) == 16 and int(h, 16) >= 0
    changed = a.copy()
    changed[2, 3] += 1e-3
    assert storage.array_hash(changed) != h
    b = np.arange(3, dtype=np.int64)
    assert storage.array_hash(a, b) == storage.array_hash(a.copy(), b.copy())
    assert storage.array_hash(a, b) != storage.array_hash(a)
    assert storage.array_hash(a, b) != storage.array_hash(b, a)
    assert storage.array_hash(a[:, ::2]) == storage.array_hash(a[:, ::2].copy())


def test_json_hash_is_stable_and_sensitive():
    h = storage.json_hash({"a": 1, "b": [1, 2]})
    assert h == storage.json_hash({"b": [1, 2], "a": 1})  # key order
    assert h == storage.json_hash({"a": 1, "b": (1, 2)})  # as stored: tuples are lists
    assert len(h) == 20 and len(storage.json_hash({}, length=8)) == 8
    assert h != storage.json_hash({"a": 2, "b": [1, 2]})
    assert h != storage.json_hash({"a": 1, "b": [2, 1]})
    assert h != storage.json_hash({"a": 1, "c": [1, 2]})


def test_file_hashes(tmp_path):
    one, two = tmp_path / "one.py", tmp_path / "two.py"
    one.write_text("x = 1\n")
    two.write_text("y = 2\n")
    assert storage.file_sha256(one) == hashlib.sha256(b"x = 1\n").hexdigest()
    h = storage.files_hash([one, two], tmp_path)
    assert h == storage.files_hash([one, two], tmp_path)
    assert h != storage.files_hash([two, one], tmp_path)
    two.write_text("y = 3\n")
    assert h != storage.files_hash([one, two], tmp_path)
    renamed = tmp_path / "three.py"
    two.rename(renamed)
    renamed.write_text("y = 2\n")
    assert h != storage.files_hash([one, renamed], tmp_path)  # names count
