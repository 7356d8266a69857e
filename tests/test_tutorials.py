"""Every tutorial runs (with SMOKE sizes) and its own asserts hold."""

import runpy
from pathlib import Path

import matplotlib.pyplot as plt
import pytest

TUTORIALS = sorted((Path(__file__).resolve().parent.parent / "tutorials").glob("[0-9]*.py"))


@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs(path, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)  # tutorials that write files write them here
    runpy.run_path(str(path), init_globals={"SMOKE": True}, run_name="__main__")
    plt.close("all")


def test_there_are_tutorials():
    assert any(p.stem.startswith("01_") for p in TUTORIALS)
