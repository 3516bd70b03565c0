"""``trader_monitor.networks``: listas CIDR do ambiente e pertença de um endereço."""

from __future__ import annotations

import ipaddress

import pytest

from trader_monitor.networks import DEFAULT_INTERNAL_NETWORKS, address_in_networks, networks_parse


def test_defaults_are_loopback_rfc1918_and_rfc4193() -> None:
    assert set(networks_parse(DEFAULT_INTERNAL_NETWORKS)) == {
        ipaddress.ip_network("127.0.0.0/8"),
        ipaddress.ip_network("::1/128"),
        ipaddress.ip_network("10.0.0.0/8"),
        ipaddress.ip_network("172.16.0.0/12"),
        ipaddress.ip_network("192.168.0.0/16"),
        ipaddress.ip_network("fc00::/7"),
    }


def test_single_addresses_and_blank_items_are_accepted() -> None:
    assert networks_parse(["10.0.0.5", " ", "fd00::/8"]) == (
        ipaddress.ip_network("10.0.0.5/32"),
        ipaddress.ip_network("fd00::/8"),
    )


@pytest.mark.parametrize("spec", ["banana", "10.0.0.1/8", "300.1.1.1/32", "10.0.0.0/33"])
def test_invalid_networks_are_refused_naming_the_item(spec: str) -> None:
    with pytest.raises(ValueError, match="rede inválida"):
        networks_parse(["10.0.0.0/8", spec])


def test_ipv4_mapped_ipv6_is_compared_as_the_ipv4_it_carries() -> None:
    assert address_in_networks("::ffff:192.168.0.9", ["192.168.0.0/16"])
    assert not address_in_networks("::ffff:203.0.113.5", ["192.168.0.0/16"])


@pytest.mark.parametrize("address", ["", "unknown", "10.0.0.1:5555", "[::1]"])
def test_unreadable_addresses_belong_to_no_network(address: str) -> None:
    assert not address_in_networks(address, DEFAULT_INTERNAL_NETWORKS)
