"""English: 12-hour times ("10:44 PM") and dates as "Friday, November 20, 2026"."""

# A message's time in its bubble, and in full on hover.
MESSAGE_TIME_FORMAT = "g:i A"
MESSAGE_DATETIME_FORMAT = "l, F j, Y, g:i A"
# A search result's date and time, short.
MESSAGE_SHORT_DATETIME_FORMAT = "M j, Y, g:i A"
# A day separator's date, for days other than today and yesterday.
DAY_FORMAT = "l, F j, Y"
