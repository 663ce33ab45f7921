"""The checkpoint verifier web app (verifier/web/): served at /verify/, or built as static files."""
