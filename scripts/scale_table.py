"""Reads 'job size seconds' lines (scripts/cluster-scale) and prints a Markdown table and, per job, the least-squares
line wall = fixed + rate x size: the start-up cost apart from the marginal rate."""
import sys


def fit_line(points):
    n = len(points)
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    slope = sum((x - mx) * (y - my) for x, y in points) / sum((x - mx) ** 2 for x, _ in points)
    return my - slope * mx, slope


rows = [line.split() for line in sys.stdin if line.strip()]
units = {"collect": "tokens", "fit": "dictionaries"}
print("| job | size | wall (s) |")
print("|---|---|---|")
for job, size, wall in rows:
    print(f"| {job} | {int(float(size)):,} {units[job]} | {float(wall):.1f} |")
print()
for job in units:
    points = [(float(size), float(wall)) for j, size, wall in rows if j == job]
    if len(points) < 2:
        continue
    fixed, slope = fit_line(points)
    if job == "collect":
        print(f"collect: fixed {fixed:.1f} s, then {1 / slope:,.0f} tokens/s ({slope * 1e3:.3f} s per 1,000 tokens)")
    else:
        print(f"fit sweep: fixed {fixed:.1f} s, then {slope:.1f} s per dictionary")
