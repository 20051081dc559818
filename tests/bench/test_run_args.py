"""bench/run.py's arguments: --figures picks what to measure and where a partial run writes."""

import pytest

from bench.run import FIGURES, parse


def test_every_figure_by_default_into_latest_json() -> None:
    args = parse(["--sizes", "100"])
    assert args.figures == list(FIGURES)
    assert args.out.endswith("bench/results/latest.json")


def test_some_figures_write_their_own_file_and_leave_latest_json_alone() -> None:
    args = parse(["--sizes", "100", "--figures", "pipeline"])
    assert args.figures == ["pipeline"]
    assert args.out.endswith("bench/results/latest-pipeline.json")
    assert parse(["--figures", "pipeline", "--out", "out/x.json"]).out == "out/x.json"


def test_an_unknown_figure_is_refused(capsys) -> None:
    with pytest.raises(SystemExit):
        parse(["--figures", "pipeline,speed"])
    assert "speed" in capsys.readouterr().err
