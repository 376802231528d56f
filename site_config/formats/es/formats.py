"""Spanish: 24-hour times ("22:44") and dates as "viernes, 20 de noviembre de 2026" (RAE's
style: lower-case day and month names, "de" between the parts)."""

# A message's time in its bubble, and in full on hover.
MESSAGE_TIME_FORMAT = "H:i"
MESSAGE_DATETIME_FORMAT = r"l, j \d\e F \d\e Y, H:i"
# A search result's date and time, short.
MESSAGE_SHORT_DATETIME_FORMAT = "j b Y, H:i"
# A day separator's date, for days other than today and yesterday.
DAY_FORMAT = r"l, j \d\e F \d\e Y"
