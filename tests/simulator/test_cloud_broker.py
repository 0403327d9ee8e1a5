"""A simulated printer's broker standing in for the Bambu cloud broker.

Its certificate can name extra hosts (so clients verify it as the cloud broker's host) while
the LAN check against the serial keeps working, and the fake cloud hands each new token to
whoever listens (the broker's `u_<uid>` login in the integration's tests).
"""

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from cryptography import x509

from custom_components.bambu_printer.printer.cloud import (
    CloudClient,
    CloudEndpoints,
    mqtt_username,
)
from custom_components.bambu_printer.printer.errors import AuthError, TlsError
from custom_components.bambu_printer.printer.mqtt import ConnectionSettings
from simulator.ca import TestCA
from simulator.cloud_server import FakeBambuCloud, FakeCloudUser
from simulator.device import SimulatedPrinter
from simulator.testing import client_settings, connected_client, start_printer


def test_certificate_with_dns_and_ip_names(tmp_path: Path) -> None:
    """IP addresses and DNS names both land in the subjectAltName."""
    pair = TestCA(tmp_path).issue(
        "SERIAL1", dns_names=("SERIAL1", "broker.example"), ip_addresses=("127.0.0.1",)
    )
    cert = x509.load_pem_x509_certificate(pair.cert_path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.DNSName) == ["SERIAL1", "broker.example"]
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == ["127.0.0.1"]


@pytest.fixture
async def cloud_style_printer(leak_check: None) -> AsyncIterator[SimulatedPrinter]:
    """A P1S whose certificate also names 127.0.0.1 and broker.example."""
    async with start_printer("P1S", server_names=("127.0.0.1", "broker.example")) as printer:
        yield printer


@pytest.mark.parametrize("name", ["127.0.0.1", "broker.example", "serial"])
async def test_broker_verifies_under_its_extra_names_and_the_serial(
    cloud_style_printer: SimulatedPrinter, name: str
) -> None:
    """Clients verify the broker under any name it was given, and still under the serial."""
    hostname = cloud_style_printer.serial if name == "serial" else name
    settings = client_settings(cloud_style_printer, server_hostname=hostname)
    async with connected_client(cloud_style_printer, settings=settings, start=False) as client:
        assert client.available


async def test_broker_refuses_other_names(cloud_style_printer: SimulatedPrinter) -> None:
    """A name the certificate does not carry fails the check."""
    settings = client_settings(cloud_style_printer, server_hostname="other.example")
    with pytest.raises(TlsError):
        async with connected_client(cloud_style_printer, settings=settings, start=False):
            pass


async def test_cloud_login_follows_the_newest_token(leak_check: None) -> None:
    """A token listener gives the broker each token a sign-in issues; older ones stop working."""
    async with (
        FakeBambuCloud() as cloud,
        start_printer("P1S", server_names=("127.0.0.1",)) as printer,
        aiohttp.ClientSession() as session,
    ):
        user = cloud.add_user("maker@example.com", "password")
        issued: list[str] = []

        async def accept(signed_in: FakeCloudUser, token: str) -> None:
            issued.append(token)
            await printer.broker.set_password(mqtt_username(signed_in.uid), token)

        remove = cloud.add_token_listener(accept)
        client = CloudClient(
            session, endpoints=CloudEndpoints.for_region(api_base=cloud.url, tfa_base=cloud.url)
        )
        first = await client.async_login("maker@example.com", "password")
        second = await client.async_login("maker@example.com", "password")
        assert [getattr(token, "access_token", None) for token in (first, second)] == issued

        def cloud_settings(token: str) -> ConnectionSettings:
            return client_settings(
                printer,
                username=mqtt_username(user.uid),
                password=token,
                server_hostname="127.0.0.1",
            )

        async with connected_client(printer, settings=cloud_settings(issued[1]), start=False):
            pass
        with pytest.raises(AuthError):
            async with connected_client(printer, settings=cloud_settings(issued[0]), start=False):
                pass

        remove()
        await client.async_login("maker@example.com", "password")
        assert len(issued) == 2
