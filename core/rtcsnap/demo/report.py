"""``index.html``: every image of the task with the callback that announced it.

A static page beside the downloaded images (links are relative, so the folder can be zipped or
served as is). It checks itself: once the page has loaded, a few lines of script count the
images that decoded and mark any that did not, and the status line at the top says
"all N images loaded" or names the broken ones — a report that cannot silently show a gap.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

STREAM_KIND = {0: "camera", 1: "screen share"}
FIELDS = (
    ("event_id", "event"),
    ("object_key", "object key"),
    ("veimagex_uri", "veImageX URI"),
    ("bucket", "bucket"),
    ("veimagex_service_id", "service"),
    ("size", "bytes"),
    ("received_at", "received"),
)
_STYLE = """
body { font-family: system-ui, sans-serif; margin: 1.5rem; background: #f6f6f4; color: #1d1f23; }
h1 { font-size: 1.4rem; } h2 { font-size: 1.1rem; margin-top: 2rem; }
#status { font-weight: 600; } #status.bad { color: #b3261e; } #status.good { color: #1b6b35; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: .8rem; }
figure { margin: 0; background: #fff; border: 1px solid #ddd; border-radius: 6px; padding: .4rem; }
figure.broken { border: 2px solid #b3261e; }
figure img { width: 100%; height: auto; display: block; background: #000; }
figcaption { font-size: .75rem; line-height: 1.35; word-break: break-all; }
figcaption b { font-size: .85rem; }
dl { display: grid; grid-template-columns: max-content 1fr; gap: 0 .6rem; margin: .3rem 0 0; }
dt { color: #666; } dd { margin: 0; }
table.counts td, table.counts th { padding: .1rem .8rem .1rem 0; text-align: left; }
"""
_CHECK = """
window.addEventListener("load", function () {
  var imgs = Array.prototype.slice.call(document.querySelectorAll("figure img"));
  var broken = imgs.filter(function (i) { return !(i.complete && i.naturalWidth > 0); });
  broken.forEach(function (i) { i.closest("figure").classList.add("broken"); });
  var s = document.getElementById("status");
  s.dataset.loaded = String(imgs.length - broken.length);
  s.dataset.broken = String(broken.length);
  s.className = broken.length ? "bad" : "good";
  s.textContent = broken.length
    ? broken.length + " of " + imgs.length + " images did not load: " +
      broken.map(function (i) { return i.getAttribute("src"); }).join(", ")
    : "all " + imgs.length + " images loaded";
});
"""


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _shown(name: str, value: Any) -> str:
    if name == "received_at":  # seconds since the epoch, when the receiver stored it
        return _iso(round(float(value) * 1000))
    return str(value)


def _href(path: str) -> str:
    return quote(path, safe="/")


def _figure(row: Mapping[str, Any], path: str) -> str:
    e = html.escape
    when = _iso(int(row["timestamp_ms"]))
    items = "".join(
        f"<dt>{e(label)}</dt><dd>{e(_shown(name, row[name]))}</dd>"
        for name, label in FIELDS
        if row.get(name) not in (None, "")
    )
    size = f"{row['width']}x{row['height']}"
    return (
        f'<figure data-key="{e(str(row.get("object_key") or row.get("veimagex_uri") or ""))}">'
        f'<a href="{e(_href(path))}"><img src="{e(_href(path))}" alt="{e(when)}" width="{int(row["width"])}"'
        f' height="{int(row["height"])}"></a>'
        f"<figcaption><b>{e(when)}</b> · {e(size)}<dl>{items}</dl></figcaption></figure>"
    )


def write_report(
    out: Path,
    *,
    title: str,
    rows: Sequence[Mapping[str, Any]],
    paths: Mapping[str, str],
    facts: Sequence[tuple[str, str]],
    counts: Mapping[str, int],
    sheet: str | None,
) -> Path:
    """Write the report to `out`. `rows` are index records, `paths` maps each record's
    `path_key` to its image file relative to `out`'s folder; `facts` are (label, value) lines for the header."""
    e = html.escape
    streams: dict[tuple[str, int], list[Mapping[str, Any]]] = {}
    for row in sorted(rows, key=lambda r: (r["user_id"], r["stream_type"], r["timestamp_ms"])):
        streams.setdefault((str(row["user_id"]), int(row["stream_type"])), []).append(row)
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{e(title)}</title><style>{_STYLE}</style></head><body>",
        f"<h1>{e(title)}</h1>",
        '<p id="status">checking images…</p><noscript>(the image check needs JavaScript)</noscript>',
        "<table class='counts'>",
        *(f"<tr><th>{e(label)}</th><td>{e(value)}</td></tr>" for label, value in facts),
        *(f"<tr><th>manifest: {e(k)}</th><td>{v}</td></tr>" for k, v in counts.items()),
        "</table>",
    ]
    if sheet is not None:
        parts.append(f'<p><a href="{e(_href(sheet))}">contact sheet ({e(sheet)})</a></p>')
    for (user, stream_type), group in streams.items():
        kind = STREAM_KIND.get(stream_type, "stream")
        parts.append(f"<h2>{e(user)} · {e(kind)} (type {stream_type}) · {len(group)} images</h2>")
        parts.append('<div class="grid">')
        parts.extend(_figure(row, paths[path_key(row)]) for row in group)
        parts.append("</div>")
    parts.append(f"<script>{_CHECK}</script></body></html>")
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("\n".join(parts) + "\n", encoding="utf-8")
    return out


def _key(row: Mapping[str, Any]) -> str:
    return str(row.get("object_key") or row.get("veimagex_uri") or "")


def path_key(row: Mapping[str, Any]) -> str:
    """The key `write_report` looks a row's image path up by (one event may announce several)."""
    return str(row["event_id"]) + "/" + _key(row)


__all__ = ["path_key", "write_report"]
