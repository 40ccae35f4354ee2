"""Reports as a list of blocks (heading, paragraph, table, image, code), rendered as
markdown and as a self-contained HTML page (images linked, not embedded, so both share
the PNGs), so the two formats never drift apart. Knows nothing of what a report says.
"""
from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Sequence

from .errors import UsageError
from .files.writing import check_output_folder, write_text_atomically

FORMATS = ("md", "html", "both")


def heading(text: str, level: int = 2) -> tuple:
    return ("h", level, text)


def para(text: str) -> tuple:
    return ("p", text)


def table(rows: Sequence[dict], columns: Sequence[str] | None = None) -> tuple:
    columns = list(columns or (rows[0] if rows else []))
    return ("table", columns, [[str(r.get(c, "")) for c in columns] for r in rows])


def image(path: str, alt: str) -> tuple:
    return ("img", path, alt)


def code(text: str) -> tuple:
    return ("code", text)


def render_markdown(blocks: Sequence[tuple]) -> str:
    out = []
    for b in blocks:
        if b[0] == "h":
            out.append("#" * b[1] + " " + b[2])
        elif b[0] == "p":
            out.append(b[1])
        elif b[0] == "table":
            cols, rows = b[1], b[2]
            esc = lambda s: s.replace("|", "\\|")
            out.append("\n".join(["| " + " | ".join(map(esc, cols)) + " |", "|" + "---|" * len(cols)]
                                 + ["| " + " | ".join(map(esc, r)) + " |" for r in rows]))
        elif b[0] == "img":
            out.append(f"![{b[2]}]({b[1]})")
        elif b[0] == "code":
            out.append("```\n" + b[1] + "\n```")
    return "\n\n".join(out) + "\n"


_CSS = ("body{font-family:sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}"
        "table{border-collapse:collapse;margin:1em 0;font-size:0.9em}"
        "th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}th{background:#f3f3f3}"
        "img{max-width:100%}pre{background:#f6f6f6;padding:0.7em;overflow-x:auto}")


def render_html(blocks: Sequence[tuple], title: str) -> str:
    e = html.escape
    out = [f"<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>{e(title)}</title>"
           f"<style>{_CSS}</style></head><body>"]
    for b in blocks:
        if b[0] == "h":
            out.append(f"<h{b[1]}>{e(b[2])}</h{b[1]}>")
        elif b[0] == "p":
            out.append(f"<p>{e(b[1])}</p>")
        elif b[0] == "table":
            head = "".join(f"<th>{e(c)}</th>" for c in b[1])
            body = "".join("<tr>" + "".join(f"<td>{e(v)}</td>" for v in r) + "</tr>" for r in b[2])
            out.append(f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>")
        elif b[0] == "img":
            out.append(f"<p><img src='{e(b[1])}' alt='{e(b[2])}'></p>")
        elif b[0] == "code":
            out.append(f"<pre>{e(b[1])}</pre>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def write_blocks(blocks: Sequence[tuple], out_dir: Path, title: str, formats: str = "both") -> Path:
    """Write ``report.md`` and/or ``report.html``; returns the first written."""
    if formats not in FORMATS:
        raise UsageError(f"report format must be one of {', '.join(FORMATS)}, got {formats!r}")
    written = []
    if formats in ("md", "both"):
        written.append(out_dir / "report.md")
        write_text_atomically(written[-1], "--out", render_markdown([heading(title, 1), *blocks]))
    if formats in ("html", "both"):
        written.append(out_dir / "report.html")
        write_text_atomically(written[-1], "--out", render_html([heading(title, 1), *blocks], title))
    return written[0]


def prepare_out_dir(out_dir: str | Path) -> Path:
    check_output_folder(out_dir, parents=True)
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UsageError(f"cannot create report folder {str(out)!r}: {e.strerror}") from None
    if not os.access(out, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write report folder {str(out)!r}: it is not writable")
    return out
