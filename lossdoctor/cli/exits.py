"""How every run ends: with an exit code CI can rely on, and never with a traceback."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
from dataclasses import dataclass

import click

from lossdoctor import __version__
from lossdoctor.errors import InputError
from lossdoctor.render import Format, render_error
from lossdoctor.render.escape import visible
from lossdoctor.write import write_text

EXIT_USAGE = 2
EXIT_INTERNAL = 3
ARGS = "lossdoctor.args"  # ctx.meta: the raw arguments, for errors raised before parsing ends
DEBUG_HELP = "On an internal error (exit 3), print the traceback."


class Failure(click.ClickException):
    """A run that ends without a report: one line on stderr. What the run was asked to write
    says so too: with --format json on stdout, a JSON error object (a tool reading stdout always
    gets JSON); with --output FILE, the error in FILE's format replaces the previous report, so
    that a step posting FILE never posts a stale verdict."""

    def __init__(self, message: str, exit_code: int, args: list[str], kind: str | None = "error"):
        # One line, nothing the terminal or a CI log would obey, even when the message quotes
        # the data (a column name with a newline or an escape sequence in it).
        super().__init__(visible(message))
        self.exit_code = exit_code
        self.raw = RawOptions.of(args)
        self.kind = kind
        self.traceback = ""  # set under --debug

    def show(self, file=None) -> None:
        fmt, output = self.raw.format, self.raw.output
        if output is not None:
            with contextlib.suppress(InputError):  # the error below is the one to tell
                write_text(output, render_error(self.message, self.exit_code, fmt), "--output")
        elif fmt is Format.JSON:
            click.echo(render_error(self.message, self.exit_code, fmt), nl=False)
        said = f"{self.kind}: {self.message}" if self.kind else self.message
        click.echo(f"{self.traceback}lossdoctor: {said}", err=True)


@dataclass(frozen=True)
class RawOptions:
    """--format, --output and --debug read from the raw arguments: a run can fail before, or
    because, click parses them."""

    format: Format | None
    output: str | None
    debug: bool

    @classmethod
    def of(cls, args: list[str]) -> RawOptions:
        args = args[: args.index("--")] if "--" in args else list(args)
        values: dict[str, str] = {}
        for i, arg in enumerate(args):
            name, eq, value = arg.partition("=")
            if name in ("--format", "--output", "-o") and not eq and i + 1 < len(args):
                value = args[i + 1]
            elif arg.startswith("-o") and not arg.startswith("--") and len(arg) > 2:
                name, value = "-o", arg[2:]
            elif not eq:
                continue
            values[{"-o": "--output"}.get(name, name)] = value
        known = {f.value: f for f in Format}
        return cls(known.get(values.get("--format", "")), values.get("--output"), "--debug" in args)


class Group(click.Group):
    """Ends every run with an exit code CI can rely on, and never with a traceback.

    Bad input (InputError) and bad usage become one line and exit 2. Any other exception is a
    bug in lossdoctor: one line asking for a report (the traceback only with --debug), exit 3.
    SIGINT and SIGTERM end the run with one line and 128 + the signal's number.
    """

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        ctx.meta[ARGS] = list(args)  # shared with the subcommand's context
        try:
            return super().parse_args(ctx, args)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as error:
            raise _usage_failure(error, ctx.meta[ARGS]) from None
        except KeyboardInterrupt as error:
            raise _stopped(error, ctx.meta[ARGS]) from None
        except BrokenPipeError:  # --help or --version, read by `| head`
            stdout_closed()
            raise click.exceptions.Exit(0) from None

    def invoke(self, ctx: click.Context):
        args = ctx.meta.get(ARGS, [])
        try:
            return super().invoke(ctx)
        except (Failure, click.exceptions.Exit, click.Abort):
            raise  # click's own endings: --help, ^C
        except BrokenPipeError:
            stdout_closed()  # the reader has what it wanted: the exit code stays the command's
            return None
        except click.UsageError as error:
            raise _usage_failure(error, args, ctx) from None
        except click.ClickException:
            raise
        except InputError as error:
            raise Failure(str(error), EXIT_USAGE, args) from None
        except KeyboardInterrupt as error:
            raise _stopped(error, args) from None
        except Exception as error:
            raise _internal_failure(error, args) from None


class _Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the run is, so that it ends as an interrupted one does."""

    signal = signal.SIGTERM


def on_sigterm(signum: int, frame: object) -> None:
    raise _Terminated


def _stopped(error: KeyboardInterrupt, args: list[str]) -> Failure:
    """Exit 128 + the signal's number, as a shell reports a process killed by it."""
    signum = getattr(error, "signal", signal.SIGINT)
    said = "terminated" if signum == signal.SIGTERM else "interrupted"
    return Failure(said, 128 + signum, args, kind=None)


def _usage_failure(
    error: click.UsageError, args: list[str], group: click.Context | None = None
) -> Failure:
    """One line that points at the help of the command that was misused; click's parser leaves
    the error without a context for an option missing its value, hence the group's."""
    if error.ctx is not None:
        command = error.ctx.command_path
    elif group is not None and group.invoked_subcommand:
        command = f"{group.command_path} {group.invoked_subcommand}"
    else:
        command = "lossdoctor"
    message = " ".join(error.format_message().split()).rstrip(".")
    return Failure(f"{message}; see '{command} --help'", EXIT_USAGE, args)


def _internal_failure(error: Exception, args: list[str]) -> Failure:
    debug = RawOptions.of(args).debug
    detail = (str(error).strip().splitlines() or [""])[0]
    what = f"{type(error).__name__}: {detail}" if detail else type(error).__name__
    hint = "" if debug else "; rerun with --debug for the traceback"
    message = f"{what} (lossdoctor {__version__}; please report this with the file's shape{hint})"
    failure = Failure(message, EXIT_INTERNAL, args, kind="internal error")
    if debug:
        import traceback  # only for a bug's report

        failure.traceback = "".join(traceback.format_exception(error))
    return failure


@contextlib.contextmanager
def reader_may_leave():
    """A reader that closes stdout early (`| head`) has what it wanted: what is left to print
    goes nowhere, and the run goes on to its exit code."""
    try:
        yield
    except BrokenPipeError:
        stdout_closed()


def raise_broken_pipe() -> None:
    raise BrokenPipeError


def stdout_closed() -> None:
    """Points stdout at the null device, so that the flush at exit does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
