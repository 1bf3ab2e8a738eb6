"""HTTP plumbing every feature's routers use: who is calling, errors as problem documents,
request guards, the contract (operation ids, tags), OpenAPI, uploads; and /healthz."""
