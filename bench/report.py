"""Medians over the repeats, the ratios the issue asks for, and the Markdown table."""

from __future__ import annotations

import statistics
from typing import Any

from bench.generate import Scale

GIB = 1 << 30
MIB = 1 << 20
FULL = ("pull", "dbt build", "gate", "publish", "render", "send")
NIGHTLY = ("pull", "dbt build", "gate")
DATA_PATH = ("pull", "dbt build")

# The targets, as (label, test on the ratio).
TARGETS = {
    "end_to_end_vs_floor": "<= 1.5 at 100 M lines",
    "pandas_vs_channelops": ">= 10",
    "nightly_vs_full": "< 0.05",
    "gate_vs_build": "< 0.20",
    "statements_sent_per_second": ">= 300",
    "peak_rss_gib": "< 4",
}


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else 0.0


def _stage_summary(measured: list[dict[str, Any]]) -> dict[str, Any]:
    seconds = [m["seconds"] for m in measured]
    rows = measured[0]["result"].get("rows", 0)
    middle = _median(seconds)
    work = _median([m["result"].get("work_seconds", m["seconds"]) for m in measured])
    return {
        "work_seconds": work,
        "rows_per_work_second": rows / work if work else 0.0,
        "seconds": middle,
        "seconds_all": seconds,
        "peak_rss_bytes": max(m["peak_rss_bytes"] for m in measured),
        "cpu_seconds": _median([m.get("cpu_seconds", 0.0) for m in measured]),
        "rows": rows,
        "rows_per_second": rows / middle if middle else 0.0,
        "result": measured[0]["result"],
    }


def summarise(
    scale: Scale, runs: list[dict[str, Any]], info: dict[str, Any]
) -> dict[str, Any]:
    full = {s: _stage_summary([r["full"][s] for r in runs]) for s in FULL}
    nightly = {s: _stage_summary([r["nightly"][s] for r in runs]) for s in NIGHTLY}
    refresh = _stage_summary([r["full_refresh_build"] for r in runs])
    floor = _stage_summary([r["floor"] for r in runs])
    pandas_runs = [r["pandas"] for r in runs if r["pandas"] is not None]
    pandas = _stage_summary(pandas_runs) if pandas_runs else None
    end_to_end = sum(full[s]["seconds"] for s in FULL)
    data_path = sum(full[s]["seconds"] for s in DATA_PATH)
    nightly_total = sum(nightly[s]["seconds"] for s in NIGHTLY)
    full_nightly = (
        full["pull"]["seconds"] + refresh["seconds"] + full["gate"]["seconds"]
    )
    send = full["send"]
    render = full["render"]
    peak = max(
        [s["peak_rss_bytes"] for s in (*full.values(), *nightly.values())]
        + [refresh["peak_rss_bytes"]]
    )
    ratios = {
        "end_to_end_vs_floor": end_to_end / floor["seconds"],
        "data_path_vs_floor": data_path / floor["seconds"],
        "pandas_vs_channelops": pandas["seconds"] / data_path if pandas else None,
        "pandas_vs_floor": pandas["seconds"] / floor["seconds"] if pandas else None,
        "nightly_vs_full": nightly_total / full_nightly,
        "nightly_build_vs_full_refresh_build": nightly["dbt build"]["seconds"]
        / refresh["seconds"],
        "gate_vs_build": full["gate"]["seconds"] / full["dbt build"]["seconds"],
        "statements_rendered_per_second": render["rows_per_work_second"],
        "statements_sent_per_second": send["rows_per_work_second"],
        "peak_rss_gib": peak / GIB,
    }
    return {
        "scale": {"lines": scale.lines, "partners": scale.partners},
        "repeats": len(runs),
        "machine": info,
        "full": full,
        "nightly": nightly,
        "nightly_lines": runs[0]["nightly_lines"],
        "full_refresh_build": refresh,
        "floor": floor,
        "pandas": pandas,
        "end_to_end_seconds": end_to_end,
        "delivered": [r["delivered"] for r in runs],
        "rebate_parity": runs[0]["rebate_parity"],
        "ratios": ratios,
    }


def summarise_stages(
    scale: Scale, runs: list[dict[str, Any]], info: dict[str, Any]
) -> dict[str, Any]:
    """Medians of the stages a ``--stages`` run measured."""
    return {
        "scale": {"lines": scale.lines, "partners": scale.partners},
        "repeats": len(runs),
        "machine": info,
        "stages": {s: _stage_summary([r[s] for r in runs]) for s in runs[0]},
    }


