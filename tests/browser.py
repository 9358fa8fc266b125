"""Headless Chromium, driven over the DevTools protocol on a pipe, for the HTML report's tests.

Chromium reads commands on fd 3 and writes replies and events on fd 4, each a JSON message
ended by a NUL (--remote-debugging-pipe): no port, no websocket, no package beyond the
standard library. The network is off (offline emulation, no background services), and every
request, console message and exception is recorded so a test can say there were none.
Screenshots are PNGs, decoded here with zlib (read_png) so tests can check their pixels.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import select
import shutil
import struct
import subprocess
import tempfile
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--hide-scrollbars",
    "--proxy-server=127.0.0.1:9",  # anything that would leave the machine goes nowhere
    "--remote-debugging-pipe",
)
TIMEOUT = 60.0  # seconds for any one reply


def chromium() -> str | None:
    """The Chromium on PATH (Debian's `chromium`), or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


@dataclass
class Page:
    """What a page did while it loaded and was looked at."""

    requests: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    console: list[str] = field(default_factory=list)  # errors and warnings, with their text
    exceptions: list[str] = field(default_factory=list)


class Browser:
    """One Chromium process; open() loads a file into a fresh tab of the given size."""

    def __init__(self, executable: str) -> None:
        self.profile = tempfile.TemporaryDirectory(prefix="lossdoctor-chromium-")
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()

        def pipes() -> None:  # in the child: its fd 3 reads commands, fd 4 writes replies
            read, write = os.dup(to_browser_read), os.dup(from_browser_write)
            os.dup2(read, 3)
            os.dup2(write, 4)

        self.process = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={self.profile.name}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=pipes,
            pass_fds=(3, 4),
        )
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._buffer = b""
        self._next_id = 0
        self._events: list[dict] = []

    def close(self) -> None:
        with contextlib.suppress(OSError, TimeoutError, RuntimeError):
            self.send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)
        self.profile.cleanup()

    # ---- the protocol ----

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        """One command; its result (events that arrive meanwhile are kept)."""
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session is not None:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive()
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})
            self._events.append(reply)

    def _receive(self) -> dict:
        deadline = time.monotonic() + TIMEOUT
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            ready, _, _ = select.select([self._from_browser], [], [], max(left, 0))
            if not ready:
                raise TimeoutError("Chromium did not answer")
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise RuntimeError("Chromium closed its pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(message)

    def _wait_for(self, method: str, session: str) -> None:
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            for event in self._events:
                if event.get("method") == method and event.get("sessionId") == session:
                    return
            self._events.append(self._receive())
        raise TimeoutError(f"no {method}")

    # ---- pages ----

    def open(
        self, path: Path, width: int, height: int = 900, dark: bool = False
    ) -> tuple[Page, str]:
        """Load the file offline in a new tab; the page's record and the tab's session."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})[
            "sessionId"
        ]
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.send(f"{domain}.enable", session=session)
        self.send(
            "Network.emulateNetworkConditions",
            {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
            session,
        )
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
            session,
        )
        scheme = "dark" if dark else "light"
        self.send(
            "Emulation.setEmulatedMedia",
            {"features": [{"name": "prefers-color-scheme", "value": scheme}]},
            session,
        )
        self._events.clear()
        self.send("Page.navigate", {"url": path.resolve().as_uri()}, session)
        self._wait_for("Page.loadEventFired", session)
        page = Page()
        for event in self._events:
            if event.get("sessionId") != session:
                continue
            method, params = event.get("method"), event.get("params", {})
            if method == "Network.requestWillBeSent":
                page.requests.append(params["request"]["url"])
            elif method == "Network.loadingFailed":
                page.failed.append(params.get("errorText", "failed"))
            elif method == "Runtime.consoleAPICalled" and params["type"] in ("error", "warning"):
                page.console.append(" ".join(str(a.get("value")) for a in params["args"]))
            elif method == "Log.entryAdded" and params["entry"]["level"] in ("error", "warning"):
                page.console.append(params["entry"]["text"])
            elif method == "Runtime.exceptionThrown":
                page.exceptions.append(params["exceptionDetails"].get("text", ""))
        return page, session

    def evaluate(self, session: str, expression: str):
        """The JSON value of a JavaScript expression in the page."""
        result = self.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session
        )
        return result["result"].get("value")

    def screenshot(self, session: str) -> bytes:
        """A PNG of the whole page, beyond the window."""
        shot = self.send(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True, "optimizeForSpeed": True},
            session,
        )
        return base64.b64decode(shot["data"])


# ---- PNG -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Image:
    pixels: np.ndarray  # uint8 (height, width, channels)

    @property
    def height(self) -> int:
        return self.pixels.shape[0]

    @property
    def width(self) -> int:
        return self.pixels.shape[1]

    def pixel(self, x: int, y: int) -> tuple[int, int, int]:
        return tuple(int(v) for v in self.pixels[y, x, :3])


def read_png(data: bytes) -> Image:
    """An 8-bit RGB or RGBA PNG, as Chromium writes it, to its pixels.

    Rows filtered None, Sub or Up (all that Chromium's fast encoder writes) are undone with
    numpy; Average and Paeth, pixel by pixel."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    position, compressed = 8, []
    width = height = channels = 0
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position : position + 8])
        body = data[position + 8 : position + 8 + length]
        position += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour = struct.unpack(">IIBB", body[:10])
            if depth != 8 or colour not in (2, 6):
                raise ValueError(f"PNG of depth {depth}, colour type {colour}")
            channels = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            compressed.append(body)
    raw = np.frombuffer(zlib.decompress(b"".join(compressed)), dtype=np.uint8)
    rows = raw.reshape(height, width * channels + 1)
    out = np.zeros((height, width, channels), dtype=np.uint8)
    previous = np.zeros((width, channels), dtype=np.uint8)
    for y in range(height):
        line = rows[y, 1:].reshape(width, channels)
        out[y] = _unfilter(int(rows[y, 0]), line, previous)
        previous = out[y]
    return Image(out)


def _unfilter(kind: int, line: np.ndarray, previous: np.ndarray) -> np.ndarray:
    if kind == 0:
        return line
    if kind == 1:
        return (np.cumsum(line, axis=0, dtype=np.int64) % 256).astype(np.uint8)
    if kind == 2:
        return line + previous  # uint8 wraps, as the filter does
    if kind not in (3, 4):
        raise ValueError(f"PNG filter {kind}")
    out = line.astype(np.int64)
    up_row = previous.astype(np.int64)
    left = np.zeros(line.shape[1], dtype=np.int64)
    corner = np.zeros(line.shape[1], dtype=np.int64)
    for x in range(line.shape[0]):
        up = up_row[x]
        if kind == 3:
            out[x] = (out[x] + (left + up) // 2) % 256
        else:
            guess = left + up - corner
            distances = np.stack([abs(guess - left), abs(guess - up), abs(guess - corner)])
            nearest = np.choose(np.argmin(distances, axis=0), [left, up, corner])
            out[x] = (out[x] + nearest) % 256
        left, corner = out[x], up
    return out.astype(np.uint8)
