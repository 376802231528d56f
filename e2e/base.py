"""A live Tertulia server in a child process, and Debian's Chromium driven by Playwright."""

from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import SyncToAsync
from channels.testing import ChannelsLiveServerTestCase
from daphne.testing import DaphneProcess
from django.db import connections
from playwright.sync_api import Browser, BrowserContext, Page, expect, sync_playwright

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-extensions",
]
PASSWORD = "correct horse battery"


def sign_up(page: Page, username: str) -> None:
    """Sign `username` up through the form on `page`'s site; ends on the room index."""
    page.goto("/accounts/signup/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password", exact=False).first.fill(PASSWORD)
    page.get_by_label("Password confirmation").fill(PASSWORD)
    page.get_by_role("button", name="Sign up").click()
    expect(page.get_by_role("heading", name="Rooms", exact=True)).to_be_visible()


class FreshExecutorDaphneProcess(DaphneProcess):
    """Daphne in a forked child, with what the fork must not inherit replaced.

    - asgiref's single-thread executor: the parent's may hold a thread that does not exist in
      the child, and every `database_sync_to_async` would then hang.
    - the database name: pytest-django has already pointed the settings at the test database
      before the fork, so Channels' own `setup` (which prefixes "test_" again) is dropped.
    """

    def __init__(self, host, get_application, kwargs=None, setup=None, teardown=None, port=None):
        super().__init__(host, get_application, kwargs=kwargs, teardown=teardown, port=port)

    def run(self):
        SyncToAsync.single_thread_executor = ThreadPoolExecutor(max_workers=1)
        super().run()


class BrowserTestCase(ChannelsLiveServerTestCase):
    """Each test gets `self.browser`; `new_user_page()` opens a separate context (own cookies)."""

    ProtocolServerProcess = FreshExecutorDaphneProcess
    browser: Browser

    @classmethod
    def setUpClass(cls):
        # A connection opened before the fork would be shared with the child: close it first.
        connections.close_all()
        super().setUpClass()
        cls._playwright = sync_playwright().start()
        cls.browser = cls._playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)

    @classmethod
    def tearDownClass(cls):
        cls.browser.close()
        cls._playwright.stop()
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self._contexts: list[BrowserContext] = []
        self.dialogs: list[str] = []

    def tearDown(self):
        for context in self._contexts:
            context.close()
        super().tearDown()

    def new_user_page(self) -> Page:
        """A page in a fresh browser context: one context per user, as separate browsers."""
        context = self.browser.new_context(base_url=self.live_server_url)
        context.set_default_timeout(10_000)
        self._contexts.append(context)
        page = context.new_page()
        page.on("dialog", lambda dialog: (self.dialogs.append(dialog.message), dialog.dismiss()))
        return page

    def sign_up(self, username: str) -> Page:
        """Sign `username` up in a new context; returns their page, on the room index."""
        page = self.new_user_page()
        sign_up(page, username)
        return page

    def enter_room(self, page: Page, name: str) -> None:
        """Go to the room called `name` from the index, and wait until its socket is live."""
        page.goto("/chat/")
        page.get_by_label("Room name").fill(name)
        page.get_by_role("button", name="Go to room").click()
        expect(page.get_by_role("heading", name=name)).to_be_visible()
        expect(page.get_by_role("status")).to_have_text("Connected")

    def send(self, page: Page, text: str) -> None:
        page.get_by_label("Message", exact=True).fill(text)
        page.get_by_role("button", name="Send").click()
