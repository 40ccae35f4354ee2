"""What the command line hands a study: run ``nnmass ARGV`` with the study's function
replaced by one that records its keyword arguments and stops."""
import pytest


def study_kwargs(monkeypatch, module, function: str, argv: list[str]) -> dict:
    from nnmass.cli import main
    seen = {}

    def study(**kwargs):
        seen.update(kwargs)
        raise SystemExit(0)

    monkeypatch.setattr(module, function, study)
    with pytest.raises(SystemExit):
        main(argv)
    return seen
