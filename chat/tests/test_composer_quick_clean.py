"""MessageForm.quick_clean: a composer frame validated without binding the form, with the
form's own answers (chat/forms.py)."""

import random
import uuid

import pytest

from chat.forms import MessageForm
from chat.models import Message

KEY = "8c1f6a52-3b1e-4d0e-9a43-0f5c2f7b9a10"
CASES = [
    ("hello", KEY),
    ("  hi there  ", KEY),
    ("¿Qué tal?\nBien", KEY),
    ("*bold* and @ana", KEY),
    ("x" * Message.BODY_MAX_LENGTH, KEY),
    ("x" * (Message.BODY_MAX_LENGTH + 1), KEY),
    ("  " + "y" * Message.BODY_MAX_LENGTH + "  ", KEY),
    ("", KEY),
    ("   ", KEY),
    ("\u200b\u200b", KEY),
    ("\u200bvisible after", KEY),
    ("\u0301", KEY),
    ("a\x00b", KEY),
    ("lone \ud800 surrogate", KEY),
    ("emoji 🎉", KEY),
    (None, KEY),
    (42, KEY),
    (["a"], KEY),
    ("hello", None),
    ("hello", ""),
    ("hello", "not-a-uuid"),
    ("hello", KEY.upper()),
    ("hello", KEY.replace("-", "")),
    ("hello", " " + KEY + " "),
    ("hello", "8c1f6a52-3b1e-4d0e-1a43-0f5c2f7b9a10"),  # the NCS variant: no key of ours
    ("hello", "{8c1f6a52-3b1e-4d0e-9a43-0f5c2f7b9a10}"),
    ("hello", 12345),
    ("hello", uuid.UUID(KEY)),
]


def _form_answer(data: dict) -> dict | None:
    form = MessageForm(data)
    return form.cleaned_data if form.is_valid() else None


@pytest.mark.parametrize(("message", "key"), CASES)
def test_quick_clean_gives_the_forms_cleaned_data_or_leaves_it_to_the_form(message, key):
    """Whatever quick_clean accepts, the form accepts with the same cleaned data (the stripped
    text and the key derived from it); whatever the form refuses, quick_clean leaves to it."""
    data = {"message": message, "key": key}
    quick, form = MessageForm.quick_clean(data), _form_answer(data)
    if quick is not None:
        assert quick == form
    if form is None:
        assert quick is None


def test_quick_clean_takes_the_usual_frame():
    """A frame as the composer sends it, typed text and its canonical key, is taken without the form."""
    cleaned = MessageForm.quick_clean({"message": " hola, ¿qué tal? ", "key": KEY})
    assert cleaned == {"message": "hola, ¿qué tal?", "key": uuid.uuid5(uuid.UUID(KEY), "hola, ¿qué tal?")}


def test_quick_clean_agrees_with_the_form_on_random_frames():
    """2,000 random texts (spaces, invisible and combining characters, nulls, surrogates, letters)
    and keys (canonical, upper case, other variants, bad): the same answers as the form's."""
    generator = random.Random(11)
    alphabet = [" ", "\t", "\n", "\u200b", "\u0301", "\x00", "\ud800", "a", "Ñ", "1", "🎉", "@", "*"]
    keys = [KEY, KEY.upper(), str(uuid.UUID(int=generator.getrandbits(128))), "x" * 36, "", None]
    for _ in range(2000):
        text = "".join(generator.choice(alphabet) for _ in range(generator.randint(0, 6)))
        data = {"message": text, "key": generator.choice(keys)}
        quick, form = MessageForm.quick_clean(data), _form_answer(data)
        assert quick is None or quick == form, data
        assert form is not None or quick is None, data
