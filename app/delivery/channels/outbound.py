"""Where the delivery worker may connect: the outbound address rules.

* **Robots** (企业微信, 钉钉) must be on the platform's own host — ``qyapi.weixin.qq.com``,
  ``oapi.dingtalk.com`` — over https. ``extra_robot_hosts`` adds hosts (tests, private
  deployments behind a relay), over http or https.
* **Every outbound connection** (webhooks, robots, SMS providers, WeChat) goes only to global
  addresses: loopback, link-local, private (RFC 1918, ULA), shared (100.64/10), multicast,
  reserved and unspecified addresses are refused unless a network in ``allow_networks``
  holds them (tests set ``127.0.0.1/32`` for their local receivers).
* **IPv4 inside IPv6** is judged as the IPv4 it carries: IPv4-mapped (``::ffff:0:0/96``),
  IPv4-translated (``::ffff:0:0:0/96``), IPv4-compatible (``::/96`` but ``::`` and ``::1``),
  6to4 (``2002::/16``), Teredo (``2001::/32``: its server and its client, both must be
  allowed) and NAT64's well-known prefix (``64:ff9b::/96``). ``http://[2002:7f00:1::]/`` is
  127.0.0.1 and refused; ``64:ff9b::808:808`` is 8.8.8.8 and allowed. The local-use NAT64
  prefix ``64:ff9b:1::/48`` (RFC 8215) is refused whole: it names a translator inside the
  site, and where it embeds the IPv4 depends on a prefix length only that site knows.
* The check is made twice: when a URL is configured (the API answers 422 naming the field)
  and **at send time, on the address actually connected to** — the guarded transport
  resolves the name itself, refuses the connection if any answer is not allowed, and connects
  to the address it checked, so a name that later resolves elsewhere (DNS rebinding) gets
  nowhere. A name that does not resolve when configured is accepted (DNS may not be set up
  yet); the send-time check still holds.
* Redirects are never followed, and proxies from the environment are not used (the address
  connected to would be the proxy's).

Hand-written on the standard library's ``ipaddress`` classification: the SSRF-guard packages
on PyPI are young single-maintainer projects, and the rule needs ~100 lines.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable, Iterable
from typing import Any
from urllib.parse import urlsplit

import httpcore
import httpx

from app.core.channel_settings import OutboundPolicy
from app.delivery.channels.base import AddressRefused, Channel, Message, SendResult, Target

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]
ROBOT_HOSTS: dict[str, tuple[str, ...]] = {
    "wecom_robot": ("qyapi.weixin.qq.com",),
    "dingtalk_robot": ("oapi.dingtalk.com",),
}
RESOLVE_TIMEOUT = 3.0
_IPV4_TRANSLATED = ipaddress.IPv6Network("::ffff:0:0:0/96")
_IPV4_COMPATIBLE = ipaddress.IPv6Network("::/96")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.IPv6Network("64:ff9b:1::/48")


def embedded_ipv4(ip: ipaddress.IPv6Address) -> tuple[ipaddress.IPv4Address, ...]:
    """The IPv4 addresses an IPv6 address carries (see the module docstring); empty if none."""
    if ip.ipv4_mapped is not None:
        return (ip.ipv4_mapped,)
    if ip.sixtofour is not None:
        return (ip.sixtofour,)
    if ip.teredo is not None:
        return ip.teredo
    low = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if ip in _NAT64 or ip in _IPV4_TRANSLATED:
        return (low,)
    if ip in _IPV4_COMPATIBLE and int(ip) > 1:  # :: and ::1 are themselves
        return (low,)
    return ()


def address_allowed(policy: OutboundPolicy, ip: IPAddress) -> bool:
    if any(ip.version == net.version and ip in net for net in policy.allow_networks):
        return True
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _NAT64_LOCAL:
            return False
        inner = embedded_ipv4(ip)
        if inner:
            return all(address_allowed(policy, v4) for v4 in inner)
    return (
        ip.is_global
        and not ip.is_multicast
        and not ip.is_reserved
        and not ip.is_unspecified
        and not ip.is_link_local
    )


def robot_url_problem(policy: OutboundPolicy, channel: str, url: str) -> str | None:
    """Why a robot URL is refused, or None. Pure: no DNS."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return "不是有效的地址 (not a valid URL)"
    host = (parts.hostname or "").lower()
    platform = ROBOT_HOSTS.get(channel, ())
    if host in platform:
        if parts.scheme != "https":
            return f"须使用 https (the platform's robot URL is https://{host}/…)"
        if port not in (None, 443):
            return f"端口须为 443 (port {port} is not the platform's)"
        return None
    if host in {h.lower() for h in policy.extra_robot_hosts}:
        return None
    allowed = ", ".join(platform) or "none"
    return f"机器人地址须在平台域名下 (the robot URL must be on {allowed}, not {host!r})"


