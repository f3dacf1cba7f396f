"""
dashboard_png.py [PROMETHEUS_URL] [OUT] [MINUTES]: the Grafana dashboard
(grafana/dashboards/shortener.json) drawn from Prometheus data, as one PNG
(`make dashboard-png`, for docs/observability.md).

Grafana has no Debian package and no image can be pulled where the stack
runs without Docker, so this draws the same panels itself: every panel of
the dashboard in its grid position, each of its queries run against
Prometheus over the last MINUTES (query_range, the dashboard's variables
set to all instances and a 1m rate interval), time series as lines named
by the panel's legend format, stats as their last value. The queries are
the dashboard's own, not copies: a panel changed in Grafana changes here.
"""

import datetime
import json
import os
import re
import sys
import time
import urllib.parse
import urllib.request

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import matplotlib.dates as mdates  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DASHBOARD = os.path.join(REPO, "grafana", "dashboards", "shortener.json")
VARS = {"$instance": ".*", "${instance}": ".*", "$__rate_interval": "1m",
        "$__interval": "15s"}


def query_range(prom, expr, start, end, step):
    for k, v in VARS.items():
        expr = expr.replace(k, v)
    q = urllib.parse.urlencode({"query": expr, "start": start, "end": end,
                                "step": step})
    with urllib.request.urlopen(f"{prom}/api/v1/query_range?{q}",
                                timeout=30) as r:
        doc = json.load(r)
    if doc.get("status") != "success":
        raise SystemExit(f"query failed: {expr}: {doc}")
    return doc["data"]["result"]


def legend(fmt, metric):
    if not fmt:
        return ",".join(f"{k}={v}" for k, v in metric.items()
                        if k != "__name__") or "value"
    return re.sub(r"\{\{\s*(\w+)\s*\}\}",
                  lambda m: metric.get(m.group(1), ""), fmt)


def unit_scale(panel):
    unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit", "")
    if unit == "s" and "latency" in panel.get("title", "").lower():
        return 1000.0, "ms"
    if unit in ("percentunit",):
        return 100.0, "%"
    if unit in ("bytes",):
        return 1 / 1048576, "MiB"
    return 1.0, unit if unit not in ("short", "none") else ""


def draw(ax, panel, prom, start, end, step):
    scale, unit = unit_scale(panel)
    title = panel.get("title", "")
    series = []
    for t in panel.get("targets", []):
        if not t.get("expr"):
            continue
        for r in query_range(prom, t["expr"], start, end, step):
            xs = [datetime.datetime.fromtimestamp(float(v[0]),
                                                  datetime.timezone.utc)
                  for v in r["values"]]
            ys = [float(v[1]) * scale if v[1] not in ("NaN", "+Inf", "-Inf")
                  else float("nan") for v in r["values"]]
            series.append((legend(t.get("legendFormat"), r["metric"]), xs, ys))
    ax.set_title(title, fontsize=9, loc="left", fontweight="bold")
    if panel.get("type") == "stat":
        ax.axis("off")
        text = "\n".join(f"{name}: {ys[-1]:.4g}{unit}" if len(series) > 1
                         else f"{ys[-1]:.4g}{unit}"
                         for name, xs, ys in series if ys) or "no data"
        ax.text(0.5, 0.45, text, ha="center", va="center",
                fontsize=16 if len(series) <= 1 else 8,
                transform=ax.transAxes)
        return bool(series)
    for name, xs, ys in series[:12]:
        ax.plot(xs, ys, linewidth=1, label=name)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
    ax.tick_params(labelsize=7)
    if unit:
        ax.set_ylabel(unit, fontsize=7)
    ax.grid(alpha=.3)
    if series:
        ax.legend(fontsize=6, loc="upper left", ncol=2, frameon=False)
    else:
        ax.text(0.5, 0.5, "no data", ha="center", transform=ax.transAxes)
    return bool(series)


def main():
    prom = (sys.argv[1] if len(sys.argv) > 1 else
            "http://127.0.0.1:9090").rstrip("/")
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(
        REPO, "docs", "dashboard.png")
    minutes = int(sys.argv[3]) if len(sys.argv) > 3 else 15
    dash = json.load(open(DASHBOARD))
    panels = [p for p in dash["panels"] if p.get("type") != "row"]
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    end = time.time()
    start = end - minutes * 60
    step = max(15, minutes * 60 // 240)
    unit = 0.42                     # inches per grid row
    fig = plt.figure(figsize=(20, rows * unit))
    fig.suptitle(f"{dash.get('title', 'dashboard')} — rendered from "
                 f"Prometheus, last {minutes} min "
                 f"(grafana/dashboards/shortener.json)", fontsize=12, y=0.998)
    with_data = 0
    for p in panels:
        g = p["gridPos"]
        left = g["x"] / 24 + 0.006
        width = g["w"] / 24 - 0.012
        top = 1 - g["y"] / rows
        height = g["h"] / rows
        ax = fig.add_axes([left + 0.01, top - height + 0.018,
                           width - 0.012, height - 0.04])
        with_data += draw(ax, p, prom, start, end, step)
    fig.savefig(out, dpi=80)
    print(f"dashboard: {with_data} of {len(panels)} panels with data, {out}")


if __name__ == "__main__":
    main()
