"""Personal access tokens, all in one place: `policy` (pure decisions: reuse, rotate, replace,
scopes), `store` (the OS keyring or a 0600 file), `client` (the PAT lifecycle REST API) and
`mode` (the `auth = pat` lifecycle that ties them together)."""
