"""The README's screenshots (`make screenshots`): the room page of the seeded demo
(chat/management/commands/seed_demo.py), as ana sees it, on a desktop and on a phone (and the
phone with its "Rooms" menu open), written to docs/screenshots/.

Like `make run` it needs nothing running: a throwaway SQLite file and cache in a temporary
folder, the in-memory channel layer, one uvicorn process (e2e/servers.py), Debian's Chromium
(e2e/browser.py). Run it with `.venv/bin/python -m e2e.screenshots [OUTPUT_FOLDER]`.
"""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "site_config.settings")

from e2e import servers  # noqa: E402
from e2e.browser import chromium, open_page  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "docs" / "screenshots"
DESKTOP = {"viewport": {"width": 1280, "height": 800}}
# A phone's screen at its device pixel ratio of 2, so that the image stays sharp on such screens.
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}
VIEWER, OTHER, ROOM = "ana", "diego", "/chat/cafe/"
PASSWORD = "tertulia-demo"  # the seeded users' (seed_demo --password)


def demo_env(folder: Path) -> dict[str, str]:
    """The environment of every process of the run: this one's without its Django and Redis
    settings (the demo must look the same on any machine), a SQLite file and cache in
    `folder`, DEBUG on (seed_demo refuses otherwise)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REDIS_", "DATABASE_URL"))}
    return {
        **env,
        "DATABASE_URL": f"sqlite:///{folder / 'demo.sqlite3'}",
        "DJANGO_CACHE_DIR": str(folder / "cache"),
        "DJANGO_DEBUG": "true",
        "DJANGO_ALLOWED_HOSTS": "localhost,127.0.0.1",
        "PYTHONUNBUFFERED": "1",
    }


def manage(env: dict[str, str], *arguments: str) -> None:
    """Run `manage.py arguments` with `env`; CalledProcessError if it fails."""
    subprocess.run([sys.executable, "manage.py", *arguments], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)


def room_page(browser: Browser, base_url: str, username: str, **context_options) -> Page:
    """A fresh browser context logged in as `username`, on the demo room,
    connected, with someone else online."""
    page = open_page(browser, base_url, [], **context_options)
    page.goto("/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="Log in").click()
    page.wait_for_url("**/chat/**")
    page.goto(ROOM)
    expect(page.get_by_role("status")).to_have_text("Connected")
    return page


def shoot(page: Page, path: Path) -> None:
    """Save what `page` shows (its viewport, fonts loaded) as a PNG at `path`."""
    page.evaluate("document.fonts.ready")
    page.screenshot(path=path)
    print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {path.stat().st_size // 1024} KB")


def main(output: Path = OUTPUT) -> None:
    """Seed the demo in a temporary database, serve it, and write room-desktop.png,
    room-phone.png and room-phone-menu.png to `output`."""
    output.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="tertulia-screenshots-") as folder:
        env = demo_env(Path(folder))
        manage(env, "migrate", "--noinput")
        manage(env, "seed_demo", "--password", PASSWORD)
        port = servers.free_port()
        with servers.uvicorn(port, env, Path(folder) / "server.log") as (_process, base_url), chromium() as browser:
            # Someone else has the room open, so that "Online now" shows a team.
            other = room_page(browser, base_url, OTHER, **DESKTOP)
            # Each page marks the room read: the seed puts ana's "New messages" point back first.
            manage(env, "seed_demo", "--password", PASSWORD)
            desktop = room_page(browser, base_url, VIEWER, **DESKTOP)
            expect(desktop.get_by_role("list", name="Online now")).to_contain_text(OTHER)
            shoot(desktop, output / "room-desktop.png")
            manage(env, "seed_demo", "--password", PASSWORD)
            phone = room_page(browser, base_url, VIEWER, **PHONE)
            shoot(phone, output / "room-phone.png")
            phone.get_by_text("Rooms", exact=True).click()
            expect(phone.get_by_role("list", name="Your rooms")).to_be_visible()
            shoot(phone, output / "room-phone-menu.png")
            for page in (other, desktop, phone):
                page.context.close()


if __name__ == "__main__":
    main(Path(sys.argv[1]).resolve() if len(sys.argv) > 1 else OUTPUT)
