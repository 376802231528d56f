"""Attachments: what is accepted (by content), how images are made harmless, who may fetch a file
and with which headers, the push that shows it, and what a page of them costs."""

import io
import struct
import zlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image

from chat.attachments import attachment_post, attachment_prepare
from chat.latest import latest_forget
from chat.memberships import membership_join
from chat.models import Attachment
from chat.rooms import room_create_private, room_get_or_create
from chat.tests.support import logged_in
from site_config.session_reads import session_reads_forget

pytestmark = pytest.mark.django_db

GPS_TAG = 0x8825  # EXIF's GPSInfo pointer


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    """Each test stores its files in a folder of its own, never in the project's media/."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }
    return tmp_path


@pytest.fixture
def lobby(people):
    room = room_get_or_create(name="Lobby")[0]
    for person in people:
        membership_join(room=room, user=person)
    return room


def image_bytes(kind: str = "PNG", size=(64, 48), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(out, kind, **save)
    return out.getvalue()


def jpeg_with_exif() -> bytes:
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x0131] = "secret-software"  # Software
    return image_bytes("JPEG", (800, 600), exif=exif.tobytes())


def upload(data: bytes, name: str = "file.bin", content_type: str = "application/octet-stream"):
    return SimpleUploadedFile(name, data, content_type=content_type)


def png_claiming(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims `width` × `height` pixels (a decompression bomb's shape)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\0" * 1024))
        + chunk(b"IEND", b"")
    )


def test_an_image_is_stored_re_encoded_without_its_exif(lobby, people):
    """The camera's EXIF (make, software) is gone from the stored JPEG; its size is kept."""
    original = jpeg_with_exif()
    assert b"SpyCam" in original
    message = attachment_post(room=lobby, author=people[0], upload=upload(original, "holiday.jpg", "image/jpeg"))
    attachment = message.attachments.get()
    stored = attachment.file.read()
    assert b"SpyCam" not in stored and b"secret-software" not in stored
    assert dict(Image.open(io.BytesIO(stored)).getexif()) == {}
    assert (attachment.width, attachment.height, attachment.content_type) == (800, 600, "image/jpeg")
    assert attachment.original_name == "holiday.jpg" and message.body == "holiday.jpg"
    assert attachment.file.name.startswith("attachments/") and attachment.file.name.endswith("/holiday.jpg")


def test_a_thumbnail_is_at_most_480_pixels_a_side_and_keeps_the_shape(lobby, people):
    """A 1600 × 800 image gets a 480 × 240 WebP thumbnail."""
    message = attachment_post(room=lobby, author=people[0], upload=upload(image_bytes("PNG", (1600, 800)), "wide.png"))
    thumbnail = Image.open(message.attachments.get().thumbnail)
    assert (thumbnail.format, thumbnail.size) == ("WEBP", (480, 240))


def test_the_caption_is_the_message_and_the_type_is_what_the_bytes_are(lobby, people):
    """A PNG named .txt is stored as a PNG (its name's extension follows); the caption is the body."""
    message = attachment_post(
        room=lobby, author=people[0], upload=upload(image_bytes(), "notes.txt", "text/plain"), caption=" look "
    )
    attachment = message.attachments.get()
    assert message.body == "look"
    assert attachment.content_type == "image/png" and attachment.file.name.endswith("/notes.png")


def test_plain_text_and_pdf_are_accepted_as_downloads(lobby, people):
    """Text and PDF are stored as they are, with no thumbnail."""
    text = attachment_post(room=lobby, author=people[0], upload=upload("día 1\nok\n".encode(), "log.txt"))
    pdf = attachment_post(room=lobby, author=people[0], upload=upload(b"%PDF-1.7\n%fake\n", "report.pdf"))
    assert text.attachments.get().content_type == "text/plain; charset=utf-8"
    assert pdf.attachments.get().content_type == "application/pdf"
    assert not pdf.attachments.get().thumbnail


def test_a_file_over_the_limit_is_refused_and_nothing_is_stored(lobby, people, settings, media):
    """CHAT_UPLOAD_MAX_BYTES bounds a file: one byte more is refused, no message, no file."""
    settings.CHAT_UPLOAD_MAX_BYTES = 1000
    with pytest.raises(ValidationError, match="too large"):
        attachment_post(room=lobby, author=people[0], upload=upload(b"a" * 1001, "big.txt"))
    assert not lobby.messages.exists() and not any(media.rglob("*.*"))


@pytest.mark.parametrize(
    "data",
    [
        b"<!DOCTYPE html><html><script>alert(1)</script></html>",
        b"  <svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>",
        b"<?xml version='1.0'?><svg xmlns='http://www.w3.org/2000/svg'/>",
        b"GIF89a<html><script>alert(1)</script></html>",
        b"\x7fELF\x02\x01\x01\x00binary",
        b"MZ\x90\x00\x03\x00\x00\x00",
    ],
    ids=["html", "svg", "svg-xml", "gif-header-html", "elf", "exe"],
)
def test_markup_broken_images_and_other_binaries_are_refused(lobby, people, data):
    """HTML, SVG, a GIF header over HTML and executables are refused whatever their names."""
    with pytest.raises(ValidationError):
        attachment_post(room=lobby, author=people[0], upload=upload(data, "cat.gif", "image/gif"))
    assert not Attachment.objects.exists() and not lobby.messages.exists()


