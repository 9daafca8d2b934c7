#!/usr/bin/env python3
"""Turns the JSON lines of bench/compare.sh into a Markdown table and an SVG bar chart.

Usage: report.py RESULTS.jsonl OUT.md OUT.svg "machine description"
"""
import json
import statistics
import sys
from collections import defaultdict

results_path, md_path, svg_path, machine = sys.argv[1:5]
rows = [json.loads(line) for line in open(results_path) if line.strip()]


def size_label(size):
    return "%d KiB" % (size // 1024) if size % 1024 == 0 else "%d B" % size


def point_key(r):
    return (r["reuse"], r["size"], r["connections"])


def median(values):
    values = [v for v in values if isinstance(v, (int, float))]
    return statistics.median(values) if values else None


by = defaultdict(list)
for r in rows:
    by[(r["client"], r["server"], point_key(r))].append(r)


def metric(client, server, key, name):
    return median([r.get(name) for r in by.get((client, server, key), [])])


def fmt(v, digits=0):
    return "–" if v is None else ("{:,.%df}" % digits).format(v)


def ratio(a, b):
    return "–" if a is None or b in (None, 0) else "%.1f×" % (a / b)


points = sorted({point_key(r) for r in rows if r["client"] == "smtp-source"})
out = []
out.append("Machine: %s. Each cell is the median of the repeats in this run; servers were run one after the other"
           " on every load point." % machine)
out.append("")
out.append("### Accepted messages/s (smtp-source: HELO, no pipelining; a new connection per message unless reused)")
out.append("")
out.append("| size | connections | reuse | Postfix | FastSpool | smtp-sink | FastSpool / Postfix | FastSpool / sink |")
out.append("|---|---|---|---|---|---|---|---|")
for key in points:
    reuse, size, conns = key
    pf = metric("smtp-source", "postfix", key, "accept_msgs_per_s")
    fs = metric("smtp-source", "fastspool", key, "accept_msgs_per_s")
    sk = metric("smtp-source", "sink", key, "accept_msgs_per_s")
    out.append("| %s | %d | %s | %s | %s | %s | %s | %s |" % (
        size_label(size), conns, "yes" if reuse else "no", fmt(pf), fmt(fs), fmt(sk), ratio(fs, pf), ratio(fs, sk)))
out.append("")
out.append("### End to end into one mbox, messages/s (from the first connection until the last message is in the mailbox)")
out.append("")
out.append("| size | connections | reuse | Postfix | FastSpool | FastSpool / Postfix | FastSpool server CPU s |")
out.append("|---|---|---|---|---|---|---|")
for key in points:
    reuse, size, conns = key
    pf = metric("smtp-source", "postfix", key, "e2e_msgs_per_s")
    fs = metric("smtp-source", "fastspool", key, "e2e_msgs_per_s")
    cpu = metric("smtp-source", "fastspool", key, "server_cpu_s")
    out.append("| %s | %d | %s | %s | %s | %s | %s |" % (
        size_label(size), conns, "yes" if reuse else "no", fmt(pf), fmt(fs), ratio(fs, pf), fmt(cpu, 1)))
harness_rows = [r for r in rows if r["client"] == "fastspool-bench"]
if harness_rows:
    modes = {"helo": "HELO, one command at a time", "pipelining": "EHLO, PIPELINING", "bdat": "EHLO, PIPELINING, BDAT"}
    hby = defaultdict(list)
    for r in harness_rows:
        hby[(r["server"], r.get("dialogue", "helo"), point_key(r))].append(r)

    def hmetric(server, key, name):
        return median([r.get(name) for r in hby.get((server,) + key, [])])

    def lat(server, key, q):
        return median([r.get("latency_ms", {}).get(q) for r in hby.get((server,) + key, [])])

    hkeys = sorted({(r.get("dialogue", "helo"), point_key(r)) for r in harness_rows},
                   key=lambda k: (list(modes).index(k[0]) if k[0] in modes else 9, k[1]))
    out.append("")
    out.append("### FastSpool's harness: accepted messages/s, latency of the final dot to its 250 (ms), and what the"
               " FastSpool server allocated per accepted message (from its statistics lines)")
    out.append("")
    out.append("| dialogue | size | connections | reuse | Postfix msgs/s | Postfix p50 / p99 | FastSpool msgs/s |"
               " FastSpool p50 / p99 | FastSpool / Postfix | FastSpool e2e msgs/s | FastSpool B allocated / msg |")
    out.append("|---|---|---|---|---|---|---|---|---|---|---|")
    for mode, key in hkeys:
        reuse, size, conns = key
        k = (mode, key)
        pf = hmetric("postfix", k, "accept_msgs_per_s")
        fs = hmetric("fastspool", k, "accept_msgs_per_s")
        out.append("| %s | %s | %d | %s | %s | %s / %s | %s | %s / %s | %s | %s | %s |" % (
            modes.get(mode, mode), size_label(size), conns, "yes" if reuse else "no",
            fmt(pf), fmt(lat("postfix", k, "p50"), 2), fmt(lat("postfix", k, "p99"), 2),
            fmt(fs), fmt(lat("fastspool", k, "p50"), 2), fmt(lat("fastspool", k, "p99"), 2),
            ratio(fs, pf), fmt(hmetric("fastspool", k, "e2e_msgs_per_s")),
            fmt(hmetric("fastspool", k, "server_alloc_bytes_per_msg"))))
open(md_path, "w").write("\n".join(out) + "\n")

# SVG: grouped bars of accepted messages/s (smtp-source) per load point, one colour per server, log scale.
import math
servers = [("postfix", "Postfix", "#8c8c8c"), ("fastspool", "FastSpool", "#2b6cb0"), ("sink", "smtp-sink (discards)", "#d69e2e")]
width_group, bar, left, top, height = 120, 30, 70, 40, 300
width = left + width_group * len(points) + 40
values = {(s, k): metric("smtp-source", s, k, "accept_msgs_per_s") for s, _, _ in servers for k in points}
vmax = max([v for v in values.values() if v] or [1])
decades = range(1, int(math.ceil(math.log10(vmax))) + 1)


def y_of(v):
    return top + height - (math.log10(max(v, 1)) / math.log10(10 ** max(decades))) * height


svg = ['<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="11">'
       % (width, top + height + 70)]
svg.append('<text x="%d" y="20" font-size="14">Accepted messages/s, smtp-source, by size and connections (log scale)</text>' % left)
for d in decades:
    y = y_of(10 ** d)
    svg.append('<line x1="%d" x2="%d" y1="%.1f" y2="%.1f" stroke="#ddd"/>' % (left, width - 20, y, y))
    svg.append('<text x="%d" y="%.1f" text-anchor="end">%s</text>' % (left - 6, y + 4, "{:,}".format(10 ** d)))
for i, key in enumerate(points):
    reuse, size, conns = key
    x0 = left + i * width_group + 10
    for j, (s, _, colour) in enumerate(servers):
        v = values[(s, key)]
        if not v:
            continue
        y = y_of(v)
        svg.append('<rect x="%d" y="%.1f" width="%d" height="%.1f" fill="%s"><title>%s: %.0f</title></rect>'
                   % (x0 + j * bar, y, bar - 4, top + height - y, colour, s, v))
        svg.append('<text x="%d" y="%.1f" text-anchor="middle" font-size="9">%s</text>'
                   % (x0 + j * bar + (bar - 4) / 2, y - 3, "{:,.0f}".format(v)))
    svg.append('<text x="%d" y="%d" text-anchor="middle">%s, c=%d%s</text>'
               % (x0 + 45, top + height + 16, size_label(size), conns, " reused" if reuse else ""))
for j, (_, label, colour) in enumerate(servers):
    svg.append('<rect x="%d" y="%d" width="12" height="12" fill="%s"/><text x="%d" y="%d">%s</text>'
               % (left + j * 170, top + height + 34, colour, left + j * 170 + 16, top + height + 44, label))
svg.append("</svg>")
open(svg_path, "w").write("\n".join(svg) + "\n")
