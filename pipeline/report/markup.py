"""The HTML building blocks of the run report (`pipeline.report.render`): the page's inline
CSS, escaped cells and tables, formatted numbers, paragraphs, lists, embedded PNG figures and
sections. Every piece of text passed in is HTML-escaped here, unless it is `Raw` markup."""

from __future__ import annotations

import base64
import html
from collections.abc import Iterable, Sequence

STYLE = """
:root { --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --head: #f6f8fa;
        --good: #1a7f37; --bad: #cf222e; --link: #0969da; }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
       color: var(--fg); max-width: 1100px; margin: 0 auto; padding: 0 1.5rem 3rem; }
header { border-bottom: 1px solid var(--line); padding: 1rem 0 .5rem; }
h1 { margin: 0 0 .25rem; font-size: 1.6rem; }
h2 { margin-top: 2.5rem; padding-bottom: .25rem; border-bottom: 1px solid var(--line); }
h3 { margin-top: 1.5rem; font-size: 1.05rem; }
nav a { color: var(--link); text-decoration: none; margin-right: 1.25rem; }
dl.facts { display: grid; grid-template-columns: max-content auto; gap: .2rem 1.25rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.good { color: var(--good); font-weight: 600; }
.bad { color: var(--bad); font-weight: 600; }
.note { color: var(--muted); }
table { border-collapse: collapse; margin: .75rem 0; font-size: 14px; }
th, td { border: 1px solid var(--line); padding: .25rem .6rem; text-align: left;
         vertical-align: top; }
th { background: var(--head); font-weight: 600; }
td:last-child { min-width: 12rem; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
tfoot td { font-weight: 600; background: var(--head); }
.tag { font-size: 12px; padding: 0 .45rem; border-radius: 1rem; background: #ddf4ff; }
.figures { display: flex; flex-wrap: wrap; gap: 1.5rem; align-items: flex-start; }
figure { margin: .75rem 0; }
figure img { max-width: 100%; height: auto; border: 1px solid var(--line); }
figcaption { color: var(--muted); font-size: 13px; }
"""


class Raw(str):
    """Markup built here from escaped parts; a table puts it in a cell as is."""


class Num(str):
    """A formatted number; a table right-aligns it."""


def cell(tag: str, value: str) -> str:
    if isinstance(value, Num):
        return f'<{tag} class="num">{html.escape(value)}</{tag}>'
    if isinstance(value, Raw):
        return f"<{tag}>{value}</{tag}>"
    return f"<{tag}>{html.escape(value)}</{tag}>"


def table(header: Sequence[str], rows: Iterable[Sequence[str]], footer: Sequence[str] = ()) -> str:
    head = "".join(cell("th", h) for h in header)
    body = "".join("<tr>" + "".join(cell("td", c) for c in row) + "</tr>" for row in rows)
    foot = "<tfoot><tr>" + "".join(cell("td", c) for c in footer) + "</tr></tfoot>"
    return (
        f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
        f"{foot if footer else ''}</table>"
    )


def metric(value: float) -> Num:
    return Num(f"{value:.4f}")


def count(value: float) -> Num:
    return Num(f"{value:,.0f}")


def paragraph(text: str, css_class: str = "") -> str:
    attribute = f' class="{css_class}"' if css_class else ""
    return f"<p{attribute}>{html.escape(text)}</p>"


def bullets(items: Iterable[str]) -> str:
    return "<ul>" + "".join(f"<li>{html.escape(item)}</li>" for item in items) + "</ul>"


def image(png: bytes, alt: str, caption: str = "") -> str:
    data = base64.b64encode(png).decode("ascii")
    text = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    image = f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt)}">'
    return f"<figure>{image}{text}</figure>"


def section(section_id: str, title: str, body: str) -> str:
    return f'<section id="{section_id}"><h2>{html.escape(title)}</h2>{body}</section>'
