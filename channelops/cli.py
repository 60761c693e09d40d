"""The ``channelops`` command: run the demo, the nightly run or a settlement.

Prefect, dbt and Great Expectations are imported only by the commands that
need them, so ``--help`` answers at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from channelops.errors import ChannelopsError, GateBlocked
from channelops.settings import Settings, apply_prefect_defaults, load_settings

if TYPE_CHECKING:
    from flows.stages import RunSummary

app = typer.Typer(
    help="channelops: partner scorecards, rebate statements and partner mail.",
    no_args_is_help=True,
    add_completion=False,
)
# Messages are printed unwrapped so that paths and keys stay whole.
console = Console(soft_wrap=True)

DEMO_LAST_QUARTER = "2026Q3"
EXIT_FAILED = 1
EXIT_BLOCKED = 2
# The gate warned and no override was given: statements were not published.
EXIT_HELD = 3

OverrideOption = Annotated[
    str | None,
    typer.Option(
        "--publish-despite-warnings",
        help="Reason to publish although gate checks warned (recorded).",
    ),
]


def _run(summary_of: str, call: Callable[[], RunSummary]) -> RunSummary:
    """Run a flow callable, turning known errors into a message and exit code."""
    try:
        return call()
    except GateBlocked as error:
        console.print(f"[bold red]Blocked:[/] {error}")
        raise typer.Exit(EXIT_BLOCKED) from None
    except ChannelopsError as error:
        console.print(f"[bold red]{summary_of} failed:[/] {error}")
        raise typer.Exit(EXIT_FAILED) from None


def _print_summary(summary: RunSummary, settings: Settings) -> None:
    for line in summary.lines(settings):
        console.print(f"  {line}")
    console.print("\nWhere to look:")
    console.print(f"  warehouse   {settings.warehouse_path}")
    console.print(f"  statements  {settings.published_dir}")
    console.print(f"  reports     {settings.reports_dir}")
    console.print(f"  e-mails     {settings.outbox_dir} (.eml files)")
    console.print(f"  data docs   {settings.data_docs_dir}")


# Loggers whose INFO lines are what an operator reads; everything else
# (GX's registration chatter, aiosmtpd's protocol trace, httpx requests to
# the Prefect API) speaks only at WARNING and above.
OPERATOR_LOGGERS = (
    "channelops",
    "flows",
    "expectations",
    "notifications",
    "prefect.flow_runs",
    "prefect.task_runs",
)


def _logging() -> None:
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    for name in OPERATOR_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)


@app.command()
def demo(
    partners: Annotated[int, typer.Option(help="Partners in the demo network.")] = 60,
) -> None:
    """Generate the bundled demo data and settle its last quarter end to end."""
    from channelops.demo import generate_demo

    settings = load_settings()
    apply_prefect_defaults()
    _logging()
    written = generate_demo(
        settings.inbox_dir, partner_count=partners, last_quarter=DEMO_LAST_QUARTER
    )
    console.print(f"Demo data: {len(written.files)} file(s) in {settings.inbox_dir}")
    from flows.quarterly_settlement import quarterly_settlement

    summary = _run(
        "Demo settlement",
        lambda: quarterly_settlement(period=DEMO_LAST_QUARTER),
    )
    console.print(f"\n[bold green]Demo settled {DEMO_LAST_QUARTER}[/]")
    _print_summary(summary, settings)


@app.command()
def nightly(
    as_of: Annotated[
        str | None, typer.Option(help="Date to run for, YYYY-MM-DD (default today).")
    ] = None,
    publish_despite_warnings: OverrideOption = None,
) -> None:
    """Pull, rebuild, gate and publish the scorecards of the current quarter."""
    settings = load_settings()
    apply_prefect_defaults()
    _logging()
    from flows.nightly import nightly as nightly_flow

    day = date.fromisoformat(as_of) if as_of else None
    summary = _run(
        "Nightly run",
        lambda: nightly_flow(
            as_of=day, publish_despite_warnings=publish_despite_warnings
        ),
    )
    _print_summary(summary, settings)


@app.command()
def settle(
    period: Annotated[
        str | None, typer.Option(help="Quarter such as 2025Q3 (default: last closed).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option(help="Compute and report; publish and send nothing.")
    ] = False,
    publish_despite_warnings: OverrideOption = None,
) -> None:
    """Settle a quarter: statements published once and e-mailed to partners."""
    settings = load_settings()
    apply_prefect_defaults()
    _logging()
    from flows.quarterly_settlement import quarterly_settlement

    summary = _run(
        "Settlement",
        lambda: quarterly_settlement(
            period=period,
            dry_run=dry_run,
            publish_despite_warnings=publish_despite_warnings,
        ),
    )
    _print_summary(summary, settings)
    if summary.held:
        raise typer.Exit(EXIT_HELD)


@app.command("contract")
def contract() -> None:
    """Print the input contract as Markdown (docs/input-contract.md)."""
    from channelops.contract import contract_markdown

    typer.echo(contract_markdown(), nl=False)


@app.command("gate-checks")
def gate_checks() -> None:
    """Print every data-quality gate check (the list in docs/gate.md)."""
    from expectations.catalog import catalog_markdown

    typer.echo(catalog_markdown(), nl=False)


@app.command("check-config")
def check_config() -> None:
    """Validate the source mappings, rebate programs, scorecard and gate rules."""
    from channelops.mapping import load_mappings
    from channelops.rules import load_programs, load_scorecard
    from expectations.config import load_gate_config

    settings = load_settings()
    try:
        mappings = load_mappings(settings.config_dir)
        programs = load_programs(settings.config_dir)
        load_scorecard(settings.config_dir)
        load_gate_config(settings.config_dir)
    except ChannelopsError as error:
        console.print(f"[bold red]Invalid configuration:[/] {error}")
        raise typer.Exit(EXIT_FAILED) from None
    console.print(
        f"Configuration in {settings.config_dir} is valid: "
        f"{len(mappings)} source(s), {len(programs)} program(s)"
    )
