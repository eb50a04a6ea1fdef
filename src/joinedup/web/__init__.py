"""The web app: a JSON API under ``/api/v1`` and GOV.UK-styled pages, from one FastAPI app.

Start it with ``joinedup serve``; build it with :func:`joinedup.web.app.create_app`.
"""
