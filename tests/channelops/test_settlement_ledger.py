"""AdventureWorks settled quarter by quarter under an annual program, then corrected.

The resellers' 2018 sales settle 2018Q1..Q4 under an annual retroactive
program whose tier bounds are the quartiles of the resellers' own 2018
volumes. Each quarter must pay the cumulative entitlement minus what was
already paid, to the cent of an independent computation from the CSV; a
rerun of a closed quarter must publish nothing and leave its file
byte-identical; a corrected sales file must produce a v2 of the touched
statement whose lines are the deltas, with the reason, and nothing else.
"""

from __future__ import annotations

import csv
import shutil
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pytest

from channelops.periods import Quarter
from channelops.publish import publish_statements
from channelops.pull import pull
from channelops.settings import Settings
from channelops.transform import build_models, load_rules, run_dbt
from channelops.warehouse import Warehouse
from tests.conftest import TEST_DATA, adventureworks_drop

YEAR = "2018"
QUARTERS = [f"{YEAR}Q{n}" for n in range(1, 5)]
RATES = (Decimal("0.01"), Decimal("0.02"), Decimal("0.03"), Decimal("0.04"))
SALES = "FactResellerSales.csv"
FEN = Decimal("0.01")


def quarter_of(day: str) -> str:
    return f"{day[:4]}Q{(int(day[5:7]) - 1) // 3 + 1}"


def sales_by_quarter(drop: Path) -> dict[str, dict[str, Decimal]]:
    """reseller -> quarter -> 2018 sales, read straight from the CSV."""
    totals: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    with (drop / SALES).open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if row["OrderDate"].startswith(YEAR):
                totals[row["ResellerKey"]][quarter_of(row["OrderDate"])] += Decimal(
                    row["SalesAmount"]
                )
    return totals


