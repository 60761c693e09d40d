"""The scale generator is deterministic and a measured stage reports real numbers."""

from __future__ import annotations

import csv
import os
import sys
from pathlib import Path

import pytest

from bench.generate import generate, scale_of, write_nightly
from bench.measure import run_measured
from bench.run import run_stages
from channelops.settings import DEFAULT_CONFIG_DIR, PROJECT_DIR


@pytest.fixture(scope="module")
def network(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("issue8_bench")
    generate(folder, scale_of("10k"))
    return folder


def _sales_lines(folder: Path) -> int:
    total = 0
    for path in folder.glob("销售明细_*.csv"):
        with path.open(encoding="gb18030", newline="") as handle:
            total += sum(1 for _ in csv.reader(handle)) - 1
    return total


def test_scale_names_read_as_counts() -> None:
    assert scale_of("1m").lines == 1_000_000
    assert scale_of("250k", 300).partners == 300
    with pytest.raises(ValueError, match="outside"):
        scale_of("5k")


def test_generator_writes_the_lines_asked_for_the_same_every_time(
    network: Path, tmp_path: Path
) -> None:
    again = tmp_path / "again"
    generate(again, scale_of("10k"))

    assert _sales_lines(network) == 10_000
    names = sorted(p.name for p in network.iterdir())
    assert names == sorted(p.name for p in again.iterdir())
    for name in names:
        assert (network / name).read_bytes() == (again / name).read_bytes(), name


def test_nightly_drop_adds_a_thousandth_with_new_line_ids(
    network: Path, tmp_path: Path
) -> None:
    path, count = write_nightly(tmp_path, scale_of("10k"))
    with path.open(encoding="gb18030", newline="") as handle:
        rows = list(csv.DictReader(handle))
    with (network / "销售明细_2026Q3.csv").open(encoding="gb18030") as handle:
        existing = {row["单号"] for row in csv.DictReader(handle)}

    assert count == len(rows) == 10
    assert not existing & {row["单号"] for row in rows}


def test_measured_pull_stage_reports_rows_and_memory(
    network: Path, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "CHANNELOPS_HOME": str(tmp_path / "home"),
        "CHANNELOPS_DROP_DIR": str(network),
        "CHANNELOPS_CONFIG_DIR": str(DEFAULT_CONFIG_DIR),
    }
    measured = run_measured(
        [sys.executable, "-m", "bench.stages", "pull", "2026Q3"],
        env=env,
        cwd=PROJECT_DIR,
        log=tmp_path / "pull.log",
    )

    assert measured.result["quarantined"] == 0
    assert measured.result["rows"] == measured.result["loaded"] > 10_000
    assert measured.peak_rss_bytes > 10 << 20
    assert measured.seconds >= measured.result["work_seconds"] > 0
    assert measured.cpu_seconds > 0


def test_stages_option_should_measure_only_the_stages_named(tmp_path: Path) -> None:
    summary = run_stages(scale_of("10k"), tmp_path, tmp_path / "out", ["pull"])

    (pull,) = summary["stages"].values()
    assert list(summary["stages"]) == ["pull"]
    assert pull["rows"] == pull["result"]["loaded"] > 10_000
    assert pull["peak_rss_bytes"] > 10 << 20
    table = (tmp_path / "out" / "10k-pull.md").read_text(encoding="utf-8")
    assert "| pull |" in table
    assert "dbt build" not in table


def test_pandas_baseline_is_skipped_only_when_it_cannot_fit_in_memory() -> None:
    from bench.run import pandas_skip_reason

    machine = 20 << 30
    assert pandas_skip_reason(10_000_000, machine) is None
    reason = pandas_skip_reason(100_000_000, machine)
    assert reason is not None
    assert "100,000,000 lines" in reason and "20 GiB are available" in reason


def test_pandas_baseline_should_score_with_every_metric_the_bench_config_weighs(
    network: Path, tmp_path: Path
) -> None:
    from bench import pandas_baseline
    from bench.generate import LAST_QUARTER
    from bench.run import bench_config

    result = pandas_baseline.run(network, bench_config(tmp_path), LAST_QUARTER)

    assert result["rows"] == 10_000
    assert result["scored"] > 0
    assert len(result["rebate_lines"]) > 0
