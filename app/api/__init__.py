"""HTTP: thin routers that parse, authorize, call one service function and answer."""
