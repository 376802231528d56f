"""Attachments in the browser: a picture attached by one member shows live for another, who
opens it; a refused file says why; without JavaScript the form still posts."""

import io

import pytest
from PIL import Image
from playwright.sync_api import Page, expect

from e2e.browser import _, enter_room, sign_up

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (20, 120, 220)).save(out, "PNG")
    return out.getvalue()


def attach(page: Page, name: str, mime_type: str, content: bytes, caption: str = "") -> None:
    """On `page`'s room, open the attach form, choose a file called `name` (`mime_type`,
    `content`), write `caption` if given, and press Attach."""
    page.get_by_text(_("Attach a file")).click()
    page.get_by_label(_("File"), exact=True).set_input_files({"name": name, "mimeType": mime_type, "buffer": content})
    if caption:
        page.get_by_label(_("Caption")).fill(caption)
    page.get_by_role("button", name=_("Attach")).click()


def test_a_picture_attached_by_ana_shows_live_for_bea_who_opens_it(new_page):
    """Ana attaches dot.png with a caption: Bea's log shows its thumbnail without a reload, and
    the thumbnail opens the full PNG; Ana's form is empty again, and her page never reloaded."""
    ana, bea = sign_up(new_page(), "ana"), sign_up(new_page(), "bea")
    enter_room(bea, "Lobby")
    enter_room(ana, "Lobby")
    ana.evaluate("window.stayedHere = true")  # gone if the page reloads

    attach(ana, "dot.png", "image/png", png(), caption="the blue dot")

    thumbnail = bea.get_by_role("log").get_by_role("img", name="dot.png")
    expect(thumbnail).to_be_visible()
    expect(bea.get_by_role("log")).to_contain_text("the blue dot")
    expect(thumbnail).to_have_js_property("naturalWidth", 40)  # loaded, however long the image takes
    expect(ana.get_by_role("log").get_by_role("img", name="dot.png")).to_be_visible()
    expect(ana.get_by_label(_("Caption"))).to_have_value("")
    assert ana.evaluate("window.stayedHere") is True

    with bea.context.expect_page() as opened:
        bea.get_by_role("link", name="dot.png").click()
    full = opened.value
    full.wait_for_load_state()
    assert full.evaluate("document.contentType") == "image/png"
    assert full.evaluate("document.images[0].naturalWidth") == 40


def test_a_refused_file_is_explained_under_the_form(new_page):
    """An SVG is refused: the reason shows under the attach form, nothing is posted."""
    ana = sign_up(new_page(), "ana")
    enter_room(ana, "Lobby")
    svg = b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>"
    attach(ana, "x.svg", "image/svg+xml", svg)
    refusal = _("This kind of file cannot be attached: images (JPEG, PNG, GIF, WebP), PDF and plain text can.")
    expect(ana.locator("#attach-errors")).to_contain_text(refusal)
    expect(ana.get_by_role("log").locator(".message")).to_have_count(0)


def test_without_javascript_the_form_posts_the_file_and_comes_back_to_the_room(new_page):
    """With scripts off the form POSTs: back in the room, the picture is in the log."""
    ana = sign_up(new_page(java_script_enabled=False), "ana")
    enter_room(ana, "Lobby", live=False)
    attach(ana, "dot.png", "image/png", png())
    expect(ana.get_by_role("heading", name="Lobby")).to_be_visible()
    expect(ana.get_by_role("log").get_by_role("img", name="dot.png")).to_be_visible()