def _machine_line(summary: dict[str, Any]) -> str:
    info = summary["machine"]
    return (
        f"Machine: {info['cpus']} CPUs ({info['cpu_model']}), "
        f"{info['memory_gib']} GiB, shared with other work (load average at start "
        f"{', '.join(f'{x:.1f}' for x in info['load_average_at_start'])}); "
        f"Python {info['python']}, DuckDB {info['duckdb']}; "
        f"{summary['repeats']} repeat(s), medians; run {info['started_at']}."
    )


def stages_markdown(summary: dict[str, Any]) -> str:
    """The table of a ``--stages`` run: each stage's median, and every repeat."""
    scale = summary["scale"]
    lines = [
        f"### {scale['lines']:,} order lines, {scale['partners']:,} partners: "
        f"{', '.join(summary['stages'])} only",
        "",
        _machine_line(summary),
        "",
        "| stage | wall s | peak RSS MiB | rows | rows/s | CPU s "
        "| wall s of each repeat |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for name, stage in summary["stages"].items():
        each = ", ".join(f"{s:.1f}" for s in stage["seconds_all"])
        lines.append(f"{_row(name, stage)} {stage['cpu_seconds']:.1f} | {each} |")
    return "\n".join([*lines, ""])


def _row(name: str, stage: dict[str, Any]) -> str:
    return (
        f"| {name} | {stage['seconds']:.1f} | {stage['peak_rss_bytes'] / MIB:,.0f} "
        f"| {stage['rows']:,} | {stage['rows_per_second']:,.0f} |"
    )


def markdown(summary: dict[str, Any]) -> str:
    scale = summary["scale"]
    lines = [
        f"### {scale['lines']:,} order lines, {scale['partners']:,} partners",
        "",
        _machine_line(summary),
        "",
        "| stage | wall s | peak RSS MiB | rows | rows/s |",
        "|---|---:|---:|---:|---:|",
    ]
    lines += [_row(name, summary["full"][name]) for name in FULL]
    lines.append(f"| **end to end** | **{summary['end_to_end_seconds']:.1f}** | | | |")
    lines += [
        _row(f"nightly {name} (+{summary['nightly_lines']:,} lines)", stage)
        for name, stage in summary["nightly"].items()
    ]
    lines.append(_row("dbt build --full-refresh", summary["full_refresh_build"]))
    lines.append(_row("floor: bare DuckDB load + model SQL", summary["floor"]))
    parity = summary["rebate_parity"]
    if summary["pandas"] is not None:
        lines.append(_row("pandas scorecard + rebate", summary["pandas"]))
        parity_line = (
            f"Rebate lines {parity['lines']:,} for the period; pandas differs on "
            f"{parity['differing']}."
        )
    else:
        lines.append("| pandas scorecard + rebate | not run | | | |")
        parity_line = f"The pandas baseline was not run: {parity['skipped']}."
    ratios = summary["ratios"]
    lines += [
        "",
        "| ratio | measured | target |",
        "|---|---:|---|",
        f"| end to end / floor | {ratios['end_to_end_vs_floor']:.1f} | "
        f"{TARGETS['end_to_end_vs_floor']} |",
        f"| pull + dbt build / floor | {ratios['data_path_vs_floor']:.1f} | |",
        f"| pandas / channelops (pull + dbt build) | "
        f"{_ratio(ratios['pandas_vs_channelops'], 2)} | "
        f"{TARGETS['pandas_vs_channelops']} |",
        f"| pandas / floor | {_ratio(ratios['pandas_vs_floor'], 1)} | |",
        f"| nightly (pull + build + gate) / full | {ratios['nightly_vs_full']:.3f} | "
        f"{TARGETS['nightly_vs_full']} |",
        f"| nightly dbt build / full-refresh dbt build | "
        f"{ratios['nightly_build_vs_full_refresh_build']:.2f} | |",
        f"| gate / dbt build | {ratios['gate_vs_build']:.2f} | "
        f"{TARGETS['gate_vs_build']} |",
        f"| statements rendered per second (in-stage, no start-up) | "
        f"{ratios['statements_rendered_per_second']:.0f} | |",
        f"| statements rendered and delivered per second (SMTP 127.0.0.1) | "
        f"{ratios['statements_sent_per_second']:.0f} | "
        f"{TARGETS['statements_sent_per_second']} |",
        f"| peak RSS of any stage, GiB | {ratios['peak_rss_gib']:.2f} | "
        f"{TARGETS['peak_rss_gib']} |",
        "",
        f"{parity_line} E-mails the server received: {summary['delivered']}.",
        "",
    ]
    return "\n".join(lines)


def _ratio(value: float | None, places: int) -> str:
    return "not run" if value is None else f"{value:.{places}f}"
