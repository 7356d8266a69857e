import json

from quotientib.cli import main
from quotientib.verify.suite import core_checks


def test_check_command_passes_and_writes_json(tmp_path, capsys):
    out = tmp_path / "check.json"
    assert main(["check", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "Proposition 1" in printed and "coarea" in printed and "0 failed" in printed
    rows = json.loads(out.read_text())
    assert len(rows) >= 20 and all(r["passed"] for r in rows)


def test_core_checks_cover_each_kind():
    rows = core_checks(seed=1)
    checks = {r.check.split(":")[0] for r in rows}
    assert {"Proposition 1, general", "coarea", "G_hor detected on an oblique slice"} <= checks
    assert all(r.passed for r in rows)