def volume_tiers(sales: dict[str, dict[str, Decimal]]) -> list[Decimal]:
    """The quartiles of the resellers' annual volumes, rounded to 1,000."""
    annual = sorted(sum(q.values(), Decimal(0)) for q in sales.values())
    return [
        (annual[len(annual) * n // 4] / 1_000).quantize(Decimal(1)) * 1_000
        for n in (1, 2, 3)
    ]


def program_yaml(cuts: list[Decimal]) -> str:
    bounds = [Decimal(0), *cuts]
    tiers = "\n".join(
        f"  - {{name: T{n + 1}, from: {low}"
        + (f", to: {bounds[n + 1]}" if n + 1 < len(bounds) else "")
        + f", rate: {RATES[n]}}}"
        for n, low in enumerate(bounds)
    )
    return (
        "program_id: annual_volume\nname: Annual volume rebate\nversion: 1\n"
        f"effective_from: {YEAR}-01-01\neffective_to: {YEAR}-12-31\n"
        "calculation: retroactive\naccumulation: year\ntiers:\n" + tiers + "\n"
    )


def reference_payments(
    sales: dict[str, dict[str, Decimal]], cuts: list[Decimal]
) -> dict[tuple[str, str], Decimal]:
    """(reseller, quarter) -> what the quarter pays: entitled so far minus before.

    A quarter without sales and without a payment has no statement.
    """
    payments = {}
    for reseller, quarters in sales.items():
        cumulative, entitled_before = Decimal(0), Decimal(0)
        for quarter in QUARTERS:
            cumulative += quarters.get(quarter, Decimal(0))
            rate = RATES[sum(cumulative >= cut for cut in cuts)]
            entitled = (cumulative * rate).quantize(FEN, rounding=ROUND_HALF_UP)
            if quarter in quarters or entitled != entitled_before:
                payments[reseller, quarter] = entitled - entitled_before
            entitled_before = entitled
    return payments


def build(settings: Settings, batch: str) -> None:
    with Warehouse(settings) as warehouse:
        pull(settings, warehouse, batch_id=batch)
        load_rules(settings, warehouse)
    build_models(settings)


def rebuild_rebates(settings: Settings, batch: str) -> None:
    """Pull the corrected file and rebuild only the rebate models (faster)."""
    with Warehouse(settings) as warehouse:
        pull(settings, warehouse, batch_id=batch)
    completed = run_dbt(
        settings,
        "run",
        "--select",
        "+fct_rebate_statements",
        "+fct_rebate_line_sources",
    )
    assert completed.returncode == 0, completed.stdout[-2000:]


def publish(settings: Settings, quarter: str, run_id: str) -> Any:
    with Warehouse(settings) as warehouse:
        return publish_statements(
            settings, warehouse, Quarter.parse(quarter), run_id=run_id
        )


@pytest.fixture
def annual(tmp_path: Path) -> tuple[Settings, list[Decimal]]:
    """A home with the AdventureWorks drop and the annual program, built."""
    home = tmp_path / "home"
    drop = adventureworks_drop(home / "inbox")
    keep_only_the_year(drop)
    config = tmp_path / "config"
    shutil.copytree(TEST_DATA / "adventureworks" / "config", config)
    shutil.rmtree(config / "programs")
    (config / "programs").mkdir()
    cuts = volume_tiers(sales_by_quarter(drop))
    (config / "programs" / "annual_volume.yml").write_text(program_yaml(cuts))
    settings = Settings(home=home, config_dir=config, currency="USD")
    build(settings, "first")
    return settings, cuts


def test_adventureworks_year_settles_quarterly_then_corrects_with_deltas(
    annual: tuple[Settings, list[Decimal]],
) -> None:
    settings, cuts = annual
    drop = settings.inbox_dir
    expected = reference_payments(sales_by_quarter(drop), cuts)

    reports = {q: publish(settings, q, f"settle-{q}") for q in QUARTERS}

    paid = {
        (s.partner_id, q): s.total_amount
        for q, report in reports.items()
        for s in report.statements
    }
    assert paid == expected
    climbed = {r for (r, q), amount in expected.items() if q != "2018Q1" and amount}
    assert len(climbed) > 100
    assert all(len(r.new_versions) == len(r.statements) for r in reports.values())

    # A rerun of a closed quarter publishes nothing; its files stay as they were.
    q4_files = {
        p: p.read_bytes() for p in (settings.published_dir / "2018Q4").rglob("*.json")
    }
    rerun = publish(settings, "2018Q4", "rerun")
    assert rerun.new_versions == ()
    assert {
        p: p.read_bytes() for p in (settings.published_dir / "2018Q4").rglob("*.json")
    } == q4_files

    # Finance removes the reseller's biggest 2018Q2 sale: v2 of its Q2 and the
    # later quarters' statements carry the deltas, no one else's change.
    reseller = max(
        {r for r, q in expected if q == "2018Q2"},
        key=lambda r: (expected[r, "2018Q2"], r),
    )
    removed = remove_biggest_sale(drop, reseller, "2018Q2")
    rebuild_rebates(settings, "corrected")
    corrections = {q: publish(settings, q, f"correct-{q}") for q in QUARTERS}

    new = {
        (s.partner_id, q): s
        for q, report in corrections.items()
        for s in report.new_versions
    }
    assert {p for p, _ in new} == {reseller}
    assert "2018Q1" not in {q for _, q in new}
    v2 = new[reseller, "2018Q2"]
    assert v2.version == 2
    assert v2.document["reason"] == "corrects v1: input files changed"
    [line] = v2.document["lines"]
    assert line["line_kind"] == "program_correction"
    assert line["amount"] == v2.total_amount < 0
    assert line["previously_published_amount"] == expected[reseller, "2018Q2"]
    corrected = reference_payments(sales_by_quarter(drop), cuts)
    assert line["settled_amount"] == corrected[reseller, "2018Q2"]
    assert removed > 0
    for quarter in QUARTERS[1:]:
        published = expected.get((reseller, quarter), Decimal(0)) + (
            new[reseller, quarter].total_amount
            if (reseller, quarter) in new
            else Decimal(0)
        )
        assert published == corrected.get((reseller, quarter), Decimal(0))

    with Warehouse(settings) as warehouse:
        movements = warehouse.query(
            "select version, sum(amount) from ops.settlement_ledger "
            "where partner_id = ? and period = '2018Q2' group by version "
            "order by version",
            (reseller,),
        )
        recorded = warehouse.query(
            "select version, program_versions, code_version, inputs_hash "
            "from ops.settlement_versions where partner_id = ? "
            "and period = '2018Q2' order by version",
            (reseller,),
        )
    assert movements == [(1, expected[reseller, "2018Q2"]), (2, v2.total_amount)]
    assert [r[1] for r in recorded] == ["annual_volume v1"] * 2
    assert recorded[0][3] != recorded[1][3]


def keep_only_the_year(drop: Path) -> None:
    """Only the settled year's sales: the program counts nothing else."""
    path = drop / SALES
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or [])
        rows = [r for r in reader if r["OrderDate"].startswith(YEAR)]
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)


def remove_biggest_sale(drop: Path, reseller: str, quarter: str) -> Decimal:
    path = drop / SALES
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        fields = list(reader.fieldnames or [])
        rows = list(reader)
    candidates = [
        r
        for r in rows
        if r["ResellerKey"] == reseller and quarter_of(r["OrderDate"]) == quarter
    ]
    biggest = max(candidates, key=lambda r: Decimal(r["SalesAmount"]))
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(r for r in rows if r is not biggest)
    return Decimal(biggest["SalesAmount"])
