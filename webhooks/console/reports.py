"""The reports page (admin): charts drawn as SVG on the server, date filters, and each table as CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, time, timedelta, timezone

from flask import Response, abort, g, render_template, request
from markupsafe import Markup, escape

from bot.council import reports
from bot.duty import staff
from webhooks.console import bp
from webhooks.console.routes import _now, _services

COLOURS = ("#1d3557", "#2a9d8f", "#e76f51", "#f4a261")


def _range() -> tuple[date, date]:
    today = _now().date()
    try:
        start = date.fromisoformat(request.args.get("from", ""))
    except ValueError:
        start = today - timedelta(weeks=12)
    try:
        end = date.fromisoformat(request.args.get("to", ""))
    except ValueError:
        end = today
    return start, end


def _tables() -> tuple[dict, date, date]:
    if g.worker.role != staff.ADMIN:
        abort(403)
    start, end = _range()
    services = _services()
    with services.db.session() as db:
        found = reports.build(db, _now(), datetime.combine(start, time(), timezone.utc),
                              datetime.combine(end + timedelta(days=1), time(), timezone.utc),
                              services.settings.report_abandoned_after_days)
    return found, start, end


def _value(cell: reports.Cell) -> int | float:
    assert not isinstance(cell, str)  # the charted columns hold counts and minutes
    return cell or 0


def bar_chart(table: reports.Table, label_cols: int, value_cols: list[int], width: int = 640) -> Markup:
    """Grouped bars, one group per row: plain SVG attributes, so the CSP needs no inline styles."""
    rows = table.rows
    if not rows:
        return Markup('<p class="hint">Nothing in these dates.</p>')
    top = max([max(_value(r[c]) for c in value_cols) for r in rows] + [1])
    height, base, left = 200, 170, 40
    group = (width - left) / len(rows)
    bar = max(2.0, group * 0.8 / len(value_cols))
    parts = [f'<svg class="chart" width="{width}" height="{height + 20 * len(value_cols)}" role="img" '
             f'aria-label="{escape(table.title)}">'
             f'<line x1="{left}" y1="{base}" x2="{width}" y2="{base}" stroke="#555"/>'
             f'<text x="0" y="14" font-size="11">{top}</text>']
    for i, r in enumerate(rows):
        x0 = left + i * group
        for j, c in enumerate(value_cols):
            h = _value(r[c]) / top * (base - 20)
            parts.append(f'<rect x="{x0 + j * bar:.1f}" y="{base - h:.1f}" width="{bar:.1f}" height="{h:.1f}" '
                         f'fill="{COLOURS[j % len(COLOURS)]}">'
                         f'<title>{escape(str(r[0]))}: {escape(str(r[c]))}</title></rect>')
        if len(rows) <= 16:
            name = " ".join(str(r[k]) for k in range(label_cols))
            parts.append(f'<text x="{x0:.1f}" y="{base + 14}" font-size="10">{escape(name[:14])}</text>')
    for j, c in enumerate(value_cols):
        y = height + 10 + 20 * j
        parts.append(f'<rect x="{left}" y="{y - 9}" width="10" height="10" fill="{COLOURS[j % len(COLOURS)]}"/>'
                     f'<text x="{left + 14}" y="{y}" font-size="11">{escape(table.columns[c])}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


CHARTS = {"weekly": (1, [1, 2, 3]), "stops": (1, [1]), "handoffs": (2, [3, 4]), "delivery": (1, [4]),
          "opt_outs": (1, [1])}


@bp.get("/reports")
def reports_page():
    found, start, end = _tables()
    charts = {name: bar_chart(found[name], *CHARTS[name]) for name in reports.TABLES}
    return render_template("console/reports.html", found=found, charts=charts, tables=reports.TABLES,
                           start=start.isoformat(), end=end.isoformat())


@bp.get("/reports/<name>.csv")
def report_csv(name: str):
    if name not in reports.TABLES:
        abort(404)
    found, start, end = _tables()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(found[name].columns)
    writer.writerows(found[name].rows)
    return Response(out.getvalue(), content_type="text/csv; charset=utf-8", headers={
        "Content-Disposition": f'attachment; filename="carertext-{name}-{start}-{end}.csv"'})
