"""The sign-up form (Django's, refusing reserved usernames and look-alikes of existing ones) and
the profile form."""

import unicodedata
from functools import cache

from confusable_homoglyphs.confusables import confusables_data
from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from .models import Profile, language_choices, time_zone_names

# Names a reader could take for the site speaking, or for a mention of everyone.
RESERVED_USERNAMES = [
    "admin",
    "administrator",
    "root",
    "staff",
    "support",
    "system",
    "tertulia",
    "here",
    "everyone",
    "channel",
    "moderator",
    "null",
    "undefined",
]


BIDI_MARKS = "\u200e\u200f"


@cache
def prototype(character: str) -> str:
    """What stands for `character` and every character that looks like it, from Unicode's
    confusables.txt (UTS #39) as confusable-homoglyphs ships it.

    The package links each character with its prototype both ways, so a group is a prototype
    and its look-alikes. confusables.txt maps characters to sequences ("m" to "rn") and never
    the reverse, so a group's sequence stands for it (itself mapped, letter by letter);
    otherwise its smallest member does. Any one member would do: only equality matters."""
    group = {character}
    for look_alike in confusables_data.get(character, ()):
        group.add(look_alike["c"])
        group.update(other["c"] for other in confusables_data.get(look_alike["c"], ()))
    # Right-to-left members come wrapped in left-to-right marks (for display): unwrap them.
    group = {member.strip(BIDI_MARKS) or member for member in group}
    sequences = [member for member in group if len(member) > 1]
    if sequences:
        return "".join(prototype(part) for part in min(sequences) if part != character)
    return min(group)


def skeleton(text: str) -> str:
    return "".join(prototype(character) for character in text)


def username_keys(username: str) -> tuple[str, str]:
    """Two keys, one of which is equal for usernames a reader could take for each other: the
    first folds case before look-alikes ("ALICE", "Alice" and Cyrillic "аlice" are "alice"),
    the second after them ("aIice", with a capital I, and "alice")."""
    name = unicodedata.normalize("NFKC", username)
    return skeleton(name.casefold()), skeleton(name).casefold()


def looks_alike(a: tuple[str, str], b: tuple[str, str]) -> bool:
    return a[0] == b[0] or a[1] == b[1]


RESERVED_KEYS = [username_keys(name) for name in RESERVED_USERNAMES]


class SignupForm(UserCreationForm):
    """Django's sign-up form (username, password1, password2) with an optional email address,
    whose username must not be reserved nor look like an existing one (normalised with NFKC,
    compared case-insensitively by confusables skeleton: Cyrillic "а" for Latin "a", capital "I"
    for "l", fullwidth forms).

    The email address is only where a password reset link is sent (accounts/urls.py); it is not
    verified, nor unique: one person may give it to several accounts, and a reset then sends one
    link for each.

    Each sign-up compares the name with every existing username, one query and a few
    microseconds a user.
    """

    class Meta(UserCreationForm.Meta):
        fields = ("username", "email")
        help_texts = {"email": _("Optional. Only used to send you a link if you forget your password.")}

    error_messages = {
        **UserCreationForm.error_messages,
        "reserved": _("This username is reserved: choose another."),
        "look_alike": _("This username looks like “%(other)s”, which is taken: choose another."),
    }

    def clean_username(self):
        username = super().clean_username()  # Django's own: none that differs only in case
        if not username or self.has_error("username"):
            return username
        keys = username_keys(username)
        if any(looks_alike(keys, reserved) for reserved in RESERVED_KEYS):
            raise ValidationError(self.error_messages["reserved"], code="reserved")
        for other in self._meta.model.objects.values_list("username", flat=True).iterator():
            if looks_alike(keys, username_keys(other)):
                raise ValidationError(self.error_messages["look_alike"], code="look_alike", params={"other": other})
        return username


class ProfileForm(forms.ModelForm):
    """A user's display name, language and time zone (accounts.models.Profile), each optional.

    The time zone is typed with suggestions (an `<input list="time-zones">`, its `<datalist>`
    in templates/accounts/_time_zones.html) and checked here: an IANA name, whatever its case
    ("europe/madrid" is saved as "Europe/Madrid"); anything else is refused with the field's error.
    """

    language = forms.ChoiceField(
        label=_("Language"),
        choices=lambda: [("", _("Your browser’s language")), *language_choices()],
        required=False,
    )

    class Meta:
        model = Profile
        fields = ("display_name", "language", "time_zone")
        widgets = {
            "time_zone": forms.TextInput(attrs={"list": "time-zones", "autocomplete": "off", "spellcheck": "false"})
        }
        labels = {"display_name": _("Display name"), "time_zone": _("Time zone")}
        help_texts = {"time_zone": _("Type to search, e.g. America/Bogota. Empty: the site’s time zone.")}

    def clean_time_zone(self) -> str:
        value = self.cleaned_data["time_zone"]
        by_folded_name = {name.casefold(): name for name in time_zone_names()}
        return by_folded_name.get(value.casefold(), value)
