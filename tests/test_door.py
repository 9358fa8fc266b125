"""The one door to the engines: `open_engine` decides file or dataset, and which engine, for the
command line and `lossdoctor.diagnose` alike."""

from __future__ import annotations

import contextlib

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

import lossdoctor
import lossdoctor.engines as engines
from lossdoctor.cli import cli
from lossdoctor.engines import open_engine, streams
from lossdoctor.engines.local import InMemory, Streaming
from lossdoctor.errors import InputError
from lossdoctor.io import from_arrays
from lossdoctor.settings import DEFAULTS, Settings

Y = np.array([0, 1, 1, 0, 1, 0, 1, 0])
P = np.array([0.1, 0.9, 0.8, 0.3, 0.6, 0.4, 0.7, 0.2])


@pytest.fixture
def files(tmp_path):
    table = pa.table({"label": Y, "prob": P})
    (tmp_path / "d").mkdir()
    pq.write_table(table.slice(0, 5), tmp_path / "d" / "a.parquet")
    pq.write_table(table.slice(5), tmp_path / "d" / "b.parquet")
    pq.write_table(table, tmp_path / "one.parquet")
    return tmp_path


def test_a_file_is_read_whole_and_its_tables_are_exact(files):
    assert not streams(str(files / "one.parquet"), DEFAULTS)
    with open_engine(files / "one.parquet", DEFAULTS) as engine:
        assert isinstance(engine, InMemory)
        assert engine.capacity is None and engine.n_rows == 8


@pytest.mark.parametrize("dataset", ["d", "d/*.parquet"])
def test_a_directory_or_a_glob_streams_with_the_settings_capacity(files, dataset):
    path = str(files / dataset)
    settings = Settings(capacity=1000)
    assert streams(path, settings)
    with open_engine(path, settings) as engine:
        assert isinstance(engine, Streaming)
        assert engine.capacity == 1000 and engine.n_rows == 8


def test_arrays_already_read_are_one_batch():
    predictions = from_arrays(Y, P, source="<array>", format="array")
    with open_engine(predictions, DEFAULTS) as engine:
        assert isinstance(engine, InMemory) and engine.source == "<array>"


def test_the_dask_engine_makes_any_path_a_dataset(files):
    assert streams(str(files / "one.parquet"), Settings(engine="dask"))


def test_what_a_dataset_cannot_take_is_refused_at_the_door(files):
    with (
        pytest.raises(InputError, match="--labels reads one file"),
        open_engine(files / "d", Settings(labels_path=str(files / "one.parquet"))),
    ):
        pass
    with pytest.raises(InputError, match="stdin"), open_engine("-", Settings(engine="dask")):
        pass


def test_settings_are_checked_when_made():
    with pytest.raises(InputError, match="unknown --fail-on 'often'"):
        Settings(fail_on="often")
    with pytest.raises(InputError, match="confidence is a level between 0 and 1"):
        Settings(confidence=1.0)
    with pytest.raises(InputError, match="unknown engine 'spark'"):
        Settings(engine="spark")
    with pytest.raises(InputError, match="a scheduler needs the dask engine"):
        Settings(scheduler="tcp://localhost:8786")


def test_the_api_and_the_command_line_both_go_through_the_door(files, monkeypatch):
    opened = []
    real = engines.open_engine

    @contextlib.contextmanager
    def recording(source, settings, progress=None, keep_freed_memory=False):
        opened.append((str(source), settings.threshold))
        with real(source, settings, progress, keep_freed_memory) as engine:
            yield engine

    monkeypatch.setattr(engines, "open_engine", recording)
    monkeypatch.setattr(lossdoctor, "open_engine", recording)
    path = str(files / "d")
    api = lossdoctor.diagnose(path, threshold=0.3)
    result = CliRunner().invoke(cli, ["check", path, "--threshold", "0.3", "--format", "json"])
    assert opened == [(path, 0.3), (path, 0.3)]
    assert result.exit_code == api.exit_code
    assert api.metrics.values["accuracy"] == np.mean((P >= 0.3) == Y)
