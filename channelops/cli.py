"""The ``channelops`` command: run the demo, the nightly run or a settlement.

Prefect, dbt and Great Expectations are imported only by the commands that
need them, so ``--help`` answers at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, TypeVar

import typer
from rich.console import Console

from channelops.errors import ChannelopsError, GateBlocked
from channelops.settings import Settings, apply_prefect_defaults, load_settings

if TYPE_CHECKING:
    from flows.stages import RunSummary
    from notifications.documents import Language

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


Result = TypeVar("Result")


def _run(summary_of: str, call: Callable[[], Result]) -> Result:
    """Run a flow callable, turning known errors into a message and exit code."""
    from prefect.exceptions import ParameterTypeError

    try:
        return call()
    except GateBlocked as error:
        console.print(f"[bold red]Blocked:[/] {error}")
        raise typer.Exit(EXIT_BLOCKED) from None
    except ParameterTypeError as error:
        from rich.markup import escape

        from flows.parameters import explain_refusal

        console.print(
            f"[bold red]{summary_of} refused:[/] {escape(explain_refusal(str(error)))}"
        )
        raise typer.Exit(EXIT_FAILED) from None
    except ChannelopsError as error:
        console.print(f"[bold red]{summary_of} failed:[/] {error}")
        raise typer.Exit(EXIT_FAILED) from None


def _print_summary(summary: RunSummary, settings: Settings) -> None:
    _print_lines(summary, settings)
    _print_places(settings)


def _print_lines(summary: RunSummary, settings: Settings) -> None:
    for line in summary.lines(settings):
        console.print(f"  {line}")


def _print_places(settings: Settings) -> None:
    console.print("\nWhere to look:")
    console.print(f"  warehouse   {settings.warehouse_path}")
    console.print(f"  statements  {settings.published_dir}")
    console.print(f"  reports     {settings.reports_dir}")
    console.print(f"  e-mails     {settings.outbox_dir} (.eml files)")
    console.print(f"  data docs   {settings.data_docs_dir}")
    console.print(f"  dbt docs    {settings.dbt_docs_dir} (models and lineage)")


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


class _ExplainedErrorsWithoutTraceback(logging.Filter):
    """Prefect logs a failed run's exception with its traceback. For errors
    channelops raises on purpose (bad input, a blocked gate, a refused
    parameter) the message says what to do and the traceback is noise to an
    operator; every other exception keeps its traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and isinstance(record.exc_info[1], ChannelopsError):
            record.exc_info = None
            record.exc_text = None
        return True


def _logging() -> None:
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    for name in OPERATOR_LOGGERS:
        logging.getLogger(name).setLevel(logging.INFO)
    for name in ("prefect.flow_runs", "prefect.task_runs"):
        logger = logging.getLogger(name)
        if not any(
            isinstance(f, _ExplainedErrorsWithoutTraceback) for f in logger.filters
        ):
            logger.addFilter(_ExplainedErrorsWithoutTraceback())


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
    _write_pack(settings, DEMO_LAST_QUARTER, "zh-CN", mail=False)


@app.command()
def nightly(
    as_of: Annotated[
        str | None, typer.Option(help="Date to run for, YYYY-MM-DD (default today).")
    ] = None,
    publish_despite_warnings: OverrideOption = None,
) -> None:
    """Pull, rebuild, gate and publish the scorecards of the current quarter."""
    try:
        day = date.fromisoformat(as_of) if as_of else None
    except ValueError as error:
        console.print(
            f"[bold red]Nightly run refused:[/] --as-of {as_of!r} is not a date "
            f"like 2026-09-30 ({error})"
        )
        raise typer.Exit(EXIT_FAILED) from None
    settings = load_settings()
    apply_prefect_defaults()
    _logging()
    from flows.nightly import nightly as nightly_flow

    summary = _run(
        "Nightly run",
        lambda: nightly_flow(
            as_of=day, publish_despite_warnings=publish_despite_warnings
        ),
    )
    _print_summary(summary, settings)


PartnerOption = Annotated[
    list[str] | None,
    typer.Option(
        "--partner",
        help="Only this partner's statement (repeat for more); default every one.",
    ),
]


@app.command()
def settle(
    period: Annotated[
        str | None, typer.Option(help="Quarter such as 2025Q3 (default: last closed).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option(help="Compute and report; publish and send nothing.")
    ] = False,
    partner: PartnerOption = None,
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
            partners=_subset(partner),
            publish_despite_warnings=publish_despite_warnings,
        ),
    )
    _print_summary(summary, settings)
    if summary.held:
        raise typer.Exit(EXIT_HELD)


def _subset(partners: list[str] | None) -> frozenset[str] | None:
    return frozenset(partners) if partners else None


