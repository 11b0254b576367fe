"""Users, roles, sign-in and sessions, API tokens, e-signatures and permission policies."""
