"""Proteção contra SSRF dos destinos de notificação (docs/SECURITY.md, "SSRF").

Um destino é uma URL que a equipe cadastra e que o servidor chama: sem proteção, ela
poderia apontar para a rede interna (metadados da nuvem em 169.254.169.254, o MongoDB,
o Redis, o admin de outro serviço). Fora do ``DEBUG`` só endereços globais são aceitos,
a menos que ``NOTIFY_ALLOW_PRIVATE=true``.

A checagem acontece duas vezes:

* no cadastro (``url_check``): esquema http/https, IP literal ou todos os endereços que o
  nome resolve — um só proibido recusa;
* a cada envio (``GuardedBackend``): o DNS pode mudar depois do cadastro (DNS rebinding).
  O backend de rede do httpcore resolve o nome, confere todos os endereços e conecta num
  endereço conferido — nunca resolve de novo depois de conferir. O TLS continua
  validando o certificado pelo nome (o SNI e a verificação usam o host da URL, não o IP).

Por que o httpcore: o httpx não expõe o backend de rede; o httpcore (a camada de baixo do
httpx, da mesma equipe) o expõe publicamente (``network_backend``), e trocar só o
``connect_tcp`` é o ponto exato onde o endereço é escolhido. Bibliotecas prontas de
"requests seguros" (advocate) são do ``requests`` e estão sem manutenção desde 2020.
Sem proxy: um proxy do ambiente (``HTTP_PROXY``) conectaria em outro lugar.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore
from django.conf import settings
from django.utils.translation import gettext as _

ALLOWED_SCHEMES = ("http", "https")
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# NAT64 (RFC 6052): o IPv4 de destino vai nos 32 bits finais.
NAT64_PREFIX = ipaddress.IPv6Network("64:ff9b::/96")


class BlockedDestination(Exception):
    """Destino recusado (esquema, endereço não global ou nome que não resolve); a mensagem diz por quê."""


def private_allowed() -> bool:
    return bool(settings.DEBUG or settings.NOTIFY_ALLOW_PRIVATE)


def address_is_public(address: IpAddress) -> bool:
    """Só endereços globais de unicast.

    ``is_global`` já exclui privados, loopback, link-local, reservados, não especificado,
    CGNAT (100.64/10), documentação e ULA (fc00::/7); multicast fica de fora à parte. IPv4
    embutido em IPv6 (``::ffff:127.0.0.1``, 6to4, Teredo, NAT64) é julgado pelo IPv4 de dentro.
    """
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if embedded is None and address in NAT64_PREFIX:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return address_is_public(embedded)
    return address.is_global and not address.is_multicast


def resolve_host(host: str, port: int) -> list[IpAddress]:
    """Todos os endereços de ``host`` (IP literal ou nome), na ordem do resolvedor do sistema."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise BlockedDestination(_("O nome %(host)s não resolve.") % {"host": host}) from exc
    addresses: list[IpAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise BlockedDestination(_("O nome %(host)s não resolve.") % {"host": host})
    return addresses


def addresses_check(host: str, addresses: Iterable[IpAddress]) -> None:
    if private_allowed():
        return
    for address in addresses:
        if not address_is_public(address):
            raise BlockedDestination(
                _("%(host)s aponta para um endereço não público (%(address)s); recusado.")
                % {"host": host, "address": address}
            )


def url_parts(url: str) -> tuple[str, str, int]:
    """Esquema, host e porta de uma URL http(s); ``BlockedDestination`` se não for uma."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise BlockedDestination(_("URL inválida.")) from exc
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise BlockedDestination(_("Só URLs http ou https."))
    host = parts.hostname
    if not host:
        raise BlockedDestination(_("A URL não tem host."))
    if parts.username is not None or parts.password is not None:
        raise BlockedDestination(_("A URL não pode levar usuário e senha."))
    return scheme, host, port or (443 if scheme == "https" else 80)


def url_check(url: str) -> None:
    """Recusa (``BlockedDestination``) URLs fora de http/https ou que levem a endereços não públicos."""
    _scheme, host, port = url_parts(url)
    addresses_check(host, resolve_host(host, port))


class GuardedBackend(httpcore.NetworkBackend):
    """Backend de rede do httpcore que só conecta em endereços conferidos (``addresses_check``)."""

    def __init__(self) -> None:
        self._inner = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        addresses = resolve_host(host, port)
        addresses_check(host, addresses)
        last_error: Exception | None = None
        for address in addresses:
            try:
                return self._inner.connect_tcp(
                    str(address),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as exc:
                last_error = exc
        raise last_error or httpcore.ConnectError(f"sem endereço para {host}")

    def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.NetworkStream:
        raise BlockedDestination(_("Sockets Unix não são destinos."))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)
