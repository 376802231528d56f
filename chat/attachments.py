"""Attaching a file to a message: what is accepted, how it is made harmless, and how it is stored.

A file is judged by its bytes, never by its name or the type its browser claimed: JPEG, PNG, GIF
and WebP images that Pillow opens and verifies, PDF (`%PDF-`) and plain UTF-8 text that does not
start with markup. Images are decoded and encoded again server-side, so that no EXIF (a phone's
GPS position) survives and no other format hides in their bytes (a GIF that is also an HTML
page); their size in pixels is checked before they are decoded (a small PNG claiming 100,000 ×
100,000 pixels would take gigabytes). Everything else, an HTML or SVG file included, is refused.
The limits are Django settings if set, else read here from the environment, with defaults:
- CHAT_UPLOAD_MAX_BYTES (10 MB): the largest file accepted, in bytes.
- CHAT_UPLOAD_MAX_PIXELS (40 million): the most pixels an image may have (all frames together).
"""

import io
import os
import pathlib
import warnings
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import SuspiciousFileOperation, ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils.text import get_valid_filename
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, ImageSequence

from .messages import message_create
from .models import Attachment, Message
from .selectors import related_restore

THUMBNAIL_PIXELS = 480  # a thumbnail's longest side
MAX_FRAMES = 200  # an animation's frames: each is decoded, so they count towards the pixel limit too
IMAGE_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif", "WEBP": "image/webp"}
TEXT_TYPE = "text/plain; charset=utf-8"
PDF_TYPE = "application/pdf"
# The only types an attachment is ever served as (never text/html, never image/svg+xml).
SERVED_TYPES = {*IMAGE_TYPES.values(), PDF_TYPE, TEXT_TYPE}
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp"}
EXTENSIONS.update({PDF_TYPE: ".pdf", TEXT_TYPE: ".txt"})
# What the file input offers (a convenience: the bytes decide).
ACCEPT = ",".join([*IMAGE_TYPES.values(), PDF_TYPE, "text/plain", *sorted(set(EXTENSIONS.values()))])

TOO_LARGE = _("This file is too large: files up to %(limit)s can be attached.")
REFUSED_TYPE = _("This kind of file cannot be attached: images (JPEG, PNG, GIF, WebP), PDF and plain text can.")
BROKEN_IMAGE = _("This image could not be read: it may be damaged, or larger than we accept.")
EMPTY = _("This file is empty.")
# Control characters that plain text may hold: tab, line feed, form feed, carriage return.
TEXT_CONTROLS = {9, 10, 12, 13}


def max_bytes() -> int:
    """The largest attachment accepted, in bytes (CHAT_UPLOAD_MAX_BYTES, default 10 MB)."""
    return int(getattr(settings, "CHAT_UPLOAD_MAX_BYTES", os.environ.get("CHAT_UPLOAD_MAX_BYTES", 10 * 1024 * 1024)))


def max_pixels() -> int:
    """The most pixels an image may have (CHAT_UPLOAD_MAX_PIXELS, default 40 million)."""
    return int(getattr(settings, "CHAT_UPLOAD_MAX_PIXELS", os.environ.get("CHAT_UPLOAD_MAX_PIXELS", 40_000_000)))


@dataclass(frozen=True)
class Prepared:
    """An accepted file, ready to store: its `content` (re-encoded if an image), `content_type`
    (one of SERVED_TYPES), image `width` and `height` in pixels and `thumbnail` (WebP bytes),
    all None for other files."""

    content: bytes
    content_type: str
    width: int | None = None
    height: int | None = None
    thumbnail: bytes | None = None


def _reencoded(image: Image.Image, kind: str) -> tuple[bytes, Image.Image]:
    """`image` encoded again as `kind` with none of its metadata (EXIF, comments, ICC profile),
    and its first frame as shown (for the thumbnail)."""
    out = io.BytesIO()
    frames = [frame.convert("RGBA") for frame in ImageSequence.Iterator(image)]
    if len(frames) > 1:
        durations = [frame.info.get("duration", 100) for frame in ImageSequence.Iterator(image)]
        for frame in frames:
            frame.info = {}
        frames[0].save(out, kind, save_all=True, append_images=frames[1:], duration=durations, loop=0)
        return out.getvalue(), frames[0]
    image.seek(0)
    # The picture as its camera meant it to be seen: EXIF's orientation goes with the EXIF.
    still = ImageOps.exif_transpose(image)
    if kind == "JPEG":
        still = still.convert("RGB")
    elif still.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
        still = still.convert("RGBA")
    still.info = {"transparency": still.info["transparency"]} if "transparency" in still.info else {}
    still.save(out, kind, **({"quality": 90} if kind in ("JPEG", "WEBP") else {}))
    return out.getvalue(), still


def _image(data: bytes) -> Prepared:
    """`data` as an accepted image (Prepared), or ValidationError(BROKEN_IMAGE)."""
    try:
        # Pillow's own guard: a warning past MAX_IMAGE_PIXELS (an error past twice that), made
        # an error here.
        Image.MAX_IMAGE_PIXELS = max_pixels()
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=list(IMAGE_TYPES)) as probe:
                kind, (width, height) = probe.format, probe.size
                frames = getattr(probe, "n_frames", 1)
                # Checked before anything is decoded: the header states the size.
                if width * height * frames > max_pixels() or frames > MAX_FRAMES:
                    raise ValidationError(BROKEN_IMAGE)
                probe.verify()
            with Image.open(io.BytesIO(data), formats=[kind]) as image:
                content, shown = _reencoded(image, kind)
        thumbnail = shown.convert("RGBA")
        thumbnail.thumbnail((THUMBNAIL_PIXELS, THUMBNAIL_PIXELS))
        thumbnail_bytes = io.BytesIO()
        thumbnail.save(thumbnail_bytes, "WEBP", quality=80)
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError, Warning) as error:
        raise ValidationError(BROKEN_IMAGE) from error
    return Prepared(content, IMAGE_TYPES[kind], shown.width, shown.height, thumbnail_bytes.getvalue())


