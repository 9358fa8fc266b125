"""--engine dask: every pass runs on a Dask cluster; each Parquet partition is summarised where
it is read, and the summaries merge in a tree on the cluster.

Rows are numbered as the local engine numbers them: files in sorted path order (component by
component), row groups in file order. A partition's first row comes from the Parquet footers,
which are read once, on the cluster; numbering rows reads no data.

The cluster (engines/cluster.py) is a scheduler's, or a LocalCluster started in this process
and closed with the engine; dask is imported only when an engine is made.

Two engines on one cluster summarise the same rows of two datasets side by side (compare): each
partition of the first with the rows of the same numbers cut from the second's partitions.

Tasks are pickled even in process, so summarize and merge must pickle (cloudpickle takes
closures and lambdas). A remote cluster's workers need lossdoctor installed, and the fsspec
package for the path's protocol.
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

from lossdoctor.engines.cluster import Cluster
from lossdoctor.engines.dask_partitions import (
    FORMAT,
    Piece,
    merge_all,
    summarize_pair,
    summarize_partition,
)
from lossdoctor.errors import InputError
from lossdoctor.io import DEFAULT_BATCH_ROWS, Batch, pick_weight, resolve_columns
from lossdoctor.io.arrow import arrow_errors, check_declared_rows, dedup
from lossdoctor.io.columns import listing
from lossdoctor.io.dataset import (
    GLOB_CHARS,
    LOCAL,
    FsspecFiles,
    check_partitioning,
    check_schemas,
    find_files,
)
from lossdoctor.io.segments import FILE, parse_by, segment_columns
from lossdoctor.io.sources import reading
from lossdoctor.settings import DEFAULTS

if TYPE_CHECKING:
    import pyarrow as pa
    from fsspec import AbstractFileSystem

T = TypeVar("T")

# A partition is as many whole row groups of one file as make about this many rows (a row group
# cannot be split, so one larger than this is a partition of its own).
ROWS_PER_PARTITION = DEFAULT_BATCH_ROWS
FOOTERS_PER_TASK = 32  # footers read by one task: one task per file would cost more than a read
MERGE_FAN_IN = 8  # summaries merged by one task of the tree


class DaskEngine:
    """A Parquet file, directory or glob (any path fsspec reads), summarised on a Dask cluster.

    scheduler is a distributed scheduler's address (tcp://host:8786); without one, a
    LocalCluster runs in this process until close(). Only footers are read on creation.
    """

    merges_in_order = False  # partitions' summaries merge in a tree
    spare_core = False  # the cluster's workers summarise partitions side by side

    def __init__(
        self,
        path: str,
        *,
        label_cols: Sequence[str] = (),
        pred_cols: Sequence[str] = (),
        weight_col: str | None = None,
        partitioning: str | None = None,
        scheduler: str | None = None,
        timeout: float = DEFAULTS.timeout,
        capacity: int = DEFAULTS.capacity,
        by: Sequence[str] = (),
        cluster: Cluster | None = None,
    ) -> None:
        check_partitioning(partitioning)
        self.source = path
        self.format = FORMAT
        self.capacity = capacity
        # another engine's cluster is used, not closed, by this one
        self._owns_cluster = cluster is None
        self._cluster = Cluster(scheduler, timeout) if cluster is None else cluster
        try:
            self._open(path, label_cols, pred_cols, weight_col, partitioning, by)
        except BaseException:
            self.close()
            raise

    def _open(
        self,
        path: str,
        label_cols: Sequence[str],
        pred_cols: Sequence[str],
        weight_col: str | None,
        partitioning: str | None,
        by: Sequence[str],
    ) -> None:
        import dask.dataframe as dd

        fs, files = _find_files(path)
        schemas, row_groups = _read_footers(self._result, fs, files)
        chunk = _row_groups_per_partition(row_groups)
        # A whole file per partition needs no row-group statistics, which dask would gather
        # file by file on this machine.
        whole_files = chunk >= max(len(groups) for groups in row_groups)
        with reading(path, "parquet", arrow_errors()):
            frame = dd.read_parquet(
                files,
                filesystem=fs,
                index=False,
                split_row_groups=False if whole_files else chunk if chunk > 1 else True,
                blocksize=None,
                ignore_metadata_file=True,
                dtype_backend="pyarrow",
                dataset={"partitioning": partitioning},
            )
        keys = [n for n in frame.columns if n not in schemas[0].names]
        names = dedup([*schemas[0].names, *keys])
        weight = pick_weight(names, weight_col, path, [*label_cols, *pred_cols])
        weights = [weight] if weight else []
        labels, preds = resolve_columns(
            [n for n in names if n != weight], label_cols, pred_cols, source=path
        )
        by_columns = segment_columns(names, by, [*labels, *preds, *weights], path)
        self._segments = (by_columns, any(parse_by(text).column == FILE for text in by))
        segments = list(by_columns.values())
        stored = [c for c in (*labels, *preds, *weights, *segments) if c not in keys]
        check_schemas(files, schemas, stored, path)
        for file, schema, groups in zip(files, schemas, row_groups, strict=True):
            for rows in groups:  # a row group is read whole, by a worker of this machine's size
                check_declared_rows(rows, schema, stored, file)
        self.label_columns = tuple(labels)
        self.prediction_columns = tuple(preds)
        self.weight_column = weight
        self._weight_by_name = not weight_col
        self.n_rows = sum(sum(groups) for groups in row_groups)
        if not self.n_rows:
            raise InputError(f"no rows in {path}; save at least one prediction")
        pieces = _pieces(files, row_groups, chunk)
        self._root = _root(path)
        partitions = frame[dedup([*labels, *preds, *weights, *segments])].to_delayed()
        if len(partitions) != len(pieces):
            raise RuntimeError(
                f"dask split {path} into {len(partitions)} partitions where {len(pieces)} "
                "were planned from the footers; row numbers would be wrong"
            )
        self._partitions = list(zip(partitions, pieces, strict=True))

    @property
    def cluster(self) -> Cluster:
        """What this engine computes on: another engine may share it."""
        return self._cluster

    def map_reduce(self, summarize: Callable[[Batch], T], merge: Callable[[T, T], T]) -> T:
        """summarize(batch) for every non-empty partition, merged in a tree on the cluster."""
        from dask import delayed

        nodes = [
            delayed(summarize_partition)(
                partition, piece, self._columns, self.source, summarize, self._segments, self._root
            )
            for partition, piece in self._partitions
            if piece.n_rows
        ]
        return self._merged(nodes, merge)

    def map_reduce_pairs(
        self,
        other: DaskEngine,
        summarize: Callable[[Batch, Batch], T],
        merge: Callable[[T, T], T],
    ) -> T:
        """summarize(batch, other's batch of the same rows) for every non-empty partition of
        this engine's, merged in a tree on the cluster. The other's rows are cut from its
        partitions that hold them: the two datasets' files may end at different rows. Both
        engines must have as many rows (and the same cluster)."""
        from dask import delayed

        theirs = sorted(
            ((partition, piece) for partition, piece in other._partitions if piece.n_rows),
            key=lambda pair: pair[1].first_row,
        )
        ends = [piece.first_row + piece.n_rows for _, piece in theirs]
        nodes = []
        for partition, piece in self._partitions:
            if not piece.n_rows:
                continue
            # the other's partitions from the one holding this piece's first row to its last
            first = bisect.bisect_right(ends, piece.first_row)
            last = bisect.bisect_left(ends, piece.first_row + piece.n_rows) + 1
            holding = theirs[first:last]
            nodes.append(
                delayed(summarize_pair)(
                    (partition, piece, self._columns, self.source),
                    ([frame for frame, _ in holding], [p for _, p in holding]),
                    (other._columns, other.source),
                    summarize,
                )
            )
        return self._merged(nodes, merge)

    @property
    def _columns(self) -> tuple[tuple[str, ...], tuple[str, ...], str]:
        # a column found by its name is found again so in each partition, and said so
        given_weight = "" if self._weight_by_name else self.weight_column
        return self.label_columns, self.prediction_columns, given_weight

    def _merged(self, nodes: list, merge: Callable[[T, T], T]) -> T:
        from dask import delayed

        while len(nodes) > 1:
            nodes = [
                delayed(merge_all)(merge, *nodes[i : i + MERGE_FAN_IN])
                for i in range(0, len(nodes), MERGE_FAN_IN)
            ]
        with reading(self.source, "parquet", arrow_errors()):
            return self._result(nodes[0])

    def _result(self, graph: Any) -> Any:
        return self._cluster.result(graph, self.source)

    def close(self) -> None:
        """Disconnect; a LocalCluster this engine started is shut down."""
        if self._owns_cluster:
            self._cluster.close()

    def __enter__(self) -> DaskEngine:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()


def _find_files(path: str) -> tuple[AbstractFileSystem, list[str]]:
    """The Parquet files of a file, directory or glob, found as every engine finds them (see
    lossdoctor.io.dataset), on the filesystem fsspec gives the path."""
    from fsspec.core import url_to_fs
    from fsspec.implementations.local import LocalFileSystem

    try:
        fs, root = url_to_fs(path)
        found, _ = find_files(root, LOCAL if isinstance(fs, LocalFileSystem) else FsspecFiles(fs))
    except (OSError, ValueError, ImportError) as e:
        detail = (str(e).strip().splitlines() or [type(e).__name__])[0]
        raise InputError(
            f"cannot open {path} ({detail}); check the path, and for a remote one that the "
            "fsspec package for its protocol (s3fs, gcsfs, adlfs) is installed"
        ) from None
    files = [f for f, fmt in found if fmt == "parquet"]
    others = [f for f, fmt in found if fmt not in ("parquet", None)]
    if others:
        what = (
            "is not a Parquet file"
            if others == [root]
            else f"holds files that are not Parquet ({listing(sorted(others))})"
        )
        raise InputError(
            f"{path} {what}; the dask engine reads Parquet only: convert it, or leave out "
            "--engine dask"
        )
    if not files:
        raise InputError(f"{path} holds no Parquet files; pass a file, directory or glob of them")
    return fs, files


def _read_footers(
    compute: Callable[[Any], Any], fs: AbstractFileSystem, files: list[str]
) -> tuple[list[pa.Schema], list[tuple[int, ...]]]:
    """Each file's schema and row-group sizes, read on the cluster (near remote data)."""
    from dask import delayed

    tasks = [
        delayed(_footers)(fs, files[i : i + FOOTERS_PER_TASK])
        for i in range(0, len(files), FOOTERS_PER_TASK)
    ]
    footers = [f for chunk in compute(delayed(list)(tasks)) for f in chunk]
    return [schema for schema, _ in footers], [groups for _, groups in footers]


def _footers(fs: AbstractFileSystem, files: list[str]) -> list[tuple[pa.Schema, tuple[int, ...]]]:
    import pyarrow.parquet as pq

    footers = []
    for file in files:
        with reading(file, "parquet", arrow_errors()), fs.open(file, "rb") as stream:
            meta = pq.ParquetFile(stream).metadata
            schema = meta.schema.to_arrow_schema()
        footers.append(
            (schema, tuple(meta.row_group(i).num_rows for i in range(meta.num_row_groups)))
        )
    return footers


def _row_groups_per_partition(row_groups: list[tuple[int, ...]]) -> int:
    sizes = sorted(n for groups in row_groups for n in groups if n)
    typical = sizes[len(sizes) // 2] if sizes else 1
    return max(1, ROWS_PER_PARTITION // typical)


def _pieces(files: list[str], row_groups: list[tuple[int, ...]], chunk: int) -> list[Piece]:
    """The partitions dask makes, in its order: `chunk` row groups of a file at a time (files in
    natural order, part-2 before part-10), each with its first row in dataset order."""
    from dask.utils import natural_sort_key

    starts, first_row = {}, 0
    for file, groups in zip(files, row_groups, strict=True):
        starts[file] = first_row
        first_row += sum(groups)
    sizes = dict(zip(files, row_groups, strict=True))
    pieces = []
    for file in sorted(files, key=natural_sort_key):
        first_row, groups = starts[file], sizes[file]
        for i in range(0, max(len(groups), 1), chunk):
            n_rows = sum(groups[i : i + chunk])
            pieces.append(Piece(file, first_row, n_rows))
            first_row += n_rows
    return pieces


def _root(path: str) -> str:
    """What files are named relative to, as the local engine names them."""
    from fsspec.core import url_to_fs

    from lossdoctor.io.dataset import split_glob

    _, root = url_to_fs(path)
    if GLOB_CHARS.isdisjoint(root):
        return root if LOCAL.is_dir(root) else os.path.dirname(root)
    return split_glob(root)[0] or "."
