"""Run folders, atomic writes, resume checks, seed lists."""
import json

import pytest

from common.atomic import append_jsonl, atomic_path, read_jsonl, write_json
from common.errors import UserError
from common.runs import check_same_options, next_run_dir, read_config, write_config
from common.seeding import parse_seeds


def test_run_dirs_are_numbered(tmp_path):
    a = next_run_dir(tmp_path, "cgan mnist 32px")
    b = next_run_dir(tmp_path, "cgan")
    assert a.name == "00000-cgan-mnist-32px" and b.name == "00001-cgan"


def test_config_is_self_describing(tmp_path):
    write_config(tmp_path, "train", {"lr": 0.1, "seed": 3})
    cfg = read_config(tmp_path)
    assert cfg["options"] == {"lr": 0.1, "seed": 3}
    assert "torch" in cfg["versions"] and "git_commit" in cfg
    with pytest.raises(UserError, match="not a SynthMix run folder"):
        read_config(tmp_path / "elsewhere")


def test_failed_write_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with atomic_path(tmp_path / "out.json") as tmp:
            tmp.write_text("half")
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []
    write_json(tmp_path / "out.json", {"a": 1})
    assert json.loads((tmp_path / "out.json").read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


def test_jsonl_tolerates_a_torn_last_line(tmp_path):
    append_jsonl(tmp_path / "s.jsonl", {"step": 1})
    with open(tmp_path / "s.jsonl", "a") as f:
        f.write('{"step": 2, "lo')
    assert read_jsonl(tmp_path / "s.jsonl") == [{"step": 1}]


def test_resume_refuses_changed_options():
    check_same_options({"lr": 1, "steps": 5}, {"lr": 1, "steps": 9}, ignore=("steps",))
    with pytest.raises(UserError, match="lr: run has 1, now 2"):
        check_same_options({"lr": 1}, {"lr": 2})


def test_seed_lists():
    assert parse_seeds("0-3,7") == [0, 1, 2, 3, 7]
    with pytest.raises(UserError, match="bad seed list"):
        parse_seeds("5-2")


def test_run_dirs_from_parallel_processes_never_collide(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(8) as pool:
        runs = list(pool.map(lambda i: next_run_dir(tmp_path, "cell"), range(24)))
    assert len(set(runs)) == 24 and all(r.is_dir() for r in runs)


def test_outputs_follow_the_umask(tmp_path):
    import os

    from common.atomic import atomic_dir, write_text

    old = os.umask(0o022)
    try:
        f = write_text(tmp_path / "a.txt", "x")
        with atomic_dir(tmp_path / "d") as d:
            (d / "b").write_text("y")
    finally:
        os.umask(old)
    assert f.stat().st_mode & 0o777 == 0o644  # not mkstemp's 0600: others may read what the user wrote
    assert (tmp_path / "d").stat().st_mode & 0o777 == 0o755


def test_a_bar_in_a_log_is_a_few_whole_lines_not_carriage_returns(capsys, monkeypatch):
    from common import progress
    from common.progress import progress_bar

    monkeypatch.setattr(progress, "MIN_WORK_S", 0.0)  # as if the work took long enough to be worth a line
    for _ in progress_bar(range(5000), desc="work"):
        pass
    err = capsys.readouterr().err  # captured: not a terminal, like a log file or a pipe
    assert "\r" not in err and "work" in err and "5000/5000" in err
    assert 1 <= len(err.splitlines()) <= 3


def test_a_bar_in_a_log_says_nothing_for_work_under_a_second(capsys):
    from common.progress import progress_bar

    for _ in progress_bar(range(50), desc="checking images"):
        pass
    bar = progress_bar(total=3, desc="synth cat", leave=False)
    bar.update(3)
    bar.close()
    assert capsys.readouterr().err == ""  # off a terminal: no 0% and 100% lines for work of a few milliseconds


def test_remove_orphans_deletes_only_temp_files(tmp_path):
    from common.atomic import remove_orphans

    (tmp_path / ".last.pt.abc.tmp.pt").write_bytes(b"x")
    (tmp_path / "last.pt").write_bytes(b"x")
    assert [p.name for p in remove_orphans(tmp_path)] == [".last.pt.abc.tmp.pt"]
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


def test_a_folder_write_clears_what_a_killed_write_left(tmp_path):
    from common.atomic import atomic_dir

    stale = tmp_path / ".out.k1ll3d00.tmp"
    (stale / "a").mkdir(parents=True)
    other = tmp_path / ".other.k1ll3d00.tmp"
    other.mkdir()
    with atomic_dir(tmp_path / "out") as tmp:
        (tmp / "x.txt").write_text("x")
    assert not stale.exists() and other.exists() and (tmp_path / "out" / "x.txt").exists()
