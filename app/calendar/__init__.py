"""School calendars: terms, 调休 overrides, the national holiday calendar."""
