"""The run's report: the table of figures (each Tertulia figure also as a ratio to the reference's
ceiling), the chart of latency against offered load, and the Markdown page that holds both
(bench/results/latest.md, or smoke.md).
"""

import json
from pathlib import Path

from shapes import SATURATION_P99_MS
from targets import targets_lines


def best(steps: list[dict]) -> dict | None:
    """A ramp's fastest unsaturated step, if any."""
    fine = [s for s in steps if not s["saturated"]]
    return max(fine, key=lambda s: s["copies_per_s"]) if fine else None


def table(results: dict) -> str:
    rows = [
        "| measure | reference (bare websockets) | Tertulia, in-memory, 1 process | Tertulia, Redis, 2 processes |",
        "| --- | --- | --- | --- |",
    ]
    names = ["reference", "tertulia-inmem-1proc", "tertulia-redis-2proc"]
    ramp_best = {n: best(results["ramp"].get(n, [])) for n in names}
    ceiling = (ramp_best["reference"] or {}).get("copies_per_s") or 0

    def cell(n, fmt):
        b = ramp_best.get(n)
        return fmt(b) if b else "saturated at the first step"

    def ratio(n):
        b = ramp_best.get(n)
        return f" ({b['copies_per_s'] / ceiling:.2f}×)" if b and ceiling else ""

    rows.append(
        "| 20-member rooms: copies/s delivered before saturation | "
        + " | ".join(cell(n, lambda b: f"{b['copies_per_s']:,}") + ratio(n) for n in names)
        + " |"
    )
    rows.append(
        "| … latency p50 / p95 / p99 / max (ms) at that rate | "
        + " | ".join(
            cell(n, lambda b: f"{b['p50_ms']:.1f} / {b['p95_ms']:.1f} / {b['p99_ms']:.1f} / {b['max_ms']:.1f}")
            for n in names
        )
        + " |"
    )
    rows.append(
        "| … server CPU per copy (µs) | "
        + " | ".join(cell(n, lambda b: f"{b['server_cpu_us_per_copy']}") for n in names)
        + " |"
    )
    big = results.get("big_room", {})
    rows.append(
        f"| {big.get('reference', {}).get('sockets', 1000)}-member room: one message to all, p50 / p99 (ms) | "
        + " | ".join(
            f"{big[n]['to_all_p50_ms']:.1f} / {big[n]['to_all_p99_ms']:.1f}" if n in big else "–" for n in names
        )
        + " |"
    )
    for compression in (False, True):
        key = "deflate" if compression else "plain"
        idle_rows = results.get("idle", {}).get(key, {})
        rows.append(
            f"| idle sockets ({'permessage-deflate' if compression else 'no compression'}): KiB each; set-up (s) | "
            + " | ".join(
                f"{idle_rows[n]['kib_per_socket']} KiB; {idle_rows[n]['setup_s']} s for {idle_rows[n]['sockets']:,}"
                if n in idle_rows
                else "–"
                for n in names
            )
            + " |"
        )
    history = results.get("history")
    solo, echo = results.get("solo"), results.get("solo_reference")
    if solo:
        ref = f"{echo['server_cpu_us_per_message']:,} (an echo)" if echo else "–"
        rows.append(
            f"| rooms of one member: server CPU per message (µs) | {ref} | {solo['server_cpu_us_per_message']:,} | – |"
        )
    rows.append(
        "| big room: server CPU per copy (µs) | "
        + " | ".join(str(big[n].get("server_cpu_us_per_copy", "–")) if n in big else "–" for n in names)
        + " |"
    )
    if history:
        # A visitor's page and a member's, each p50 / p99 (a run before both were timed: one pair).
        pairs = {who: history.get(f"page_{who}_p50_p99_ms") for who in ("visitor", "member")}
        each = "; ".join(f"{who} {pair[0]:.1f} / {pair[1]:.1f}" for who, pair in pairs.items() if pair)
        rows.append(
            f"| room page with {history['messages']:,} messages stored: server time p50 / p99 (ms) | – | "
            + (each or f"{history['page_p50_ms']:.1f} / {history['page_p99_ms']:.1f}")
            + " | – |"
        )
        rows.append(f"| older-history page query: plan | – | {history['older_plan']} | – |")
    return "\n".join(rows)


def chart(results: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    for name, steps in results["ramp"].items():
        x = [s["offered_copies_per_s"] for s in steps]
        for key, style in (("p50_ms", "--"), ("p99_ms", "-")):
            ax.plot(x, [s[key] for s in steps], style, marker="o", label=f"{name} {key[:3]}")
    ax.axhline(SATURATION_P99_MS, color="grey", linewidth=0.8)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("offered copies/s (20-member rooms)")
    ax.set_ylabel("latency, ms")
    ax.set_title("Tertulia vs bare websockets: latency against offered load")
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def report(results: dict, name: str) -> str:
    """The run's Markdown page: when and how it ran, the table, the chart."""
    kind = "Smoke run (tiny numbers: checks that the bench runs, measures nothing)" if results["smoke"] else "Run"
    lines = [
        "# `make bench`: Tertulia against the bare-websockets ceiling",
        "",
        f"{kind} of {results['when']}; {results['pinning']}. Every figure: `{name}.json`; how it is "
        "measured: `bench/run.py`.",
    ]
    if results.get("history_note"):
        lines.append(f"Note: {results['history_note']}.")
    lines += ["", table(results), "", f"![Latency against offered load]({name}.png)"]
    lines += ["", "## Targets (the performance issue)", "", *targets_lines(results)]
    return "\n".join(lines) + "\n"


def write(results: dict, results_dir: Path, name: str, measured: bool = True) -> None:
    """Write `name`.md in `results_dir` and, for a run that measured, `name`.json and `name`.png."""
    if measured:
        (results_dir / f"{name}.json").write_text(json.dumps(results, indent=2))
        chart(results, results_dir / f"{name}.png")
    page = results_dir / f"{name}.md"
    kept = _sections(page.read_text()) if page.exists() else ""
    page.write_text(report(results, name) + (f"\n{kept}" if kept else ""))


def _sections(text: str) -> str:
    """The sections other scripts keep in a page (latest_section_put's, from their begin marker
    on), so that a new run of bench/run.py keeps their last figures."""
    start = text.find("<!-- bench/")
    return text[start:] if start >= 0 else ""


def latest_section_put(begin: str, end: str, section: str) -> None:
    """Put `section` (from the marker `begin` to the marker `end`, one script's) at the end of
    bench/results/latest.md, in place of that script's earlier one: the scripts run after
    bench/run.py, which rewrites the page, each keep a section of their own."""
    latest = Path(__file__).resolve().parent / "results" / "latest.md"
    text = latest.read_text() if latest.exists() else ""
    if begin in text and end in text:
        text = text[: text.index(begin)] + text[text.index(end) + len(end) + 1 :]
    latest.write_text(text.rstrip("\n") + "\n\n" + section.rstrip("\n") + "\n")
