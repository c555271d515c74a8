"""The reference list loads and resolves; the CLI dispatches; the demo widget responds."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from gluteutils import cli, references
from gluteutils.errors import ContentError, UnknownReferenceError

ROOT = Path(__file__).resolve().parents[1]


def test_reference_keys_are_unique_and_complete() -> None:
    table = references.reference_table()
    assert table.index.is_unique
    assert table["year"].notna().all() and table["title"].notna().all()
    assert table["journal"].notna().all()


def test_unknown_key_raises() -> None:
    with pytest.raises(UnknownReferenceError):
        references.resolve("no_such_paper_1900")


def test_check_keys_reports_missing() -> None:
    some = references.reference_table().index[0]
    assert references.check_keys([some, "missing_key_2099"]) == ["missing_key_2099"]


def test_duplicate_keys_are_rejected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    entry = {"key": "dup2000", "authors": "A B", "year": 2000, "title": "T", "journal": "J"}
    refs = tmp_path / "references"
    refs.mkdir()
    (refs / "a.yaml").write_text(yaml.safe_dump([entry]))
    (refs / "b.yaml").write_text(yaml.safe_dump([entry]))
    monkeypatch.setenv("GLUTE_DATA_DIR", str(tmp_path))
    with pytest.raises(ContentError, match="dup2000"):
        references.reference_table()


def test_every_citation_in_notebook_markdown_resolves() -> None:
    """Keys cited in notebooks as ``[key]`` after a fact resolve in the reference list."""
    import nbformat

    keys: set[str] = set()
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = nbformat.read(path, as_version=4)
        for cell in nb.cells:
            if cell.cell_type == "markdown":
                keys |= set(re.findall(r"\[([a-z][a-z_]*\d{4}[a-z0-9_]*)\]", cell.source))
    assert references.check_keys(keys) == []


def test_cli_help_and_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        cli.main(["--version"])
    assert exc.value.code == 0
    assert "gluteutils" in capsys.readouterr().out
    assert cli.main([]) == 2


def test_cli_lists_notebook_rebuild() -> None:
    parser = cli.build_parser()
    args = parser.parse_args(["notebooks", "rebuild", "00_start"])
    assert args.names == ["00_start"] and callable(args.handler)


def test_notebook_paths_match_fragments() -> None:
    from gluteutils.notebooks import notebook_paths

    assert [p.name for p in notebook_paths(["00_start"])] == ["00_start_here.ipynb"]
    with pytest.raises(FileNotFoundError):
        notebook_paths(["no-such-notebook"])


def test_demo_widget_responds() -> None:
    from gluteutils.widgets._base import demo_slider_app

    app = demo_slider_app()
    app.slider.value = 2
    assert app.figure.data[0].y == (2,)
    assert "2 out of 10" in app.label.value
    bundle = app._repr_mimebundle_()
    assert bundle["text/plain"] == "DemoApp(pain slider at 2, bar at 2)"
    assert "application/vnd.jupyter.widget-view+json" in bundle