@app.command()
def backfill(
    first_period: Annotated[str, typer.Argument(help="Oldest quarter, e.g. 2025Q1.")],
    last_period: Annotated[str, typer.Argument(help="Newest quarter, e.g. 2025Q4.")],
    dry_run: Annotated[
        bool, typer.Option(help="Compute and report; publish and send nothing.")
    ] = False,
    partner: PartnerOption = None,
) -> None:
    """Settle past quarters one after another, oldest first; stop at a failure."""
    settings = load_settings()
    apply_prefect_defaults()
    _logging()
    from flows.backfill import backfill as backfill_flow

    summaries = _run(
        "Backfill",
        lambda: backfill_flow(
            first_period=first_period,
            last_period=last_period,
            partners=_subset(partner),
            dry_run=dry_run,
        ),
    )
    for summary in summaries:
        _print_lines(summary, settings)
    _print_places(settings)


@app.command()
def resend(
    period: Annotated[str, typer.Option(help="The statement's quarter, e.g. 2025Q3.")],
    partner: Annotated[str, typer.Option(help="The partner's code.")],
    version: Annotated[int, typer.Option(help="The published version to send.")],
    request: Annotated[
        str, typer.Option(help="Your reference (a ticket); sent once per reference.")
    ],
) -> None:
    """E-mail a published statement version to the partner again."""
    settings = load_settings()
    apply_prefect_defaults()
    _logging()
    from flows.resend_statement import resend_statement

    summary = _run(
        "Resend",
        lambda: resend_statement(
            period=period, partner_id=partner, version=version, request=request
        ),
    )
    _print_summary(summary, settings)


@app.command("meeting-pack")
def meeting_pack(
    period: Annotated[str, typer.Option(help="The quarter, e.g. 2026Q3.")],
    language: Annotated[str, typer.Option(help="zh-CN (default) or en.")] = "zh-CN",
    mail: Annotated[
        bool,
        typer.Option(help="Also e-mail it to the ops address, once per snapshot."),
    ] = False,
) -> None:
    """Write the quarterly channel-meeting pack (HTML, XLSX, PDF)."""
    _logging()
    if language not in ("zh-CN", "en"):
        console.print(
            f"[bold red]Meeting pack refused:[/] --language must be zh-CN or en, "
            f"received {language!r}"
        )
        raise typer.Exit(EXIT_FAILED)
    _write_pack(load_settings(), period, language, mail)


@app.command()
def accruals(
    month: Annotated[str, typer.Option(help="The month, e.g. 2026-09.")],
    out: Annotated[
        Path | None,
        typer.Option(
            help="CSV to write (default <home>/reports/accruals/accruals_<month>.csv)."
        ),
    ] = None,
) -> None:
    """Print and write finance's rebate accruals and true-ups for a month."""
    from channelops.accruals import accrual_report, write_accrual_csv
    from channelops.periods import Month
    from channelops.warehouse import Warehouse, warehouse_lock

    settings = load_settings()
    _logging()
    try:
        chosen = Month.parse(month)
        with (
            warehouse_lock(settings, holder="channelops accruals"),
            Warehouse(settings) as warehouse,
        ):
            report = accrual_report(warehouse, chosen)
    except (ChannelopsError, ValueError) as error:
        console.print(f"[bold red]Accruals not reported:[/] {error}")
        raise typer.Exit(EXIT_FAILED) from None
    target = out or settings.reports_dir / "accruals" / f"accruals_{chosen.label}.csv"
    currency = settings.currency
    write_accrual_csv(report, target, currency)
    console.print(f"Rebate accruals {chosen.label}:")
    for total in report.totals:
        console.print(
            f"  {total.program_key}  {total.line_kind}  "
            f"{total.partner_count} partner(s)  {total.amount} {currency}"
        )
    console.print(f"  total {report.amount} {currency}; every line in {target}")


@app.command("send-scorecards")
def send_scorecards(
    period: Annotated[str, typer.Option(help="The quarter (2026Q3) or month.")],
) -> None:
    """E-mail each partner its scorecard for the period, once per partner."""
    from channelops.outbox import mail_scorecards
    from channelops.warehouse import Warehouse, warehouse_lock

    settings = load_settings()
    _logging()
    try:
        with (
            warehouse_lock(settings, holder="channelops send-scorecards"),
            Warehouse(settings) as warehouse,
        ):
            mailed = mail_scorecards(settings, warehouse, period)
    except ChannelopsError as error:
        console.print(f"[bold red]Scorecards not sent:[/] {error}")
        raise typer.Exit(EXIT_FAILED) from None
    report = mailed.send
    console.print(
        f"Scorecards {period}: {mailed.queued.queued} queued, {report.sent} sent, "
        f"{report.failed} failed, {len(report.unconfirmed)} unconfirmed"
    )
    for line in report.ops_lines():
        console.print(line)
    if report.failed:
        raise typer.Exit(EXIT_FAILED)


