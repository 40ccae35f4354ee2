"""The README's links to its own sections resolve, with GitHub's heading anchors."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def github_anchor(heading: str) -> str:
    """GitHub's slug: lower case, punctuation other than '-' and '_' dropped, spaces to '-'."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """Every heading's anchor, outside fenced code, with GitHub's -1, -2 for repeats."""
    seen, out, fenced = Counter(), set(), False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and (m := re.match(r"#{1,6} (.+)", line)):
            slug = github_anchor(m.group(1))
            out.add(slug if not seen[slug] else f"{slug}-{seen[slug]}")
            seen[slug] += 1
    return out


def test_anchor_rule_on_worked_headings():
    assert github_anchor("The DARTS space (NAS-Bench-301): `nb301:ARCH`, `darts:ARCH`") == \
        "the-darts-space-nas-bench-301-nb301arch-dartsarch"
    assert github_anchor("Train, sweep, fit, report") == "train-sweep-fit-report"
    assert anchors("# A\n```\n# not a heading\n```\n## A\n") == {"a", "a-1"}


def test_every_internal_link_names_a_section():
    text = README.read_text()
    targets = re.findall(r"\]\(#([^)]+)\)", text)
    assert len(targets) >= 10  # the contents list at the top
    missing = sorted(set(targets) - anchors(text))
    assert not missing, f"README links to sections it does not have: {missing}"
