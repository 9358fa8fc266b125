"""A Dask cluster to compute on: the scheduler at an address, or a LocalCluster started in this
process (one worker with a thread per core, its status pages on a free loopback port; threads,
not processes: pyarrow and numpy release the GIL while they work, and no data is copied between
processes). dask and distributed are imported only when a cluster is made.
"""

from __future__ import annotations

import logging
import os
import time
from typing import TYPE_CHECKING, Any

from lossdoctor.errors import InputError

if TYPE_CHECKING:
    from distributed import Client, LocalCluster

INSTALL = "pip install 'lossdoctor[dask]'"
CONNECT_TIMEOUT = "10s"  # for a scheduler address; a LocalCluster starts without waiting
_POLL_SECONDS = 1.0  # how often a wait asks whether the cluster still has a worker


class Cluster:
    """A connection to a scheduler (tcp://host:8786), or without one a LocalCluster that runs
    until close(); a result is waited for as long as the cluster has a worker, and `timeout`
    seconds without one."""

    def __init__(self, scheduler: str | None, timeout: float) -> None:
        _import_dask()
        self._timeout = timeout
        self._client, self.local = _connect(scheduler)
        self._where = scheduler or "the local cluster"

    def result(self, graph: Any, source: str) -> Any:
        """The computed graph of a task over `source`, waiting as long as the cluster has a
        worker: with none for `timeout` seconds (none yet, or the last one died), an InputError
        says so."""
        from distributed import KilledWorker
        from distributed import TimeoutError as NoResultYet  # not the builtin one before 3.11

        future = self._client.compute(graph)
        alone_since = None
        try:
            while True:
                try:
                    return future.result(timeout=_POLL_SECONDS)
                except NoResultYet:
                    pass
                if self._has_workers():
                    alone_since = None
                    continue
                alone_since = alone_since or time.monotonic()
                if time.monotonic() - alone_since >= self._timeout:
                    raise InputError(
                        f"the Dask cluster at {self._where} has had no worker for "
                        f"{self._timeout:g} s; start workers (dask worker ADDRESS), or wait "
                        "longer with --timeout SECONDS"
                    ) from None
        except KilledWorker:
            raise InputError(
                f"Dask workers died running a task of {source}, again and again (dask's "
                "KilledWorker); give them more memory, or look at their logs"
            ) from None
        finally:
            future.cancel()

    def _has_workers(self) -> bool:
        """Whether the scheduler has a worker; a scheduler that cannot be asked has none."""
        try:
            return bool(self._client.nthreads())
        except (OSError, TimeoutError):
            return False

    def close(self) -> None:
        """Disconnect; a LocalCluster this made is shut down."""
        self._client.close()
        if self.local is not None:
            self.local.close()


def _import_dask() -> None:
    try:
        import dask.dataframe  # noqa: F401
        import distributed  # noqa: F401
    except ImportError as e:
        raise InputError(f"--engine dask needs dask and distributed ({e}); {INSTALL}") from None


def _connect(scheduler: str | None) -> tuple[Client, LocalCluster | None]:
    from distributed import Client, LocalCluster

    if scheduler is None:
        cluster = LocalCluster(
            n_workers=1,
            threads_per_worker=os.cpu_count() or 1,
            processes=False,
            dashboard_address="127.0.0.1:0",  # its status pages: loopback only, any free port
            silence_logs=logging.ERROR,
        )
        return Client(cluster, set_as_default=False), cluster
    try:
        return Client(scheduler, timeout=CONNECT_TIMEOUT, set_as_default=False), None
    except (OSError, TimeoutError, ValueError) as e:
        detail = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise InputError(
            f"cannot reach the Dask scheduler at {scheduler} ({detail}); start one "
            "(dask scheduler) and pass its address, tcp://HOST:8786, or leave the scheduler "
            "out to run on this machine"
        ) from None
