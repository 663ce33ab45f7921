"""Users, their roles, and API tokens."""