async def resolve(host: str, port: int) -> list[IPAddress]:
    """The addresses ``host`` resolves to (an IP literal is itself); empty when it does not."""
    literal = ip_literal(host)
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    try:
        infos = await asyncio.wait_for(
            loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT
        )
    except (OSError, TimeoutError, UnicodeError):
        return []
    found: list[IPAddress] = []
    for info in infos:
        address = ip_literal(str(info[4][0]))
        if address is not None and address not in found:
            found.append(address)
    return found


def ip_literal(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]").split("%", 1)[0])
    except ValueError:
        return None


def refused(policy: OutboundPolicy, addresses: Iterable[IPAddress]) -> IPAddress | None:
    return next((ip for ip in addresses if not address_allowed(policy, ip)), None)


async def url_problem(policy: OutboundPolicy, url: str, resolver: Resolver = resolve) -> str | None:
    """Why an outbound URL is refused when configured, or None (see the module docstring)."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return "不是有效的地址 (not a valid URL)"
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "须为 http(s) 地址 (not an http or https URL)"
    if parts.username or parts.password:
        return "地址中不能包含用户名或密码 (no credentials in the URL)"
    bad = refused(policy, await resolver(parts.hostname, port))
    if bad is not None:
        return (
            f"不允许的地址 {bad} (loopback, link-local, private and other non-public "
            "addresses are refused)"
        )
    return None


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolves, checks, and connects to the checked address (TLS still verifies the name)."""

    def __init__(self, policy: OutboundPolicy, resolver: Resolver) -> None:
        self._policy = policy
        self._resolver = resolver
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await self._resolver(host, port)
        if not addresses:
            raise httpcore.ConnectError(f"cannot resolve {host!r}")
        bad = refused(self._policy, addresses)
        if bad is not None:
            raise AddressRefused(f"{host} → {bad} is not a public address")
        return await self._inner.connect_tcp(
            str(addresses[0]), port, timeout, local_address, socket_options
        )

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,  # noqa: ASYNC109 (httpcore's interface)
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise AddressRefused("unix sockets are not an outbound address")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


def guarded_transport(
    policy: OutboundPolicy, resolver: Resolver = resolve
) -> httpx.AsyncHTTPTransport:
    transport = httpx.AsyncHTTPTransport(trust_env=False)
    # httpx has no public hook for the network backend; the pool is rebuilt with ours.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=httpx.create_ssl_context(trust_env=False),
        max_connections=100,
        max_keepalive_connections=20,
        keepalive_expiry=5.0,
        network_backend=_GuardedBackend(policy, resolver),
    )
    return transport


def http_client(
    policy: OutboundPolicy, timeout: httpx.Timeout, resolver: Resolver = resolve
) -> httpx.AsyncClient:
    """The delivery worker's client: guarded transport, no redirects, no environment proxies."""
    return httpx.AsyncClient(
        transport=guarded_transport(policy, resolver),
        timeout=timeout,
        follow_redirects=False,
        trust_env=False,
    )


class RobotHostGuard:
    """A robot adapter that refuses, at send time, a stored URL off the platform's host
    (rows configured before the rule, or edited by hand)."""

    def __init__(self, inner: Channel, channel: str, policy: OutboundPolicy) -> None:
        self.name = inner.name
        self._inner = inner
        self._channel = channel
        self._policy = policy

    async def send(self, message: Message, target: Target) -> SendResult:
        if target.url:
            problem = robot_url_problem(self._policy, self._channel, target.url)
            if problem is not None:
                return SendResult.permanent(problem, code="address_refused")
        return await self._inner.send(message, target)
