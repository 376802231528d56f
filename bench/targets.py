"""The performance issue's targets, each against this run's figures: met or not met.

Ratios are to the reference (bare `websockets`) measured in the same run; a figure the run did
not measure (a --smoke run, --skip-history) is reported as such, not as met.
"""


def _best(steps: list[dict]) -> dict | None:
    fine = [s for s in steps if not s["saturated"]]
    return max(fine, key=lambda s: s["copies_per_s"]) if fine else None


def targets(results: dict) -> list[tuple[str, str, bool | None]]:
    """`(target, this run's figure, met)` for each target; met is None when not measured."""
    ramp = {name: _best(steps) for name, steps in results.get("ramp", {}).items()}
    big, idle = results.get("big_room", {}), results.get("idle", {}).get("plain", {})
    ref_big, our_big = big.get("reference"), big.get("tertulia-inmem-1proc")
    ref_idle, our_idle = idle.get("reference"), idle.get("tertulia-inmem-1proc")
    solo, history = results.get("solo"), results.get("history")
    rows = []

    def row(goal: str, figure: str | None, met: bool | None) -> None:
        rows.append((goal, figure if figure is not None else "not measured", met if figure is not None else None))

    per_message = solo and solo["server_cpu_us_per_message"]
    echo = results.get("solo_reference", {}).get("server_cpu_us_per_message")  # runs before session 30: none
    row(
        "server CPU per message, 1-member room ≤ 1,000 µs",
        per_message
        and f"{per_message:,.0f} µs"
        + (f" (the reference's echo {echo:,.0f} µs, {per_message / echo:.1f}×)" if echo else ""),
        per_message and per_message <= 1000,
    )
    if ref_big and our_big:
        ours, ref = our_big["server_cpu_us_per_copy"], ref_big["server_cpu_us_per_copy"]
        row(
            "server CPU per copy, 1,000-member room ≤ 15 µs and ≤ 1.5× the reference's",
            f"{ours} µs (reference {ref} µs, {ours / ref:.1f}×)",
            ours <= 15 and ours <= 1.5 * ref,
        )
        ratio = our_big["to_all_p99_ms"] / ref_big["to_all_p99_ms"]
        row(
            "1,000-member room, one message to all: p99 ≤ 2× the reference's",
            f"{our_big['to_all_p99_ms']:.1f} ms (reference {ref_big['to_all_p99_ms']:.1f} ms, {ratio:.1f}×)",
            ratio <= 2,
        )
    else:
        row("1,000-member room: CPU per copy and p99", None, None)
    for name, goal in (("tertulia-inmem-1proc", 10_000), ("tertulia-redis-2proc", 8_000)):
        step = ramp.get(name)
        figure = (
            f"{step['copies_per_s']:,} copies/s" if step else ("saturated at the first step" if name in ramp else None)
        )
        row(
            f"20-member rooms, {name}: ≥ {goal:,} copies/s, p99 < 100 ms, none lost",
            figure,
            bool(step) and step["copies_per_s"] >= goal,
        )
    if ref_idle and our_idle:
        ratio = our_idle["setup_s"] / ref_idle["setup_s"]
        row(
            f"{our_idle['sockets']:,} sockets connect in ≤ 2× the reference's time",
            f"{our_idle['setup_s']} s (reference {ref_idle['setup_s']} s, {ratio:.1f}×)",
            ratio <= 2,
        )
        row("idle memory ≤ 35 KiB a socket", f"{our_idle['kib_per_socket']} KiB", our_idle["kib_per_socket"] <= 35)
    else:
        row("sockets connect; idle memory", None, None)
    page = history and history["page_p99_ms"]
    row(
        f"room page at {history['messages']:,} messages: p99 < 15 ms"
        if history
        else "room page at 1,000,000 messages: p99 < 15 ms",
        page and f"{page:.1f} ms",
        page and page < 15,
    )
    return rows


def targets_lines(results: dict) -> list[str]:
    """The targets as Markdown list lines."""
    verdict = {True: "**met**", False: "**NOT met**", None: "not measured"}
    return [f"- {goal}: {figure}: {verdict[met]}" for goal, figure, met in targets(results)]
