"""What every feature shares: access checks over an actor's scope, records looked up and
changed the same way, the school year and the configured timezone, document numbers.

Small on purpose: a helper lives here only when more than one feature needs it; anything
one feature owns stays in that feature's service.
"""
