"""CLI: ``gluteutils data make``, ``gluteutils data check FILE``, ``gluteutils anonymise``."""

from __future__ import annotations

import json

import pytest

from gluteutils import cohort
from gluteutils._paths import data_path
from gluteutils.cli import main


def test_data_make_writes_a_valid_package(tmp_path, capsys):
    assert main(["data", "make", "--out", str(tmp_path), "--n-episodes", "60", "--seed", "4"]) == 0
    assert (tmp_path / "datapackage.json").exists()
    assert "wrote visits" in capsys.readouterr().out
    assert main(["data", "check", str(tmp_path)]) == 0
    assert capsys.readouterr().out.strip().endswith("OK")


def test_data_make_default_matches_shipped_hash(tmp_path):
    assert main(["data", "make", "--out", str(tmp_path)]) == 0
    for name in ("episodes.csv", "visits.csv"):
        assert cohort.sha256(tmp_path / name) == cohort.sha256(data_path("outcomes", name))


def test_data_check_reports_row_and_column_and_fails(tmp_path, capsys):
    lines = data_path("outcomes", "visits.csv").read_text(encoding="utf-8").splitlines()[:20]
    parts = lines[7].split(",")
    parts[3] = "11"
    lines[7] = ",".join(parts)
    bad = tmp_path / "visits.csv"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert main(["data", "check", str(bad)]) == 1
    out = capsys.readouterr().out
    assert "INVALID" in out and "row 7" in out and "'pain_nprs'" in out
    assert main(["data", "check", str(bad), "--lenient"]) == 1
    assert "REJECTED ROWS: 1" in capsys.readouterr().out


def test_data_check_needs_a_resource_for_unknown_names(tmp_path, capsys):
    f = tmp_path / "export.csv"
    f.write_text("a,b\n1,2\n", encoding="utf-8")
    assert main(["data", "check", str(f)]) == 2
    assert main(["data", "check", str(f), "--resource", "visits"]) == 1
    assert "missing" in capsys.readouterr().out


def test_anonymise_cli_round_trip(tmp_path, capsys):
    out = tmp_path / "anon"
    rc = main(["anonymise", str(data_path("mappings", "demo_clinic_export.csv")), str(out),
               "--mapping", str(data_path("mappings", "demo_clinic.yaml")), "--seed", "3"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "k over" in text and "dropped export columns" in text
    desc = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    assert "SYNTHETIC" not in desc["title"]
    assert main(["data", "check", str(out)]) == 0
    written = (out / "episodes.csv").read_text() + (out / "visits.csv").read_text()
    assert "@" not in written and "MRN" not in written


def test_anonymise_cli_fails_cleanly_on_bad_export(tmp_path, capsys):
    export = data_path("mappings", "demo_clinic_export.csv").read_text(encoding="utf-8")
    bad = tmp_path / "bad.csv"
    bad.write_text(export.replace(",Physio,", ",Chiro,", 1), encoding="utf-8")
    rc = main(["anonymise", str(bad), str(tmp_path / "o"), "--mapping",
               str(data_path("mappings", "demo_clinic.yaml"))])
    assert rc == 1
    assert "Chiro" in capsys.readouterr().out
    assert not (tmp_path / "o").exists()


def test_data_check_names_a_spreadsheet_without_traceback(tmp_path, capsys):
    path = tmp_path / "visits.csv"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 26 + b"[Content_Types].xml xl/")
    assert main(["data", "check", str(path)]) == 1
    out = capsys.readouterr().out
    assert "this is an .xlsx" in out and "Traceback" not in out


def test_data_check_header_only_fails(tmp_path, capsys):
    from gluteutils.outcomes import schema

    path = tmp_path / "visits.csv"
    path.write_text(",".join(schema.VISIT_COLUMNS) + "\n", encoding="utf-8")
    assert main(["data", "check", str(path)]) == 1
    assert "no data rows" in capsys.readouterr().out


@pytest.mark.needs_shared
def test_anonymise_cli_keeps_a_trials_own_instrument(tmp_path, capsys):
    """A 0-1 VAS trial (Chow 2006, ../shared) anonymised by the CLI loads back on its scale."""
    from gluteutils.outcomes.io import load
    from tests.conftest import SHARED_DATA

    out = tmp_path / "anon"
    rc = main(["anonymise", str(SHARED_DATA / "neck_pain_chow2006_lllt.csv"), str(out),
               "--mapping", str(data_path("mappings", "neck_pain_chow2006.yaml")),
               "--seed", "1"])
    assert rc == 0, capsys.readouterr()
    desc = json.loads((out / "datapackage.json").read_text(encoding="utf-8"))
    visits = next(r for r in desc["resources"] if r["name"] == "visits")
    pain = next(f for f in visits["schema"]["fields"] if f["name"] == "pain_nprs")
    assert pain["instrument"] == "vas_0_1"
    assert main(["data", "check", str(out)]) == 0
    loaded = load(out)
    values = loaded.visits["pain_nprs"].dropna()
    assert values.max() <= 1.0 and (values % 1 != 0).any()  # decimals kept, not rounded