def _write_pack(settings: Settings, period: str, language: str, mail: bool) -> None:
    from channelops.meeting_pack import mail_meeting_pack, write_meeting_pack
    from channelops.periods import Quarter
    from channelops.warehouse import Warehouse, warehouse_lock

    chosen: Language = "en" if language == "en" else "zh-CN"
    try:
        quarter = Quarter.parse(period)
        if mail:
            with (
                warehouse_lock(settings, holder="channelops meeting-pack"),
                Warehouse(settings) as warehouse,
            ):
                mailed = mail_meeting_pack(settings, warehouse, quarter, chosen)
            report = mailed.pack
        else:
            with Warehouse(settings) as warehouse:
                report = write_meeting_pack(settings, warehouse, quarter, chosen)
    except (ChannelopsError, ValueError) as error:
        console.print(f"[bold red]Meeting pack not written:[/] {error}")
        raise typer.Exit(EXIT_FAILED) from None
    console.print(
        f"Meeting pack {report.period} ({report.partner_count} partners): "
        + ", ".join(str(path) for path in report.files)
    )
    if mail:
        console.print(
            f"Meeting pack e-mail to {settings.ops_email}: "
            f"{mailed.queued.queued} queued, {mailed.send.sent} sent, "
            f"{mailed.send.failed} failed"
        )
        if mailed.send.failed:
            raise typer.Exit(EXIT_FAILED)


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
    from channelops.rules import load_adjustments, load_programs, load_scorecard
    from expectations.config import load_gate_config

    settings = load_settings()
    try:
        mappings = load_mappings(settings.config_dir)
        programs = load_programs(settings.config_dir)
        load_scorecard(settings.config_dir)
        adjustments = load_adjustments(settings.config_dir)
        load_gate_config(settings.config_dir)
    except ChannelopsError as error:
        console.print(f"[bold red]Invalid configuration:[/] {error}")
        raise typer.Exit(EXIT_FAILED) from None
    console.print(
        f"Configuration in {settings.config_dir} is valid: "
        f"{len(mappings)} source(s), {len(programs)} program(s), "
        f"{len(adjustments)} adjustment(s)"
    )


ops_app = typer.Typer(
    help="The local ops stack: Prefect server, work pool, deployments, worker.",
    no_args_is_help=True,
)
app.add_typer(ops_app, name="ops")


@ops_app.command("up")
def ops_up(
    database: Annotated[
        str,
        typer.Option(
            help="The Prefect server's database: sqlite (under the channelops "
            "home), postgres (CHANNELOPS_PG_*, database 'prefect') or a URL."
        ),
    ] = "sqlite",
    port: Annotated[int, typer.Option(help="Port of the Prefect UI and API.")] = 4200,
    docs_port: Annotated[
        int, typer.Option(help="Port serving Data Docs and dbt docs.")
    ] = 4201,
) -> None:
    """Start the ops stack in the background, ready to run from the Prefect UI."""
    from channelops.ops_stack import plan_stack, start_stack

    settings = load_settings()
    _logging()
    try:
        plan = plan_stack(settings, port=port, docs_port=docs_port, database=database)
        state = start_stack(settings, plan)
    except ChannelopsError as error:
        console.print(f"[bold red]Ops stack not started:[/] {error}")
        raise typer.Exit(EXIT_FAILED) from None
    console.print(f"[bold green]Ops stack up[/] (database {state.database})")
    console.print(f"  Prefect UI  {state.ui_url}")
    console.print(f"  docs        {state.docs_url}")
    console.print(f"  logs        {settings.ops_dir}")
    console.print(f"\nFor the prefect CLI: export PREFECT_API_URL={state.api_url}")
    console.print("Stop it with: channelops ops down (or make ops-down)")


@ops_app.command("down")
def ops_down() -> None:
    """Stop the processes `channelops ops up` started."""
    from channelops.ops_stack import stop_stack

    settings = load_settings()
    _logging()
    stopped = stop_stack(settings)
    if not stopped:
        console.print(f"No ops stack was running from {settings.ops_dir}")
        return
    console.print(f"Ops stack down: stopped {', '.join(stopped)}")


@ops_app.command("status")
def ops_status() -> None:
    """Say whether the ops stack is up, and where."""
    from channelops.ops_stack import read_state, stack_health

    settings = load_settings()
    state = read_state(settings)
    if state is None:
        console.print(f"No ops stack recorded in {settings.ops_dir}")
        raise typer.Exit(EXIT_FAILED)
    health = stack_health(state)
    console.print(f"Prefect UI {state.ui_url}, database {state.database}")
    for name, ok in health.items():
        console.print(f"  {name:<7} {'up' if ok else '[bold red]down[/]'}")
    if not all(health.values()):
        raise typer.Exit(EXIT_FAILED)
