"""The checkpoint verifier web app (verifier/web/), served at /verify and buildable as static files."""
