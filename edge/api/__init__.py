"""The REST API and the kiosk UI server: a FastAPI app built by `app.create_app`, run by `server.serve`.

A drop-in for the seed's cloud API (`POST /face/effect/skin_analyze`), plus the kiosk page's own
endpoints. Analysis runs in a bounded pool of worker threads, each owning its own Engine.
"""
