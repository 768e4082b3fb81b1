"""The partner page: companies answer about pseudonymous profiles through signed links.

- ``tasks.mail.links``: HMAC-signed, expiring, single-purpose answer links (key from
  ``INCONTRO_PORTAL_SECRET``; outside production a per-installation ``var/portal.key``).
- ``portal.app``: the FastAPI app (``create_app``), Italian pages without JavaScript.
- ``portal.server``: run it in a background thread (``make serve``, tests) or in the foreground
  (``python -m portal --host 127.0.0.1 --port 8088``, behind a reverse proxy in production).
"""
