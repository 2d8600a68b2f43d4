"""Where webhooks may point. In production settings (``DIHFLOW_WEBHOOK_TARGETS=public``, the
default outside the embedded stack) a webhook URL is https, and its host resolves only to
public addresses: not loopback, private, link-local (cloud metadata services live there),
shared, reserved or multicast ones. Checked when a webhook is registered and again before each
delivery, after resolving the name then (a name may point elsewhere later); redirects are never
followed. The embedded stack (``any``) lets a developer point a webhook at 127.0.0.1.

This module is pure: the caller resolves the name and hands in the addresses.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit


def url_problem(url: str, public_only: bool) -> str | None:
    """What is wrong with the URL itself (scheme, host given as a non-public address)."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return "must be an absolute http:// or https:// URL"
    if not public_only:
        return None
    if parts.scheme != "https":
        return "must be https (DIHFLOW_WEBHOOK_TARGETS=public)"
    host = parts.hostname
    if host == "localhost" or host.endswith(".localhost"):
        return f"{host} is this machine: not a public address"
    try:
        literal = ipaddress.ip_address(host)
    except ValueError:
        return None  # a name: checked once resolved
    return address_problem(str(literal))


def address_problem(address: str) -> str | None:
    """Why a resolved address may not receive webhooks, or None for a public one."""
    ip = ipaddress.ip_address(address)
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_global:
        return None
    kind = (
        "loopback"
        if ip.is_loopback
        else "link-local"
        if ip.is_link_local
        else "private"
        if ip.is_private
        else "not public"
    )
    return f"{address} is a {kind} address"
