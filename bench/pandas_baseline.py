"""What teams use today: the scorecard and rebate logic written in pandas.

``python -m bench.pandas_baseline <drop dir> <config dir> <period> <out json>``
reads the same export files, computes per partner and quarter the sales,
returns, collections, targets, complaints, ratings and activities, every
metric config/scorecard.yml weighs, the scorecard score and tier
(config/scorecard.yml) and the retroactive volume rebate (config/programs),
and writes the period's rebate lines so the benchmark can check them against
channelops' statements. Amounts are kept as integer fen (int64), not float64,
so the comparison is exact; that is more careful than most such scripts.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

QUARTER_INDEX_YEAR = 4


def _fen(text: pd.Series) -> pd.Series:
    """'1,234.56' -> 123456, exactly."""
    cleaned = text.str.replace(",", "", regex=False)
    parts = cleaned.str.split(".", n=1, expand=True).reindex(columns=[0, 1])
    whole = parts[0].astype("int64")
    cents = parts[1].fillna("").str.ljust(2, "0").astype("int64")
    return whole * 100 + cents


def _quarter(dates: pd.Series) -> pd.Series:
    return dates.dt.year * QUARTER_INDEX_YEAR + (dates.dt.month - 1) // 3


def _label(index: pd.Series) -> pd.Series:
    return (
        (index // QUARTER_INDEX_YEAR).astype(str)
        + "Q"
        + (index % QUARTER_INDEX_YEAR + 1).astype(str)
    )


def partner_quarters(drop_dir: Path) -> tuple[pd.DataFrame, int]:
    """Partner-quarter totals, and how many order lines they were made of."""
    frames = [
        pd.read_csv(
            path,
            encoding="gb18030",
            dtype=str,
            usecols=["单据日期", "单据类型", "单号", "经销商编码", "折后金额"],
        )
        for path in sorted(drop_dir.glob("销售明细_*.csv"))
    ]
    lines = pd.concat(frames, ignore_index=True)
    lines["quarter"] = _quarter(pd.to_datetime(lines["单据日期"], format="%Y/%m/%d"))
    lines["fen"] = _fen(lines["折后金额"])
    is_sale = lines["单据类型"] == "销售"
    lines["sale_fen"] = np.where(is_sale, lines["fen"], 0)
    lines["return_fen"] = np.where(lines["单据类型"] == "退货", lines["fen"], 0)
    lines["sale_order"] = lines["单号"].where(is_sale)
    keys = ["经销商编码", "quarter"]
    sales = lines.groupby(keys).agg(
        gross_fen=("sale_fen", "sum"),
        returns_fen=("return_fen", "sum"),
        order_count=("sale_order", "nunique"),
    )
    payments = pd.read_csv(drop_dir / "回款记录.csv", dtype=str)
    payments["quarter"] = _quarter(pd.to_datetime(payments["到账日期"]))
    payments["fen"] = _fen(payments["回款金额"])
    collected = payments.groupby(keys).agg(collected_fen=("fen", "sum"))
    feedback = pd.read_csv(drop_dir / "客户反馈.csv", dtype=str, keep_default_na=False)
    created = pd.to_datetime(feedback["创建时间"]) - pd.Timedelta(hours=8)
    feedback["quarter"] = _quarter(created)
    rated = feedback[feedback["满意度"] != ""].copy()
    # Tenths of a point, so that every total stays an integer.
    rated["rating"] = (rated["满意度"].astype(float) * 10).round().astype("int64")
    ratings = rated.groupby(keys).agg(
        rating_count=("rating", "size"), rating_total=("rating", "sum")
    )
    tickets = feedback[feedback["类型"].isin(["投诉", "工单"])].copy()
    opened = created[tickets.index]
    answered = pd.to_datetime(tickets["首次响应时间"].replace("", None)) - pd.Timedelta(
        hours=8
    )
    # Calendar hours: the demo configuration's working-hours SLA calendar is
    # more than such a script would do.
    tickets["breach"] = (
        answered.isna() | (answered > opened + pd.Timedelta(hours=24))
    ).astype(int)
    complaints = tickets.groupby(keys).agg(
        complaint_count=("breach", "size"), sla_breach_count=("breach", "sum")
    )
    activities = pd.read_excel(drop_dir / "市场活动.xlsx", header=1, dtype=str)
    activities["quarter"] = _quarter(pd.to_datetime(activities["开始日期"]))
    engagement = activities.groupby(keys).agg(activity_count=("活动编号", "size"))
    targets = pd.read_csv(drop_dir / "销售目标.csv", dtype=str)
    year, quarter = targets["考核期间"].str.split("Q", expand=True).T.values
    targets["quarter"] = year.astype("int64") * QUARTER_INDEX_YEAR + (
        quarter.astype("int64") - 1
    )
    targets["target_fen"] = _fen(targets["目标金额"])
    targeted = targets.groupby(keys).agg(target_fen=("target_fen", "sum"))
    frame = sales.join(
        [collected, complaints, ratings, engagement, targeted], how="outer"
    ).fillna(0)
    return frame.astype("int64").reset_index(), len(lines)


def _every_quarter(frame: pd.DataFrame) -> pd.DataFrame:
    """Each partner's quarters from its first sale to the last quarter, gaps as 0."""
    last = frame["quarter"].max()
    first = frame[frame["gross_fen"] > 0].groupby("经销商编码")["quarter"].min()
    spine = pd.MultiIndex.from_tuples(
        [(p, q) for p, start in first.items() for q in range(start, last + 1)],
        names=["经销商编码", "quarter"],
    )
    return (
        frame.set_index(["经销商编码", "quarter"])
        .reindex(spine, fill_value=0)
        .reset_index()
    )


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return (numerator / denominator).where(denominator != 0)