def test_a_polyglot_gif_is_re_encoded_without_its_html(lobby, people):
    """A valid GIF with HTML in a comment and after its end is stored with neither."""
    out = io.BytesIO()
    Image.new("P", (10, 10)).save(out, "GIF", comment=b"<script>alert(1)</script>")
    polyglot = out.getvalue() + b"<html><script>alert(2)</script></html>"
    message = attachment_post(room=lobby, author=people[0], upload=upload(polyglot, "x.gif"))
    stored = message.attachments.get().file.read()
    assert stored.startswith(b"GIF8") and b"<script" not in stored and b"alert" not in stored


def test_a_decompression_bomb_is_refused_before_it_is_decoded(lobby, people):
    """A PNG of a few hundred bytes claiming 100,000 × 100,000 pixels is refused."""
    bomb = png_claiming(100_000, 100_000)
    assert len(bomb) < 1000
    with pytest.raises(ValidationError, match="could not be read"):
        attachment_prepare(bomb)
    with pytest.raises(ValidationError):
        attachment_prepare(png_claiming(8000, 6000))  # 48 million pixels, past the 40 million default


def test_an_image_is_served_inline_with_headers_that_keep_it_inert(lobby, people):
    """The full image and its thumbnail: the stored type, inline, nosniff, sandboxed."""
    message = attachment_post(room=lobby, author=people[0], upload=upload(image_bytes(), "a.png"))
    attachment = message.attachments.get()
    client = logged_in(people[1])
    full = client.get(f"/chat/{lobby.slug}/files/{attachment.pk}/")
    thumb = client.get(f"/chat/{lobby.slug}/files/{attachment.pk}/thumb/")
    assert full.status_code == thumb.status_code == 200
    assert full["Content-Type"] == "image/png" and thumb["Content-Type"] == "image/webp"
    assert full["Content-Disposition"].startswith("inline")
    for response in (full, thumb):
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Content-Security-Policy"] == "sandbox"
    assert b"".join(full.streaming_content) == attachment.file.read()


def test_an_animated_gif_keeps_its_frames_and_its_thumbnail_is_the_first(lobby, people):
    """Three frames in, three frames out (re-encoded), and a still thumbnail."""
    frames = [Image.new("RGB", (30, 20), colour) for colour in ("red", "green", "blue")]
    out = io.BytesIO()
    frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0)
    message = attachment_post(room=lobby, author=people[0], upload=upload(out.getvalue(), "spin.gif"))
    attachment = message.attachments.get()
    assert Image.open(attachment.file).n_frames == 3 and (attachment.width, attachment.height) == (30, 20)
    assert Image.open(attachment.thumbnail).size == (30, 20)


def test_other_files_are_served_as_downloads_never_as_html(lobby, people):
    """A text file is text/plain, `attachment`, nosniff, sandboxed."""
    message = attachment_post(room=lobby, author=people[0], upload=upload(b"hello <b>there</b>", "page.html"))
    response = logged_in(people[1]).get(f"/chat/{lobby.slug}/files/{message.attachments.get().pk}/")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert response["Content-Disposition"].startswith("attachment") and "page.txt" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff" and response["Content-Security-Policy"] == "sandbox"


def test_an_outsider_gets_a_404_for_a_private_rooms_file(people):
    """Cy is not in the private room: its file and thumbnail are 404, as is a wrong room's slug."""
    ana, bea, cy = people
    plans = room_create_private(name="Plans", creator=ana)
    lobby = room_get_or_create(name="Lobby")[0]
    attachment = attachment_post(room=plans, author=ana, upload=upload(image_bytes(), "p.png")).attachments.get()
    for path in (f"/chat/{plans.slug}/files/{attachment.pk}/", f"/chat/{plans.slug}/files/{attachment.pk}/thumb/"):
        assert logged_in(cy).get(path).status_code == 404
        assert logged_in(ana).get(path).status_code == 200
    assert logged_in(ana).get(f"/chat/{lobby.slug}/files/{attachment.pk}/").status_code == 404
    assert logged_in(cy).post(f"/chat/{plans.slug}/files/", {"file": upload(b"hi", "a.txt")}).status_code == 404


def test_a_deleted_messages_file_is_a_404(lobby, people):
    """Once its message is deleted, a file's address (kept by anyone) serves nothing."""
    from django.utils import timezone

    from chat.models import Message

    if not any(field.name == "deleted_at" for field in Message._meta.get_fields()):
        pytest.skip("messages are not deleted in this tree")
    message = attachment_post(room=lobby, author=people[0], upload=upload(image_bytes(), "gone.png"))
    path = f"/chat/{lobby.slug}/files/{message.attachments.get().pk}/"
    assert logged_in(people[1]).get(path).status_code == 200
    Message.objects.filter(pk=message.pk).update(deleted_at=timezone.now())
    assert logged_in(people[1]).get(path).status_code == 404
    assert logged_in(people[1]).get(path + "thumb/").status_code == 404


