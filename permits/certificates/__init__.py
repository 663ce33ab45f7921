"""The certificates people carry: the printed A4 PDF, the phone image, the holder page and
batches of them (see service.py for the entry points, routes.py for HTTP, cli.py for
`permits render`)."""
