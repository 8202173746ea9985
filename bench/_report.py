"""The Markdown form of a results document."""

from __future__ import annotations

from typing import Any

__all__ = ["render_markdown"]


def _fmt(value: float | None) -> str:
    if value is None:
        return "-"
    magnitude = abs(value)
    if magnitude >= 1000:
        return f"{value:,.0f}"
    if magnitude >= 100:
        return f"{value:.0f}"
    if magnitude >= 10:
        return f"{value:.1f}"
    if magnitude >= 1:
        return f"{value:.2f}"
    return f"{value:.3f}"


def render_markdown(document: dict[str, Any]) -> str:
    machine = document["machine"]
    lines = [
        f"Measured {machine['date']} with `{machine['command']}`"
        + (" (quick mode: small sizes, not the reference run)" if document.get("quick") else ""),
        "",
        f"Machine: {machine['cores']} cores ({machine.get('cpu') or 'unknown CPU'}), "
        f"{machine['memory_gib']} GiB, {machine['os']}; Python {machine['python']}, "
        f"SQLite {machine['sqlite']}, PostgreSQL {machine.get('postgresql') or 'n/a'}, "
        f"Prefect {machine.get('prefect') or 'n/a'}; load average "
        f"{' / '.join(f'{x:.2f}' for x in machine['load_average_at_start'])} at start, "
        f"{' / '.join(f'{x:.2f}' for x in machine.get('load_average_at_end', []))} at end.",
        "",
        "| benchmark | measure | db | system | p50 | p90 | p95 | p99 | min | max | n | unit "
        "| target | met |",
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for m in document["measurements"]:
        s = m["summary"]
        met = "" if m["met"] is None else ("yes" if m["met"] else "**no**")
        lines.append(
            f"| {m['benchmark']} | {m['measure']} | {m['database'] or '-'} | {m['system']} "
            f"| {_fmt(s.get('p50'))} | {_fmt(s.get('p90'))} | {_fmt(s.get('p95'))} "
            f"| {_fmt(s.get('p99'))} "
            f"| {_fmt(s.get('min'))} | {_fmt(s.get('max'))} | {int(s.get('n', 0))} | {m['unit']} "
            f"| {m['target'] or ''} | {met} |"
        )
    if document["comparisons"]:
        lines += [
            "",
            "Ratios, each from the same run with the sides alternated:",
            "",
            "| benchmark | ratio | db | value | of | target | met |",
            "|---|---|---|---:|---|---|---|",
        ]
        for c in document["comparisons"]:
            met = "" if c.get("met") is None else ("yes" if c["met"] else "**no**")
            lines.append(
                f"| {c['benchmark']} | {c['measure']} | {c['database'] or '-'} "
                f"| {c['ratio']:.1f}x | {c['stat']}: {c['numerator']} / {c['denominator']} "
                f"| {c.get('target') or ''} | {met} |"
            )
    notes = [m for m in document["measurements"] if m.get("notes")]
    if notes:
        lines += ["", "Notes:", ""]
        seen: set[str] = set()
        for m in notes:
            key = f"{m['benchmark']}: {m['measure']} ({m['system']}): {m['notes']}"
            if key not in seen:
                seen.add(key)
                lines.append(f"- {key}")
    for note in document.get("notes", []):
        lines.append(f"- {note}")
    if document.get("skipped"):
        lines += ["", "Skipped:", ""]
        for s in document["skipped"]:
            lines.append(f"- {s['benchmark']}: {s['what']}: {s['reason']}")
    if document.get("failures"):
        lines += ["", "Failed:", ""]
        for name, error in document["failures"].items():
            lines.append(f"- {name}: {error}")
    return "\n".join(lines) + "\n"
