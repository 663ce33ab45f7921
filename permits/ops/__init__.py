"""Running permits in production: several worker processes on PostgreSQL, the signed lists
as static files, security headers, readiness, online backup and restore.

    headers.py    security headers on every response (CSP, nosniff, referrer, frames, HSTS)
    health.py     /readyz: 200 when the database answers, 503 with a clear message otherwise
    static.py     /lists/*: the signed trust and revocation lists as static files
    publisher.py  writes the signed lists to the static folder whenever they change
    serve.py      `permits serve --production`: migrations, lists, N uvicorn workers
    asgi.py       the production ASGI entry point (pool sized for the worker count)
    backup.py     `permits backup` / `permits restore` for SQLite and PostgreSQL
    logs.py       holders' bearer links redacted from access logs
    priority.py   checkpoint checks before issuing on a busy worker (nice, admission)
    install.py    wires headers, /readyz, /lists/ and log redaction into `create_app`
"""
