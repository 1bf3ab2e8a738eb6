"""Platform fakes: real HTTP servers on 127.0.0.1 that enforce the platforms' published rules
and verify signatures with the providers' own SDK code."""
