"""The outbound guard judges an IPv6 address that carries an IPv4 address as that IPv4: every
embedding of a loopback, private, link-local or otherwise non-public IPv4 is refused, and a
public one stays allowed (app/delivery/channels/outbound.py).

The oracle is independent of the guard: the IPv4 networks are the IANA special-purpose
registry's, written out here, and each embedding is built bit by bit from its RFC."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.core.channel_settings import OutboundPolicy
from app.delivery.channels import outbound

NON_PUBLIC = [
    ipaddress.IPv4Network(n)
    for n in (
        "0.0.0.0/8",
        "10.0.0.0/8",
        "100.64.0.0/10",
        "127.0.0.0/8",
        "169.254.0.0/16",
        "172.16.0.0/12",
        "192.0.2.0/24",
        "192.168.0.0/16",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/4",
        "240.0.0.0/4",
    )
]
# Left out of both sides: the registry's exceptions inside 192.0.0.0/24 (192.0.0.9 and .10
# are globally reachable anycast) and the deprecated 6to4 relay anycast 192.88.99.0/24.
UNDECIDED = [ipaddress.IPv4Network("192.0.0.0/24"), ipaddress.IPv4Network("192.88.99.0/24")]
# What the issue names; the rest of the registry above is refused the same way.
PRIVATE = NON_PUBLIC[:6]

POLICY = OutboundPolicy()
ALL32 = 0xFFFFFFFF


def _in(net: ipaddress.IPv4Network) -> st.SearchStrategy[int]:
    return st.integers(int(net.network_address), int(net.broadcast_address))


non_public_v4 = st.sampled_from(NON_PUBLIC).flatmap(_in)
private_v4 = st.sampled_from(PRIVATE).flatmap(_in)
public_v4 = st.integers(0, ALL32).filter(
    lambda v: not any(ipaddress.IPv4Address(v) in n for n in NON_PUBLIC + UNDECIDED)
)
bits = st.integers


def mapped(v4: int, _: int) -> int:  # ::ffff:a.b.c.d
    return 0xFFFF << 32 | v4


def translated(v4: int, _: int) -> int:  # ::ffff:0:a.b.c.d (SIIT)
    return 0xFFFF << 48 | v4


def compatible(v4: int, _: int) -> int:  # ::a.b.c.d
    return v4


def six_to_four(v4: int, rest: int) -> int:  # 2002:V4V4:V4V4:subnet:interface
    return 0x2002 << 112 | v4 << 80 | rest & (2**80 - 1)


def nat64(v4: int, _: int) -> int:  # 64:ff9b::a.b.c.d
    return 0x64FF9B << 96 | v4


def teredo(server: int, client: int, rest: int) -> int:
    """2001:0:server:flags:~port:~client (RFC 4380: port and client obfuscated)."""
    flags_port = rest & ALL32
    return 0x20010000 << 96 | server << 64 | flags_port << 32 | (~client & ALL32)


def rfc6052(prefix: int, length: int, v4: int) -> int:
    """An IPv4-embedded IPv6 address (RFC 6052 §2.2): bits 64-71 stay zero."""
    v4_bits = f"{v4:032b}"
    head = f"{prefix >> (128 - length):0{length}b}"
    if length == 96:
        return int(head + v4_bits, 2)
    before = 64 - length
    layout = head + v4_bits[:before] + "00000000" + v4_bits[before:]
    return int(layout.ljust(128, "0"), 2)


EMBEDDINGS: list[Callable[[int, int], int]] = [
    mapped,
    translated,
    compatible,
    six_to_four,
    nat64,
]


def allowed(value: int) -> bool:
    return outbound.address_allowed(POLICY, ipaddress.IPv6Address(value))


@given(v4=non_public_v4, rest=bits(0, 2**80 - 1), way=st.sampled_from(EMBEDDINGS))
def test_every_embedding_of_a_non_public_ipv4_is_refused(
    v4: int, rest: int, way: Callable[[int, int], int]
) -> None:
    assert not outbound.address_allowed(POLICY, ipaddress.IPv4Address(v4))
    assert not allowed(way(v4, rest)), ipaddress.IPv6Address(way(v4, rest))


@given(v4=public_v4, rest=bits(0, 2**80 - 1), way=st.sampled_from(EMBEDDINGS))
def test_every_embedding_of_a_public_ipv4_is_allowed(
    v4: int, rest: int, way: Callable[[int, int], int]
) -> None:
    assert outbound.address_allowed(POLICY, ipaddress.IPv4Address(v4))
    assert allowed(way(v4, rest)), ipaddress.IPv6Address(way(v4, rest))


@given(bad=private_v4, good=public_v4, rest=bits(0, ALL32), bad_is_server=st.booleans())
def test_teredo_is_refused_when_its_server_or_its_client_is_private(
    bad: int, good: int, rest: int, bad_is_server: bool
) -> None:
    server, client = (bad, good) if bad_is_server else (good, bad)
    address = ipaddress.IPv6Address(teredo(server, client, rest))
    assert address.teredo == (ipaddress.IPv4Address(server), ipaddress.IPv4Address(client))
    assert not outbound.address_allowed(POLICY, address)
    assert outbound.address_allowed(POLICY, ipaddress.IPv6Address(teredo(good, good, rest)))


@given(
    v4=st.one_of(private_v4, public_v4),
    length=st.sampled_from([48, 56, 64, 96]),
    fill=bits(0, 2**48 - 1),
)
def test_the_local_use_nat64_prefix_is_refused_in_every_layout(
    v4: int, length: int, fill: int
) -> None:
    # 64:ff9b:1::/48, then whatever the site chose for the rest of its prefix.
    prefix = 0x64FF9B0001 << 80 | (fill << 32) & (2**80 - 1) & ~(2 ** (128 - length) - 1)
    assert not allowed(rfc6052(prefix, length, v4))


def test_the_allowed_networks_reach_through_the_embedding() -> None:
    tests_policy = OutboundPolicy(allow_networks=["127.0.0.1/32"])  # type: ignore[list-item]
    loop = int(ipaddress.IPv4Address("127.0.0.1"))
    for way in EMBEDDINGS:
        address = ipaddress.IPv6Address(way(loop, 0))
        assert outbound.address_allowed(tests_policy, address) and not outbound.address_allowed(
            POLICY, address
        )
    assert not outbound.address_allowed(POLICY, ipaddress.IPv6Address("::1"))
    assert not outbound.address_allowed(POLICY, ipaddress.IPv6Address("::"))


@pytest.mark.parametrize(
    "url",
    [
        "http://[2002:7f00:1::]/",  # the repro: 6to4 around 127.0.0.1
        "http://[2002:a9fe:a9fe::1]/latest/meta-data",  # 169.254.169.254
        "http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/",  # Teredo client 127.0.0.1
        "http://[64:ff9b::7f00:1]/",
        "http://[64:ff9b::a00:1]/",
        "http://[64:ff9b:1::7f00:1]/",
        "http://[::127.0.0.1]/",
        "http://[::ffff:0:7f00:1]/",
    ],
)
async def test_the_repro_urls_are_refused_when_configured(url: str) -> None:
    problem = await outbound.url_problem(POLICY, url)
    assert problem is not None and "不允许的地址" in problem
