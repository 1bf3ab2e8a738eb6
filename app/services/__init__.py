"""Use cases: each takes a unit of work and the acting user, checks access, changes state
through repositories and commits once."""
