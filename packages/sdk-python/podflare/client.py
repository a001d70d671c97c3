"""``Client``: one configured endpoint (host, key, timeout, region, traceparent) and one pool of
keep-alive connections, shared by every Sandbox made with ``client=``, as the hosted SDK's
``Client`` is. Without one, each Sandbox has a transport of its own."""

from __future__ import annotations

from typing import Any

from .connection import Transport


class Client:
    """Connection settings and connections shared by many sandboxes. Its arguments are
    Sandbox's (same defaults and environment variables); a Sandbox made with ``client=``
    takes them all from it, so pass none of them to the Sandbox too. Closing a sandbox
    leaves the client's connections open; ``close()`` (or ``with``) closes them.

    Example::

        from podflare import Client, Sandbox

        client = Client(host="http://127.0.0.1:7070", api_key="pk_...")
        a = Sandbox(client=client)
        b = Sandbox(client=client)
        print(a.run_code("print(1)").stdout, b.run_code("print(2)").stdout)
    """

    def __init__(self, host: str | None = None, api_key: str | None = None, *,
                 timeout_s: float | None = None, region: str | None = None,
                 traceparent: str | None = None):
        self._transport = Transport(host, api_key, timeout_s, region, traceparent, shared=True)

    @property
    def host(self) -> str:
        """Base URL of the API."""
        return self._transport.host

    @property
    def region(self) -> str | None:
        return self._transport.region

    def close(self) -> None:
        """Closes the idle connections (a later call opens new ones)."""
        self._transport.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<Client {self.host}>"


def transport_for(client: Client | None, host: str | None, api_key: str | None,
                  timeout_s: float | None, region: str | None, traceparent: str | None = None) -> Transport:
    """The transport a Sandbox call uses: the client's, or one made from the arguments. With a
    client, connection arguments that differ from its own are a TypeError, never ignored."""
    if client is None:
        return Transport(host, api_key, timeout_s, region, traceparent)
    if not isinstance(client, Client):
        raise TypeError(f"client must be a podflare.Client, got {type(client).__name__}")
    t = client._transport
    given = [name for name, value, own in (
        ("host", host, None), ("api_key", api_key, None), ("timeout_s", timeout_s, None),
        ("region", region, t.region), ("traceparent", traceparent, t.traceparent),
    ) if value is not None and value != own]
    if given:
        raise TypeError(f"a Sandbox made with client= takes its connection settings from the Client:"
                        f" pass {', '.join(given)} to Client(...) instead")
    return t
