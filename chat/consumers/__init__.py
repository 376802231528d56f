"""The chat's sockets: authenticate, authorize, join groups, hand frames on, forward events.

What they hold is delegated: the sidebar's entries to `sidebar.Sidebar`, the reader's place in
the log to `cursor.Cursor`, frame parsing to `frames`, posting to `composer`, rendering to
`fragments`, and every channel-layer send to `broadcasts`.

Close codes (4000-4999 are the application's; htmx's ws extension never retries them, so a
refused or ended socket does not reconnect forever; each is sent after accept(), so that the
browser sees it): 4001 not logged in or session ended, 4003 not (or no longer) a member of a
private room, 4004 no such room.
"""

from .base import CLOSE_NOT_A_MEMBER, CLOSE_NOT_AUTHENTICATED, CLOSE_ROOM_NOT_FOUND
from .room import RoomConsumer
from .sidebar import SidebarConsumer

__all__ = ["CLOSE_NOT_AUTHENTICATED", "CLOSE_NOT_A_MEMBER", "CLOSE_ROOM_NOT_FOUND", "RoomConsumer", "SidebarConsumer"]
