#!/usr/bin/env python3
"""Draw the growth table of bench/scale.sh as an SVG (standard library only).

    bench/scale.sh | tee target/bench-scale.md
    python3 bench/plot_growth.py target/bench-scale.md bench/growth.svg

Reads the Markdown table (articles, GB, wall s, peak RSS MiB, ...) and plots
wall time and peak RSS against the number of articles, both axes
logarithmic, with a dotted line of linear growth through the first point.
"""
import math
import sys


def rows(path):
    out = []
    for line in open(path):
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) < 4 or not cells[0].replace(",", "").isdigit():
            continue
        out.append((int(cells[0].replace(",", "")), float(cells[2]), float(cells[3])))
    return out


def main():
    src, dst = sys.argv[1], sys.argv[2]
    data = rows(src)
    if len(data) < 2:
        sys.exit("plot_growth.py: need at least two rows in " + src)
    w, h, left, right, top, bottom = 640, 360, 70, 70, 30, 50
    xs = [math.log10(n) for n, _, _ in data]
    x0, x1 = math.floor(min(xs)), math.ceil(max(xs))

    def sx(n):
        return left + (math.log10(n) - x0) / (x1 - x0) * (w - left - right)

    def scale(values):
        lo = math.floor(math.log10(min(values)))
        hi = math.ceil(math.log10(max(values) * 10))
        return lo, hi

    def sy(v, lo, hi):
        return top + (1 - (math.log10(v) - lo) / (hi - lo)) * (h - top - bottom)

    tlo, thi = scale([t for _, t, _ in data])
    mlo, mhi = scale([m for _, _, m in data])
    svg = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" '
        'font-family="sans-serif" font-size="12">',
        f'<rect width="{w}" height="{h}" fill="white"/>',
        f'<text x="{w / 2}" y="18" text-anchor="middle">storyclust: wall time and peak memory '
        "against articles (log-log)</text>",
    ]
    for e in range(x0, x1 + 1):
        x = sx(10**e)
        svg.append(f'<line x1="{x}" y1="{top}" x2="{x}" y2="{h - bottom}" stroke="#ddd"/>')
        svg.append(f'<text x="{x}" y="{h - bottom + 16}" text-anchor="middle">{10**e:,}</text>')
    for e in range(tlo, thi + 1):
        y = sy(10**e, tlo, thi)
        svg.append(f'<text x="{left - 6}" y="{y + 4}" text-anchor="end" fill="#1f77b4">{10**e:g} s</text>')
    for e in range(mlo, mhi + 1):
        y = sy(10**e, mlo, mhi)
        svg.append(f'<text x="{w - right + 6}" y="{y + 4}" fill="#d62728">{10**e:g} MiB</text>')
    svg.append(f'<text x="{w / 2}" y="{h - 10}" text-anchor="middle">articles</text>')
    for idx, colour, lo, hi in ((1, "#1f77b4", tlo, thi), (2, "#d62728", mlo, mhi)):
        pts = " ".join(f"{sx(r[0]):.1f},{sy(r[idx], lo, hi):.1f}" for r in data)
        svg.append(f'<polyline points="{pts}" fill="none" stroke="{colour}" stroke-width="2"/>')
        for r in data:
            svg.append(f'<circle cx="{sx(r[0]):.1f}" cy="{sy(r[idx], lo, hi):.1f}" r="3" fill="{colour}"/>')
        n0, v0 = data[0][0], data[0][idx]
        n1 = data[-1][0]
        svg.append(
            f'<line x1="{sx(n0):.1f}" y1="{sy(v0, lo, hi):.1f}" x2="{sx(n1):.1f}" '
            f'y2="{sy(v0 * n1 / n0, lo, hi):.1f}" stroke="{colour}" stroke-dasharray="2,4"/>'
        )
    svg.append(f'<text x="{left + 8}" y="{top + 14}" fill="#1f77b4">wall time (left axis)</text>')
    svg.append(f'<text x="{left + 8}" y="{top + 30}" fill="#d62728">peak RSS (right axis)</text>')
    svg.append(f'<text x="{left + 8}" y="{top + 46}" fill="#555">dotted: linear growth</text>')
    svg.append("</svg>")
    open(dst, "w").write("\n".join(svg) + "\n")


if __name__ == "__main__":
    main()