def _is_text(data: bytes) -> bool:
    """Whether `data` is plain UTF-8 text (a BOM allowed) with no control characters but line
    breaks, tabs and form feeds, and not starting with "<" (HTML, SVG, XML: refused, as a
    browser that sniffs would take them for markup)."""
    try:
        text = data.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        return False
    if any(ord(c) < 32 and ord(c) not in TEXT_CONTROLS or ord(c) == 127 for c in text):
        return False
    return not text.lstrip().startswith("<")


def attachment_prepare(data: bytes) -> Prepared:
    """Judge a file by its bytes `data`: an accepted file as Prepared (an image re-encoded, with
    its thumbnail), else ValidationError (EMPTY, TOO_LARGE, REFUSED_TYPE, BROKEN_IMAGE)."""
    if not data:
        raise ValidationError(EMPTY)
    if len(data) > max_bytes():
        raise ValidationError(TOO_LARGE, params={"limit": f"{max_bytes() // (1024 * 1024)} MB"})
    image_magic = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"GIF87a", b"GIF89a")
    if data.startswith(image_magic) or (data[:4] == b"RIFF" and data[8:12] == b"WEBP"):
        return _image(data)
    if data.startswith(b"%PDF-"):
        return Prepared(data, PDF_TYPE)
    if _is_text(data):
        return Prepared(data, TEXT_TYPE)
    raise ValidationError(REFUSED_TYPE)


def _safe_name(name: str, content_type: str) -> str:
    """A file name to store and to offer for download: `name`'s stem made safe (letters,
    digits, "-", "_", "."; at most 80 characters), with the extension of what it really is."""
    stem = pathlib.PurePosixPath(name.replace("\\", "/")).stem[:80]
    try:
        stem = get_valid_filename(stem)
    except SuspiciousFileOperation:
        stem = "file"
    return f"{stem or 'file'}{EXTENSIONS[content_type]}"


def attachment_post(*, room, author, upload, caption: str = "") -> Message:
    """Post `upload` (a Django UploadedFile) as `author`'s message in `room`, with `caption` (or
    the file's name) as its body, and return the message.

    The file is judged by its bytes (attachment_prepare: ValidationError with nothing stored
    if refused), stored through Django's default storage under attachments/<uuid4>/, and its
    Attachment saved in the same transaction as the message (chat.messages.message_create,
    whose ValidationError, e.g. an archived room, also propagates): the message's push, sent
    once that transaction commits, shows the attachment. Files stored for a message that was
    not saved are deleted again.
    """
    if upload.size is not None and upload.size > max_bytes():
        raise ValidationError(TOO_LARGE, params={"limit": f"{max_bytes() // (1024 * 1024)} MB"})
    prepared = attachment_prepare(upload.read(max_bytes() + 1))
    original_name = pathlib.PurePosixPath((upload.name or "").replace("\\", "/")).name[:255] or "file"
    name = _safe_name(original_name, prepared.content_type)
    attachment = Attachment(original_name=original_name, size=len(prepared.content))
    attachment.content_type, attachment.width, attachment.height = (
        prepared.content_type,
        prepared.width,
        prepared.height,
    )
    attachment.file.save(name, ContentFile(prepared.content), save=False)
    try:
        if prepared.thumbnail is not None:
            attachment.thumbnail.save(
                f"{pathlib.Path(name).stem}.thumb.webp", ContentFile(prepared.thumbnail), save=False
            )
        with transaction.atomic():
            message = message_create(room=room, author=author, body=caption.strip() or original_name)
            attachment.message = message
            attachment.save()
            # message_create's push (on commit) renders this very message: it finds it here.
            attachments_restore(message, [attachment])
    except BaseException:
        attachment.file.delete(save=False)
        if attachment.thumbnail:
            attachment.thumbnail.delete(save=False)
        raise
    return message


FIELDS = ("id", "file", "thumbnail", "original_name", "size", "content_type", "width", "height")


def attachments_data(message: Message) -> list[dict]:
    """`message`'s attachments as plain data for a push (chat.variants), so that a socket can
    render them again without a query (attachments_restore). One query unless they are loaded
    (then it loads them for the bubble too)."""
    cached = getattr(message, "_prefetched_objects_cache", {}).get("attachments")
    attachments = list(cached if cached is not None else message.attachments.all())
    if cached is None:
        attachments_restore(message, attachments)
    return [
        {field: str(getattr(a, field)) if field in ("file", "thumbnail") else getattr(a, field) for field in FIELDS}
        for a in attachments
    ]


def attachments_restore(message: Message, attachments: list) -> None:
    """Make `attachments` (Attachment instances, or attachments_data's dicts) what
    `message.attachments.all()` returns, with no query, as prefetch_related would
    (selectors.related_restore)."""
    rows = [a if isinstance(a, Attachment) else Attachment(message_id=message.pk, **a) for a in attachments]
    related_restore(message, "attachments", rows)
