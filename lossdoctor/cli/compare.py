"""`lossdoctor compare BASELINE CANDIDATE [more]`: parse, compare, render, exit."""

from __future__ import annotations

import sys

import click

from lossdoctor.cli.check import SCHEDULER_OPTION, TIMEOUT_OPTION, GateType, dask_options
from lossdoctor.cli.options import bootstrap_options
from lossdoctor.settings import DEFAULTS, FAIL_ON

FORMATS = ("terminal", "json", "markdown", "html")


@click.command()
@click.argument("baseline", metavar="BASELINE")
@click.argument("candidates", metavar="CANDIDATE...", nargs=-1, required=True)
@click.option("--id-col", metavar="NAME", help="Pair the rows by this column's ids, not by order.")
@click.option(
    "--unpaired-ok", is_flag=True, help="With --id-col: compare the rows both files hold."
)
@click.option("--label-col", multiple=True, metavar="NAME", help="Label column(s); globs allowed.")
@click.option("--pred-col", multiple=True, metavar="NAME", help="Prediction column(s).")
@click.option("--weight-col", metavar="NAME", help="Sample weights' column.")
@click.option("--task", type=click.Choice(["binary", "multiclass"]), help="Skip task inference.")
@click.option("--threshold", type=float, help=f"Binary cut; default {DEFAULTS.threshold}.")
@click.option("--confidence", type=float, help=f"Intervals' level; default {DEFAULTS.confidence}.")
@click.option(
    "--alpha",
    type=float,
    help=f"Significance level, Holm-corrected over the metrics compared; default {DEFAULTS.alpha}.",
)
@bootstrap_options
@click.option(
    "--gate",
    "gates",
    multiple=True,
    type=GateType(relative_ok=True),
    metavar="'METRIC OP X'",
    help="A bound on the candidate, e.g. 'roc_auc >= baseline - 0.005'; repeatable.",
)
@click.option(
    "--fail-on",
    type=click.Choice(list(FAIL_ON)),
    help="Lowest severity of a candidate's own findings that makes the exit code 1; default "
    f"{DEFAULTS.fail_on}.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(FORMATS),
    default="terminal",
    show_default=True,
)
@click.option("--output", "-o", metavar="FILE", help="Write the --format output to FILE.")
@click.option(
    "--engine",
    type=click.Choice(["local", "dask"]),
    default="local",
    show_default=True,
    help="local: files in memory, datasets streamed; dask: Parquet datasets on a Dask cluster, "
    "paired by row order (pip install 'lossdoctor[dask]').",
)
@SCHEDULER_OPTION
@TIMEOUT_OPTION
@click.option("--config", "config_path", metavar="FILE", help="Settings from this TOML file.")
@click.option("--no-config", is_flag=True, help="Ignore pyproject.toml and lossdoctor.toml.")
@click.option("--ascii", "ascii_only", is_flag=True, help="ASCII arrows only.")
def compare(
    baseline: str,
    candidates: tuple[str, ...],
    id_col: str | None,
    unpaired_ok: bool,
    label_col: tuple[str, ...],
    pred_col: tuple[str, ...],
    weight_col: str | None,
    task: str | None,
    threshold: float | None,
    confidence: float | None,
    alpha: float | None,
    bootstrap: int | None,
    seed: int | None,
    gates: tuple,
    fail_on: str | None,
    output_format: str,
    output: str | None,
    engine: str,
    scheduler: str | None,
    timeout: float | None,
    config_path: str | None,
    no_config: bool,
    ascii_only: bool,
) -> None:
    """Compare CANDIDATE predictions with BASELINE's on the same rows: paired tests per metric.

    Rows pair by order (their labels must agree) or by --id-col. Exit codes: 0 no regression,
    1 a significant regression, a failed gate or a candidate finding at --fail-on, 2 bad input.
    Settings come from the command line, then [tool.lossdoctor] as for check.
    """
    from lossdoctor.cli.display import progress_bar
    from lossdoctor.comparison import Pairing, compare_paths
    from lossdoctor.config import project_config
    from lossdoctor.render import comparison as views
    from lossdoctor.settings import Settings
    from lossdoctor.write import write_text

    if config_path is not None and no_config:
        raise click.UsageError("--config and --no-config contradict each other")
    timeout = dask_options(engine, scheduler, timeout)
    said = {
        "id_col": id_col,
        "unpaired_ok": unpaired_ok or None,
        "alpha": alpha,
        "bootstrap": bootstrap,
        "seed": seed,
        "task": task,
        "fail_on": fail_on,
        "threshold": threshold,
        "confidence": confidence,
        "gates": gates or None,
        "label_col": label_col or None,
        "pred_col": pred_col or None,
        "weight_col": weight_col or None,
        "engine": engine,
        "scheduler": scheduler,
        "timeout": timeout,
    }
    settings = Settings.layered(said, project_config(config_path, use=not no_config))
    if settings.unpaired_ok and not settings.id_col:
        raise click.UsageError("--unpaired-ok (unpaired-ok) needs --id-col (id-col)")
    pairing = Pairing(
        settings.id_col, settings.unpaired_ok, settings.alpha, settings.bootstrap, settings.seed
    )
    with progress_bar(baseline, ascii_only) as progress:
        result = compare_paths(
            baseline,
            candidates,
            settings,
            pairing,
            progress,
        )
    render = {
        "terminal": lambda c: views.render_terminal(c, ascii=ascii_only),
        "json": views.render_json,
        "markdown": views.render_markdown,
        "html": views.render_html,
    }[output_format]
    text = render(result)
    if output is not None:
        write_text(output, text, "--output")
    else:
        click.echo(text, nl=False)
    sys.exit(result.exit_code)
