"""Listas de redes (CIDR) lidas do ambiente e o teste "este endereço está numa delas?".

Usado por ``/metrics`` (``METRICS_ALLOWED_NETWORKS``). Uma lista explícita, e não
``ipaddress.is_private``: para o Python, "privado" inclui faixas de documentação
(192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24), link-local e outras que não são a rede
interna de ninguém. Só entra o que a implantação nomeia.

Módulo puro (só biblioteca padrão): as configurações o importam para validar o ambiente.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from functools import lru_cache

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

# Loopback, RFC 1918 e RFC 4193 (endereços locais únicos do IPv6).
DEFAULT_INTERNAL_NETWORKS = (
    "127.0.0.0/8",
    "::1/128",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "fc00::/7",
)


def networks_parse(specs: Iterable[str]) -> tuple[Network, ...]:
    """CIDRs (ou endereços soltos, que viram /32 ou /128); ``ValueError`` nomeia o inválido.

    Bits de host ligados (``10.0.0.1/8``) são recusados: quase sempre é um erro de digitação
    que ampliaria ou mudaria a rede sem ninguém perceber.
    """
    parsed: list[Network] = []
    for spec in specs:
        text = spec.strip()
        if not text:
            continue
        try:
            parsed.append(ipaddress.ip_network(text, strict=True))
        except ValueError as exc:
            raise ValueError(f"rede inválida {text!r}: {exc}") from None
    return tuple(parsed)


@lru_cache(maxsize=16)
def _cached_networks(specs: tuple[str, ...]) -> tuple[Network, ...]:
    return networks_parse(specs)


def address_in_networks(address: str, specs: Iterable[str]) -> bool:
    """``address`` (como em ``REMOTE_ADDR``) pertence a alguma das redes?

    IPv6 com IPv4 embutido (``::ffff:10.0.0.1``, comum em sockets de pilha dupla) é
    comparado como o IPv4 que carrega. Endereço ilegível (socket Unix, vazio) → ``False``.
    """
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(ip.version == network.version and ip in network for network in _cached_networks(tuple(specs)))
