import json

import pytest

import quotientib.report as report
from quotientib.report import build_report, verdict_class


@pytest.mark.parametrize("text,kind", [
    ("holds: only r^(d-1) exp(-L/T) is consistent", "holds"),
    ("does not hold", "does not hold"),
    ("differs", "differs"),
    ("eta=0.05: measured/Kunin = 1.004", "measured (see text)"),
])
def test_verdict_class(text, kind):
    assert verdict_class(text) == kind


def test_report_checks_section(tmp_path):
    summary = build_report(tmp_path, sections=["checks"], progress=False)
    assert summary["sections"] == {"checks": "ok"} and not summary["errors"]
    text = (tmp_path / "report.md").read_text()
    assert "Proposition 1" in text and "Verdict per claim" in text
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["summary"]["counts"]["holds"] >= 20
    oblique = [v for v in summary["verdicts"] if v["claim"].startswith("G_hor detected")]
    assert oblique and all(v["criterion"].startswith("passes when") for v in oblique)


def test_failing_section_is_reported_not_hidden(tmp_path, monkeypatch):
    def broken(out):
        raise RuntimeError("catalog exploded")

    monkeypatch.setattr(report, "_section_catalog", broken)
    summary = build_report(tmp_path, sections=["catalog"], progress=False)
    assert summary["sections"]["catalog"] == "error"
    assert "catalog exploded" in summary["errors"]["catalog"]
    assert "**ERROR**" in (tmp_path / "report.md").read_text()


def test_unknown_section(tmp_path):
    with pytest.raises(ValueError, match="Unknown report sections"):
        build_report(tmp_path, sections=["nope"], progress=False)