def test_the_form_posts_a_file_and_redirects_back_or_shows_the_error(lobby, people, settings):
    """Without JavaScript: stored and redirected; refused, the room page says why."""
    client = logged_in(people[0])
    response = client.post(f"/chat/{lobby.slug}/files/", {"file": upload(image_bytes(), "a.png"), "caption": "hi"})
    assert response.status_code == 302 and response["Location"] == f"/chat/{lobby.slug}/"
    assert lobby.messages.get().body == "hi"
    refused = client.post(f"/chat/{lobby.slug}/files/", {"file": upload(b"<html>", "a.html")}, follow=True)
    assert "This kind of file cannot be attached" in refused.content.decode()
    assert lobby.messages.count() == 1


def test_with_htmx_the_answer_is_the_attach_form_out_of_band_with_its_error(lobby, people):
    """An htmx POST is answered with #attach, swapped out of band, its error in #attach-errors."""
    response = logged_in(people[0]).post(
        f"/chat/{lobby.slug}/files/", {"file": upload(b"<svg/>", "x.svg"), "caption": "keep"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200 and 'id="attach" class="attach mt-1" hx-swap-oob="true"' in html
    assert 'id="attach-errors"' in html and "cannot be attached" in html and 'value="keep"' in html


def test_the_room_page_shows_thumbnails_and_download_links_in_bounded_queries(lobby, people):
    """One attachment or twenty cost the same queries; the page links each file."""
    ana, bea, _cy = people
    attachment_post(room=lobby, author=ana, upload=upload(image_bytes(), "first.png"))
    client = logged_in(bea)

    def queries() -> int:
        latest_forget()  # each count reads the page afresh (its member list, its reader)
        session_reads_forget()
        with CaptureQueriesContext(connection) as captured:
            client.get(f"/chat/{lobby.slug}/")
        return len(captured)

    one = queries()
    for n in range(10):
        attachment_post(room=lobby, author=ana, upload=upload(image_bytes(size=(8, 8)), f"i{n}.png"))
        attachment_post(room=lobby, author=bea, upload=upload(b"notes", f"n{n}.txt"))
    attachment_post(room=lobby, author=ana, upload=upload(b"last", "last.txt"))  # bea's marker moves again
    assert queries() == one
    html = client.get(f"/chat/{lobby.slug}/").content.decode()
    first = Attachment.objects.get(original_name="first.png")
    assert (
        f'<img class="img-fluid rounded border" src="/chat/{lobby.slug}/files/{first.pk}/thumb/" alt="first.png"'
        in html
    )
    assert "<bdi>n9.txt</bdi>" in html and "(5\xa0bytes)" in html  # filesizeformat's no-break space


def test_the_push_of_an_attached_message_shows_its_thumbnail(
    lobby, people, monkeypatch, django_capture_on_commit_callbacks
):
    """The message's broadcast, sent on commit, renders the attachment (it exists by then); a
    reader of another language and time zone gets it rendered again without a query."""
    from chat import broadcasts

    events = []

    async def group_send(group, event):
        events.append(event)
        return True

    monkeypatch.setattr(broadcasts, "group_send", group_send)
    with django_capture_on_commit_callbacks(execute=True):
        message = attachment_post(room=lobby, author=people[0], upload=upload(image_bytes(), "live.png"))
    attachment = message.attachments.get()
    (event,) = [event for event in events if event["type"] == "chat.message"]
    assert f"/files/{attachment.pk}/thumb/" in event["html"] and 'alt="live.png"' in event["html"]
    variants = pytest.importorskip("chat.variants")
    with CaptureQueriesContext(connection) as captured:
        again = variants.push_html(event, variants.Variant("es", "America/Bogota"))
    assert f"/files/{attachment.pk}/thumb/" in again and 'alt="live.png"' in again and len(captured) == 0


def test_the_default_storage_is_media_unless_the_environment_names_another(monkeypatch, tmp_path):
    """site_config.stores.storages: media/ by default; DJANGO_DEFAULT_STORAGE and its JSON options."""
    from site_config.stores import storages

    monkeypatch.delenv("DJANGO_DEFAULT_STORAGE", raising=False)
    monkeypatch.delenv("DJANGO_MEDIA_ROOT", raising=False)
    assert storages(base_dir=tmp_path, debug=True)["default"]["OPTIONS"] == {"location": str(tmp_path / "media")}
    monkeypatch.setenv("DJANGO_DEFAULT_STORAGE", "storages.backends.s3.S3Storage")
    monkeypatch.setenv("DJANGO_DEFAULT_STORAGE_OPTIONS", '{"bucket_name": "files", "default_acl": "private"}')
    default = storages(base_dir=tmp_path, debug=False)["default"]
    assert default == {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {"bucket_name": "files", "default_acl": "private"},
    }