def scorecards(frame: pd.DataFrame, config_dir: Path) -> pd.DataFrame:
    rules = yaml.safe_load((config_dir / "scorecard.yml").read_text(encoding="utf-8"))
    frame = _every_quarter(frame).sort_values(["经销商编码", "quarter"])
    frame["net_fen"] = frame["gross_fen"] - frame["returns_fen"]
    by_partner = frame.groupby("经销商编码")
    previous = by_partner["net_fen"].shift(1)
    year_ago = by_partner["net_fen"].shift(QUARTER_INDEX_YEAR)
    receivable = (
        by_partner["net_fen"].cumsum() - by_partner["collected_fen"].cumsum()
    ).clip(lower=0)
    starts = pd.to_datetime(
        (frame["quarter"] // QUARTER_INDEX_YEAR).astype(str)
        + "-"
        + (frame["quarter"] % QUARTER_INDEX_YEAR * 3 + 1).astype(str)
        + "-01"
    )
    days = ((starts + pd.DateOffset(months=3)) - starts).dt.days
    values = {
        "net_sales": frame["net_fen"] / 100,
        "sales_growth_qoq": _ratio(frame["net_fen"] - previous, previous),
        "sales_growth_yoy": _ratio(frame["net_fen"] - year_ago, year_ago),
        "target_attainment": _ratio(frame["net_fen"], frame["target_fen"]).where(
            frame["target_fen"] > 0
        ),
        "collection_ratio": _ratio(frame["collected_fen"], frame["net_fen"]),
        "days_sales_outstanding": _ratio(receivable * days, frame["net_fen"]),
        "return_rate": _ratio(frame["returns_fen"], frame["gross_fen"]),
        "sla_breach_rate": _ratio(frame["sla_breach_count"], frame["complaint_count"]),
        "satisfaction": _ratio(frame["rating_total"] / 10, frame["rating_count"]),
        "activity_count": frame["activity_count"].astype(float),
    }
    unknown = [m["metric"] for m in rules["metrics"] if m["metric"] not in values]
    if unknown:
        raise SystemExit(
            f"the pandas baseline computes no {', '.join(unknown)}: "
            f"add it to bench/pandas_baseline.py or leave it out of "
            f"{config_dir / 'scorecard.yml'}"
        )
    weighted = pd.Series(0.0, index=frame.index)
    weights = pd.Series(0.0, index=frame.index)
    present = pd.Series(0, index=frame.index)
    for metric in rules["metrics"]:
        value = values[metric["metric"]]
        share = (value - metric["floor"]) / (metric["cap"] - metric["floor"])
        share = share.clip(0, 1)
        points = 100 * (share if metric["higher_is_better"] else 1 - share)
        has = points.notna()
        weighted += points.fillna(0) * metric["weight"]
        weights += has * metric["weight"]
        present += has.astype(int)
    frame["score"] = (weighted / weights).where(present >= rules["min_metrics"])
    frame["tier"] = None
    for tier in sorted(rules["tiers"], key=lambda t: t["min_score"]):
        frame.loc[frame["score"] >= tier["min_score"], "tier"] = tier["tier"]
    return frame


def rebates(frame: pd.DataFrame, config_dir: Path) -> pd.DataFrame:
    out = []
    for path in sorted((config_dir / "programs").glob("*.yml")):
        program = yaml.safe_load(path.read_text(encoding="utf-8"))
        basis = frame["gross_fen"] - frame["returns_fen"]
        rate = pd.Series(0.0, index=frame.index)
        for tier in program["tiers"]:
            lower = int(round(tier["from"] * 100))
            upper = tier.get("to")
            inside = basis >= lower
            if upper is not None:
                inside &= basis < int(round(upper * 100))
            rate = rate.mask(inside, tier["rate"])
        # Rates in millionths keep the product exact in int64.
        millionths = (rate * 1_000_000).round().astype("int64")
        product = basis * millionths
        amount = np.sign(product) * ((np.abs(product) + 500_000) // 1_000_000)
        out.append(
            pd.DataFrame(
                {
                    "partner_id": frame["经销商编码"],
                    "period": _label(frame["quarter"]),
                    "program_id": program["program_id"],
                    "basis_fen": basis,
                    "amount_fen": amount,
                }
            )
        )
    return pd.concat(out, ignore_index=True)


def run(drop_dir: Path, config_dir: Path, period: str) -> dict[str, Any]:
    totals, line_count = partner_quarters(drop_dir)
    frame = scorecards(totals, config_dir)
    lines = rebates(frame, config_dir)
    chosen = lines[(lines["period"] == period) & (lines["basis_fen"] != 0)]
    return {
        "rows": line_count,
        "scored": int(frame["score"].notna().sum()),
        "rebate_lines": {
            f"{r.partner_id}|{r.program_id}": int(r.amount_fen)
            for r in chosen.itertuples()
        },
    }


def main(arguments: list[str]) -> None:
    drop_dir, config_dir, period, out = arguments
    result = run(Path(drop_dir), Path(config_dir), period)
    Path(out).write_text(json.dumps(result), encoding="utf-8")
    print("BENCH-RESULT " + json.dumps({"rows": result["rows"]}), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
