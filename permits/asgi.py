"""The ASGI entry point for uvicorn workers: `permits.asgi:app`."""

from permits.app import create_app

app = create_app()
