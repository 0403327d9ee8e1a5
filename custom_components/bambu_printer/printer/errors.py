"""Typed errors, so callers can tell users what went wrong without parsing messages.

Messages never include secrets (access codes, tokens, passwords).
"""


class BambuError(Exception):
    """Base class of every error the library raises."""


class ConnectError(BambuError):
    """The printer or service cannot be reached (refused, unreachable, DNS)."""


class ConnectTimeout(ConnectError):
    """The printer or service did not answer in time."""


class SubscriptionRefused(ConnectError):
    """The broker took the login but refused the report subscription: not a credentials error."""


class AuthError(BambuError):
    """The access code, token or password was refused."""


class TlsError(BambuError):
    """The TLS handshake failed: untrusted certificate, wrong name, or protocol error."""


class ProtocolError(ConnectError):
    """The peer broke the MQTT protocol (malformed or oversized packet); the link is dropped."""


class CommandError(BambuError):
    """A command did not take effect."""


class CommandRejected(CommandError):
    """The printer answered the command with a failure."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"printer rejected the command: {reason}")
        self.reason = reason


class CommandTimeout(CommandError):
    """The printer did not answer the command in time."""


class NotConnected(CommandError):
    """There is no live connection to send the command over."""
