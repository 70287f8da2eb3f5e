"""What every response and every cookie carries so a browser protects the
console's pages, and the session key kept on disk.

- A Content-Security-Policy with no 'unsafe-inline' anywhere: the pages have
  no inline script, no event-handler attribute, no ``javascript:`` link and
  no style attribute (board.js sets styles through the CSSOM, which the
  policy allows). Script and data only from this origin; ``connect-src
  'self'`` covers the Socket.IO WebSocket too (CSP Level 3 matches ws:/wss:
  of the same host, as Chromium does; tests/test_csp_browser.py shows the
  board going live under the policy).
- No framing (frame-ancestors and X-Frame-Options for older browsers), no
  MIME sniffing, the referrer only to this origin.
- Session and remember cookies HttpOnly and SameSite=Lax always, Secure and
  Strict-Transport-Security when the setting HTTPS is on.
- The same headers on Socket.IO's own answers (``/socket.io/``), which
  engineio's WSGI middleware makes without Flask: ``HeadersMiddleware``.
- Behind a reverse proxy (TRUSTED_PROXIES) werkzeug's ProxyFix believes that
  many X-Forwarded-* hops, so request.remote_addr is the client's address
  (the login limit counts it) and the scheme is https.
"""

import os
import secrets
import tempfile
from pathlib import Path

from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",  # images and fonts: default-src 'self' (no page uses a data: URL)
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}

HSTS = "max-age=31536000"  # one year; no includeSubDomains: other hosts of the bank's domain are not ours to decide


def init_app(app):
    """Cookie flags, the response headers, and the proxy hops to believe.

    Call after the Socket.IO extension is attached, so ProxyFix wraps its
    middleware too and socket connections see the client's address.
    """
    https = bool(app.config["HTTPS"])
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=https,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=https,
    )
    # Socket.IO's answers (/socket.io/ polling, handshakes, refusals) come from
    # engineio's middleware and never pass through after_request: add the
    # headers there at the WSGI level.
    app.wsgi_app = HeadersMiddleware(app.wsgi_app, https)
    hops = int(app.config["TRUSTED_PROXIES"])
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops, x_prefix=hops)

    @app.after_request
    def add_security_headers(response):
        for name, value in HEADERS.items():
            response.headers.setdefault(name, value)
        if https:
            response.headers.setdefault("Strict-Transport-Security", HSTS)
        return response


class HeadersMiddleware:
    """Adds HEADERS (and HSTS with HTTPS) to every response that lacks them,
    whoever made it: Flask's pages already carry them; engineio's do not."""

    def __init__(self, wsgi_app, https):
        self.wsgi_app = wsgi_app
        self.extra = list(HEADERS.items()) + ([("Strict-Transport-Security", HSTS)] if https else [])

    def __call__(self, environ, start_response):
        def start(status, headers, exc_info=None):
            present = {name.lower() for name, _value in headers}
            headers = list(headers) + [(name, value) for name, value in self.extra if name.lower() not in present]
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        return self.wsgi_app(environ, start)


def secret_key(instance_path):
    """The session key in ``instance_path/secret_key``, made on first use.

    Made atomically: the key is written in full to a private temporary file
    (mode 0600) which is then hard-linked into place; a link fails if the
    name exists, so when two processes start together one key wins and both
    read it. The instance folder is in .gitignore: the key never reaches git.
    """
    folder = Path(instance_path)
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "secret_key"
    if not path.exists():
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".secret_key.")  # mkstemp makes it 0600
        try:
            with os.fdopen(descriptor, "w") as f:
                f.write(secrets.token_hex(32))
            try:
                os.link(temporary, path)
            except FileExistsError:
                pass  # another process made it first: use theirs
        finally:
            os.unlink(temporary)
    key = path.read_text().strip()
    if not key:
        raise RuntimeError(f"{path} is empty: delete it and start again to make a new session key")
    return key
