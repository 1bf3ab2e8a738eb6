"""Who read which student's data: the middleware, the log and its queries."""
