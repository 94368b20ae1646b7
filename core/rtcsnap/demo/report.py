"""``index.html``: every image of the task with the callback that announced it.

A static page beside the downloaded images (links are relative, so the folder can be zipped or
served as is). It checks itself: once the page has loaded, a few lines of script count the
images that decoded and mark any that did not, and the status line at the top says
"all N images loaded" or names the broken ones — a report that cannot silently show a gap.

Verdicts (any analysis plugin's: `SnapshotIndex.record_verdict`) are shown on their image: a
flagged image gets a red frame, a "flagged" badge naming the plugin and the rules that fired, and
a line in the list of flagged images at the top; a judged image that was not flagged says so, and
a plugin's error is shown as such. Core renders only the verdict's common fields (status,
flagged, reason, fired, labels, error), never a plugin's own document, so no plugin is special here.
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
figure.flagged { border: 3px solid #c2410c; background: #fff4ed; }
.badge { display: inline-block; background: #c2410c; color: #fff; border-radius: 3px; padding: 0 .35rem;
  font-weight: 600; font-size: .75rem; }
p.verdict { margin: .25rem 0 0; font-size: .75rem; } p.verdict.flagged { color: #9a3412; font-weight: 600; }
p.verdict.error { color: #b3261e; }
#flagged li { font-size: .85rem; }
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


def reasons(verdict: Mapping[str, Any]) -> str:
    """Why a verdict flagged: its `reason` line when the plugin gave one (``pack.contact.wechat
    (wechat: rtcdemo2026)``), else the rules that fired, then any further labels
    (``pack.contact.wechat; labels: text.contact``)."""
    if verdict.get("reason"):
        return str(verdict["reason"])
    fired = [str(name) for name in verdict.get("fired") or ()]
    extra = [str(label) for label in verdict.get("labels") or () if label not in fired]
    text = ", ".join(fired) or "no rule named"
    return text + (f"; labels: {', '.join(extra)}" if extra else "")


def _verdict_line(verdict: Mapping[str, Any]) -> str:
    e = html.escape
    source = e(str(verdict.get("source", "")))
    if verdict.get("flagged"):
        return (
            f'<p class="verdict flagged" data-source="{source}"><span class="badge">flagged</span> '
            f"{source}: {e(reasons(verdict))}</p>"
        )
    if verdict.get("status") not in (None, "ok"):
        error = verdict.get("error") or ""
        return (
            f'<p class="verdict error" data-source="{source}">{source}: {e(str(verdict["status"]))}'
            f"{': ' + e(str(error)) if error else ''}</p>"
        )
    return f'<p class="verdict" data-source="{source}">{source}: not flagged</p>'


def _anchor(row: Mapping[str, Any]) -> str:
    return f"snap-{int(row['id'])}" if row.get("id") is not None else ""


def _figure(row: Mapping[str, Any], path: str, verdicts: Sequence[Mapping[str, Any]] = ()) -> str:
    e = html.escape
    when = _iso(int(row["timestamp_ms"]))
    items = "".join(
        f"<dt>{e(label)}</dt><dd>{e(_shown(name, row[name]))}</dd>"
        for name, label in FIELDS
        if row.get(name) not in (None, "")
    )
    size = f"{row['width']}x{row['height']}"
    flagged = any(v.get("flagged") for v in verdicts)
    attrs = f' id="{_anchor(row)}"' if _anchor(row) else ""
    attrs += ' class="flagged" data-flagged="true"' if flagged else ""
    return (
        f'<figure data-key="{e(_key(row))}"{attrs}>'
        f'<a href="{e(_href(path))}"><img src="{e(_href(path))}" alt="{e(when)}" width="{int(row["width"])}"'
        f' height="{int(row["height"])}"></a>'
        f"<figcaption><b>{e(when)}</b> · {e(size)}"
        f"{''.join(_verdict_line(v) for v in verdicts)}<dl>{items}</dl></figcaption></figure>"
    )


def _flagged_list(
    streams: Mapping[tuple[str, int], Sequence[Mapping[str, Any]]],
    verdicts: Mapping[int, Sequence[Mapping[str, Any]]],
) -> list[str]:
    e = html.escape
    items = []
    for (user, stream_type), group in streams.items():
        for row in group:
            for v in verdicts.get(int(row.get("id") or -1), ()):
                if v.get("flagged"):
                    items.append(
                        f'<li><a href="#{_anchor(row)}">{e(_iso(int(row["timestamp_ms"])))} · {e(user)} · '
                        f"{e(STREAM_KIND.get(stream_type, 'stream'))}</a> — {e(str(v.get('source')))}: "
                        f"{e(reasons(v))}</li>"
                    )
    if not items:
        return []
    return [f'<h2>Flagged images ({len(items)})</h2><ul id="flagged">', *items, "</ul>"]


def write_report(
    out: Path,
    *,
    title: str,
    rows: Sequence[Mapping[str, Any]],
    paths: Mapping[str, str],
    facts: Sequence[tuple[str, str]],
    counts: Mapping[str, int],
    sheet: str | None,
    verdicts: Mapping[int, Sequence[Mapping[str, Any]]] | None = None,
) -> Path:
    """Write the report to `out`. `rows` are index records, `paths` maps each record's
    `path_key` to its image file relative to `out`'s folder; `facts` are (label, value) lines for
    the header; `verdicts` are `SnapshotIndex.verdicts` dicts by the record's ``id``."""
    verdicts = verdicts or {}
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
    parts.extend(_flagged_list(streams, verdicts))
    if sheet is not None:
        parts.append(f'<p><a href="{e(_href(sheet))}">contact sheet ({e(sheet)})</a></p>')
    for (user, stream_type), group in streams.items():
        kind = STREAM_KIND.get(stream_type, "stream")
        parts.append(f"<h2>{e(user)} · {e(kind)} (type {stream_type}) · {len(group)} images</h2>")
        parts.append('<div class="grid">')
        parts.extend(
            _figure(row, paths[path_key(row)], verdicts.get(int(row.get("id") or -1), ())) for row in group
        )
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


__all__ = ["path_key", "reasons", "write_report"]
