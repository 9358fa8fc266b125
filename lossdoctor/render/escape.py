"""Text from the data, made safe to print: what a file says is shown, never obeyed.

A prediction file comes with a pull request; its names and values end up in a terminal and in a
CI log. A control character in them would move the cursor, retitle the window or start a new
line; a CI runner reads a line starting with `::` as a workflow command (GitHub's runner after
leading whitespace, and its older `##[command]` form anywhere in a line). `visible` turns each of
those into an escape a reader can see, so the terminal report and `-q` print exactly what the
file holds and nothing the file could use. Markdown and GitHub annotations start from it and add
their own syntax.
"""

from __future__ import annotations

import json
import re

# C0 and C1 controls with DEL, line and paragraph separators, the bidirectional overrides and
# isolates (text that reads in another order than it is stored), and lone surrogates (bytes of a
# file name that are not UTF-8, as Python decodes them).
_UNSEEN = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
# What a runner reads as a command: `::` (a colon after a colon is escaped, so no `::` is left
# to start a line wherever the layout wraps) and the older `##[`.
_COMMANDS = re.compile(r"(?<=:):|(?<=##)\[")
# Characters that Markdown or GitHub would read as syntax (emphasis, links, HTML, tables, math,
# @mentions); a backslash makes any ASCII punctuation literal in CommonMark. Links and images
# need a `[`, so the brackets are enough for them.
_MARKDOWN = re.compile(r"([\\`*_\[\]<>#|~&$@])")


def visible(text: object) -> str:
    """`text` on one line, each unseen character and each command marker as a visible escape
    (`\\n`, `\\x1b`, `\\u202e`; `::` as `:\\x3a`); printable text, whatever its script, as is."""
    return _COMMANDS.sub(_escape, _UNSEEN.sub(_escape, str(text)))


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    code = ord(char)
    if char in _NAMED:
        return _NAMED[char]
    if 0xDC80 <= code <= 0xDCFF:  # an undecodable byte of a file name: show the byte
        return f"\\x{code - 0xDC00:02x}"
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def markdown_text(text: object) -> str:
    """Plain text for Markdown, shown as written: `visible` on one line, then Markdown's and
    GitHub's syntax characters escaped."""
    return _MARKDOWN.sub(r"\\\1", " ".join(visible(text).split()))


def markup(text: object) -> str:
    """Text for an HTML page: `visible` line by line (code keeps its line breaks), then HTML's own
    characters escaped."""
    import html  # with its table of entities: an HTML page's cost, not every report's

    return html.escape("\n".join(visible(line) for line in str(text).split("\n")))


def strict_json(value: object, indent: int | None = 2) -> str:
    """Strict JSON (no NaN; every control and non-ASCII character as a `\\u` escape) in which no
    string can be read as a command when the JSON is printed to a CI log: `##[` only occurs
    inside strings, where `\\u005b` is the same `[`."""
    return json.dumps(value, indent=indent, allow_nan=False).replace("##[", "##\\u005b")
