"""A real SMTP server on 127.0.0.1 (aiosmtpd) that insists on TLS (STARTTLS,
or implicit TLS for SSL) and on a log-in, with a self-signed certificate made
for the test; ``ca_file`` is what the console's SMTP_CA_FILE trusts."""

import datetime
import ipaddress
import ssl
import threading
from email import message_from_bytes, policy

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from .servers import free_port


def make_certificate(folder):
    """A self-signed certificate for 127.0.0.1; returns (cert path, key path)."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "smtp-cert.pem", folder / "smtp-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    return cert_path, key_path


class Mailbox:
    """Collects what the server accepted."""

    def __init__(self, implicit_tls):
        self.implicit_tls = implicit_tls
        self.messages = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append(
                {
                    "from": envelope.mail_from,
                    "to": list(envelope.rcpt_tos),
                    "message": message_from_bytes(envelope.original_content or envelope.content, policy=policy.default),
                    "tls": session.ssl is not None or self.implicit_tls,
                    "authenticated": session.authenticated,
                }
            )
        return "250 Message accepted for delivery"


class SmtpServer:
    def __init__(self, folder, username, password, implicit_tls=False):
        self.ca_file, key_file = make_certificate(folder)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(self.ca_file, key_file)
        self.mailbox = Mailbox(implicit_tls)
        self.port = free_port()
        self.username, self.password = username, password

        def authenticator(server, session, envelope, mechanism, auth_data):
            ok = isinstance(auth_data, LoginPassword) and auth_data.login == username.encode() and auth_data.password == password.encode()
            return AuthResult(success=ok, handled=False)

        options = dict(hostname="127.0.0.1", port=self.port, authenticator=authenticator, auth_required=True)
        if implicit_tls:
            # the whole connection is TLS, which aiosmtpd's AUTH-over-TLS check cannot see
            self.controller = Controller(self.mailbox, ssl_context=context, auth_require_tls=False, server_hostname="127.0.0.1", **options)
        else:
            self.controller = Controller(self.mailbox, tls_context=context, require_starttls=True, auth_require_tls=True, **options)
        self.controller.start()

    @property
    def messages(self):
        return self.mailbox.messages

    def close(self):
        self.controller.stop()
