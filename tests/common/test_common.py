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


def test_resume_compares_nested_options_by_field_and_paths_resolved(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "data").mkdir()
    # A field added to DataSpec since the run was made (encoding) compares as None, like a missing top-level one.
    check_same_options({"data": {"data": "data"}}, {"data": {"data": str(tmp_path / "data"), "encoding": None}},
                       paths=("data.data",))
    with pytest.raises(UserError, match=r"data.data: run has '.*/data', now '.*/other'"):
        check_same_options({"data": {"data": "data"}}, {"data": {"data": "other"}}, paths=("data.data",))
    with pytest.raises(UserError, match="data.encoding: run has None, now 'cp1251'"):
        check_same_options({"data": {"data": "x"}}, {"data": {"data": "x", "encoding": "cp1251"}})


def test_a_lock_file_is_gone_once_released(tmp_path):
    from common.atomic import file_lock

    lock = tmp_path / ".x.lock"
    with file_lock(lock):
        assert lock.exists()
        with file_lock(tmp_path / ".y.lock"):  # another lock meanwhile: independent
            pass
    assert list(tmp_path.iterdir()) == []


def test_range_messages_name_the_option_the_value_and_the_range():
    from common.ranges import BN_BATCH, Range, check_ranges

    check_ranges({"batch_size": 2, "size": None}, {"batch_size": BN_BATCH, "size": Range(16)})
    with pytest.raises(UserError, match=r"^--batch-size 1: out of range \(batch norm .*\); pass a value that is at "
                                        r"least 2$"):
        check_ranges({"batch_size": 1}, {"batch_size": BN_BATCH})
    with pytest.raises(UserError, match=r"^--val 1: out of range; pass a value that is above 0 and below 1$"):
        check_ranges({"val_fraction": 1.0}, {"val_fraction": Range(0, 1, True, True, flag="--val")})
    with pytest.raises(UserError, match="--lr nan"):
        check_ranges({"lr": float("nan")}, {"lr": Range(0, lo_open=True)})


@pytest.mark.parametrize("content, message", [
    (b"", "empty file"), (b"  \n\n", "empty file"), (b"a,b\n", "no rows under the header"),
    (b"a,a\n1,2\n", "names column 'a' twice"), (b"a,b\n1,2\n\n3,4,5\n", "line 4 has 3 fields, the header has 2"),
    (b"a,b\n1\n", "line 2 has 1 field,"), ("a,b\n1,é\n".encode("latin-1"), r"not UTF-8 text \(byte 0xe9 on line 2\)"),
    (b"a,b\n1,\x002\n", "not a readable CSV"),
], ids=["empty", "blank-lines", "header-only", "duplicate-column", "ragged", "short-row", "latin1", "nul-byte"])
def test_the_csv_reader_refuses_malformed_files_in_one_line(tmp_path, content, message):
    from common.csvfile import read_csv

    f = tmp_path / "x.csv"
    f.write_bytes(content)
    with pytest.raises(UserError, match=message) as e:
        read_csv(f)
    assert "\n" not in str(e.value.message) and str(f) in e.value.message


def test_the_csv_reader_keeps_cells_as_text_and_reads_other_encodings(tmp_path):
    from common.csvfile import read_csv

    f = tmp_path / "x.csv"
    f.write_bytes('id,name\n007,"a, b"\n\n8,Живопись\n'.encode("cp1251"))
    df = read_csv(f, encoding="cp1251")
    assert df.to_dict("list") == {"id": ["007", "8"], "name": ["a, b", "Живопись"]} and df.attrs["lines"] == [2, 4]
    with pytest.raises(UserError, match="not an encoding Python knows"):
        read_csv(f, encoding="klingon")
