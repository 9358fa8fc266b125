"""The commands that describe lossdoctor itself: its checks, and the JSON Schema of its output."""

from __future__ import annotations

import sys

import click

from lossdoctor.cli.exits import EXIT_USAGE
from lossdoctor.render.escape import strict_json
from lossdoctor.report import SCHEMA_KINDS


@click.command("checks")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="A line per check, or a JSON array of {id, severity, summary, why, fixes}.",
)
def list_checks(output_format: str) -> None:
    """List every check with its id and default severity."""
    described_checks = _every_check()
    summaries = {
        check.ID: check.__doc__.split("\n", 1)[0].split(": ", 1)[1] for check in described_checks
    }
    if output_format == "json":
        described = [
            {
                "id": check.ID,
                "severity": str(check.SEVERITY),
                "summary": summaries[check.ID],
                "why": check.WHY,
                "fixes": _fixes(check),
            }
            for check in described_checks
        ]
        click.echo(strict_json(described))
        return
    width = max(len(check.ID) for check in described_checks)
    for check in described_checks:
        click.echo(f"{check.ID:<{width}}  {check.SEVERITY!s:<7}  {summaries[check.ID]}")


@click.command()
@click.option(
    "--kind",
    type=click.Choice(SCHEMA_KINDS),
    default="any",
    show_default=True,
    help="Every output of --format json, or only the report or the error object.",
)
def schema(kind: str) -> None:
    """Print the JSON Schema (draft 2020-12) of what check --format json prints: a report or an
    error object for one path, an array of them for several."""
    from lossdoctor.report import json_schema

    click.echo(json_schema(kind), nl=False)


@click.command()
@click.argument("check_id")
def explain(check_id: str) -> None:
    """Explain a check: what it detects, why it matters, how it decides, how to fix it."""
    import textwrap

    from lossdoctor import gates

    known = {check.ID: check for check in (*_every_check(), gates)}
    check = known.get(check_id)
    if check is None:
        click.echo(
            f"lossdoctor: error: unknown check {check_id!r}; "
            f"known checks: {', '.join(known)} (see lossdoctor checks)",
            err=True,
        )
        sys.exit(EXIT_USAGE)
    summary, body = check.__doc__.strip().split("\n", 1)
    click.echo(f"{summary}\ndefault severity: {check.SEVERITY}\n")
    click.echo(
        "Why it matters:\n"
        + textwrap.fill(check.WHY, 96, initial_indent="  ", subsequent_indent="  ")
        + "\n"
    )
    click.echo(body.strip() + "\n")
    examples = getattr(check, "EXAMPLES", ())
    if examples:
        click.echo("Examples (each run as a test):")
        for example in examples:
            click.echo(f"  {example.outcome}: {example.says}")
        click.echo()
    fixes = _fixes(check)
    click.echo("Fixes:" if fixes else "", nl=bool(fixes))
    for framework, line in fixes.items():
        click.echo(f"  {framework}: {line}")


def _fixes(check) -> dict[str, str]:
    """A check's fixes by framework; a segment check has one fix for every framework."""
    fix = getattr(check, "FIX", None)
    return dict(getattr(check, "FIXES", {})) or ({"any framework": fix} if fix else {})


def _every_check() -> tuple:
    """The registry's checks, then the segments' (run by the pipeline on segment summaries)."""
    from lossdoctor.checks import REGISTRY
    from lossdoctor.segments import inconsistent, weak

    return (*REGISTRY, inconsistent, weak)
