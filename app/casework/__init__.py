"""Work on a case: persuasion talks, home visits, plans, return notices, care."""
