"""The load generator: many WebSocket members in rooms, open-loop senders, per-copy latency.

Each message carries `b<id>t<scheduled send time, ns>e` as its text. Every member parses every
frame it receives for these stamps, so each delivered copy gives a latency (receipt minus the
*scheduled* send time, so a sender that falls behind shows up as latency, not as a slower
offered rate) and lets lost and duplicated copies be counted.
"""

import asyncio
import json
import re
import time
import uuid
from dataclasses import dataclass, field

from websockets.asyncio.client import connect

STAMP = re.compile(r"b(\d+)t(\d+)e")
NEWEST = "9223372036854775807"  # a sync cursor the server clamps to the room's newest seq


@dataclass
class Target:
    """Where to connect: Tertulia (authenticated, sends a status then wants a sync) or the
    reference server (anonymous, silent until a message)."""

    name: str
    ports: list[int]  # members alternate over these server processes
    tertulia: bool
    cookies: list[str] = field(default_factory=list)

    def origin(self, index: int) -> str:
        """The page's origin on the process the `index`-th member uses, as a browser sends it
        (Tertulia accepts a handshake only from its own scheme, host and port)."""
        return f"http://127.0.0.1:{self.ports[index % len(self.ports)]}"

    def url(self, room: str, index: int) -> str:
        path = f"/ws/chat/{room}/" if self.tertulia else f"/room/{room}"
        return "ws" + self.origin(index).removeprefix("http") + path


class Member:
    """One open socket, recording what it receives."""

    def __init__(self, socket, room: str):
        self.socket, self.room = socket, room
        self.seen: set[int] = set()
        self.latencies_ns: list[int] = []
        self.duplicates = 0
        self.task = asyncio.create_task(self._read())

    async def _read(self):
        try:
            async for frame in self.socket:
                now = time.monotonic_ns()
                for match in STAMP.finditer(frame):
                    message_id = int(match.group(1))
                    if message_id in self.seen:
                        self.duplicates += 1
                    else:
                        self.seen.add(message_id)
                        self.latencies_ns.append(now - int(match.group(2)))
        except Exception:  # noqa: BLE001 - a closed socket ends its reader; counted as lost copies
            pass

    def reset(self):
        self.seen.clear()
        self.latencies_ns.clear()
        self.duplicates = 0


async def open_members(target: Target, rooms: list[str], per_room: int, compression: bool, concurrency: int = 100):
    """Open `per_room` sockets in each room (the i-th uses the i-th cookie). Returns the members
    and the seconds it took for all of them to be ready (Tertulia: status received, synced)."""
    limit = asyncio.Semaphore(concurrency)
    slots = [(room, i) for room in rooms for i in range(per_room)]

    async def open_one(index: int, room: str) -> Member:
        async with limit:
            headers = {"Cookie": target.cookies[index]} if target.tertulia else None
            socket = await connect(
                target.url(room, index),
                origin=target.origin(index),
                additional_headers=headers,
                compression="deflate" if compression else None,
                max_size=2**22,
                open_timeout=60,
            )
            if target.tertulia:
                await socket.recv()  # the "Connected" status
                await socket.send(json.dumps({"after": NEWEST}))
            return Member(socket, room)

    start = time.perf_counter()
    members = await asyncio.gather(*(open_one(i, room) for i, (room, _n) in enumerate(slots)))
    return list(members), time.perf_counter() - start


async def close_members(members: list[Member]) -> None:
    await asyncio.gather(*(m.socket.close() for m in members), return_exceptions=True)
    for m in members:
        m.task.cancel()


@dataclass
class StepResult:
    offered_messages_per_s: float
    messages: int
    expected_copies: int
    delivered: int
    lost: int
    duplicated: int
    seconds: float
    latencies_ms: list[float]

    def percentile(self, p: float) -> float:
        if not self.latencies_ms:
            return float("nan")
        ordered = sorted(self.latencies_ms)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]

    @property
    def copies_per_s(self) -> float:
        return self.delivered / self.seconds if self.seconds else 0.0


_message_ids = iter(range(10**12))


async def offer_load(members: list[Member], rate: float, duration: float, drain: float = 2.0) -> StepResult:
    """Send `rate` messages/s for `duration` s, round-robin over one sender per room, on a fixed
    schedule (open loop). Waits up to `drain` s after the last send for copies to arrive."""
    for m in members:
        m.reset()
    by_room: dict[str, list[Member]] = {}
    for m in members:
        by_room.setdefault(m.room, []).append(m)
    senders = [room_members[0] for room_members in by_room.values()]
    count = max(1, int(rate * duration))
    start = time.monotonic_ns() + 20_000_000
    interval = 1e9 / rate
    expected = 0
    for k in range(count):
        scheduled = start + int(k * interval)
        delay = (scheduled - time.monotonic_ns()) / 1e9
        if delay > 0:
            await asyncio.sleep(delay)
        sender = senders[k % len(senders)]
        stamp = f"b{next(_message_ids)}t{scheduled}e"
        await sender.socket.send(json.dumps({"message": stamp, "key": str(uuid.uuid4())}))
        expected += len(by_room[sender.room])
    sent_done = time.monotonic_ns()
    deadline = time.monotonic() + drain
    while time.monotonic() < deadline and sum(len(m.seen) for m in members) < expected:
        await asyncio.sleep(0.02)
    delivered = sum(len(m.seen) for m in members)
    seconds = max((sent_done - start) / 1e9, 1e-9)
    return StepResult(
        offered_messages_per_s=rate,
        messages=count,
        expected_copies=expected,
        delivered=delivered,
        lost=expected - delivered,
        duplicated=sum(m.duplicates for m in members),
        seconds=seconds,
        latencies_ms=[ns / 1e6 for m in members for ns in m.latencies_ns],
    )


async def fan_out_times(members: list[Member], messages: int = 20, timeout: float = 5.0) -> list[float]:
    """One message at a time to one room: for each, the ms until the last member had it."""
    sender = members[0]
    times = []
    for _ in range(messages):
        for m in members:
            m.reset()
        sent = time.monotonic_ns()
        stamp = f"b{next(_message_ids)}t{sent}e"
        await sender.socket.send(json.dumps({"message": stamp, "key": str(uuid.uuid4())}))
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not all(m.seen for m in members):
            await asyncio.sleep(0.001)
        arrived = [max(m.latencies_ns) for m in members if m.latencies_ns]
        times.append(max(arrived) / 1e6 if len(arrived) == len(members) else float("inf"))
        await asyncio.sleep(0.05)
    return times
