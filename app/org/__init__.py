"""Counties, townships, schools, grades, classes, staff, API keys and sign-in."""
