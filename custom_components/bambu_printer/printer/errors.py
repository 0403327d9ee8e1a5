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


class TlsUntrusted(TlsError):
    """The certificate is not from a trusted CA (another device, or one intercepting TLS)."""


class TlsNameMismatch(TlsError):
    """The certificate is trusted but names someone else (another printer's serial)."""

    def __init__(self, message: str, *, expected: str, presented: str | None) -> None:
        super().__init__(message)
        self.expected = expected
        self.presented = presented  # the certificate's name; None when it could not be read


class TlsHandshakeFailed(TlsError):
    """No TLS session could be agreed (not TLS, no common version or cipher, cut off)."""


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


class FileTransferError(BambuError):
    """A file could not be listed or fetched from the printer's storage."""


class FileTransferTimeout(FileTransferError):
    """The printer's file server stopped answering in time."""


class RemoteFileNotFound(FileTransferError):
    """The printer has no such file or folder."""


class FileTooLarge(FileTransferError):
    """A file is larger than the caller allows; the transfer was cut off."""
