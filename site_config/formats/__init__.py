"""Date and time formats per language (settings.FORMAT_MODULE_PATH), on top of Django's own.

Each language's `formats.py` names the formats the chat's templates ask for by name, e.g.
`{{ message.created_at|time:"MESSAGE_TIME_FORMAT" }}`: Django's `get_format` looks a name up in
the active language's module here (for "en-us", `en`), then in Django's. A language added to
settings.LANGUAGES needs its module here, or those templates print the format's name.
"""
