"""The `ovh` client the gateway and the account queries share: one per thread, and the SMS service."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import ovh
import requests.utils
from ovh import exceptions as ovh_errors
from ovh.client import ENDPOINTS

from bot.domain.errors import ConfigurationError
from bot.domain.records import SIMULATED_SERVICE
from bot.i18n import T_
from bot.ovh.errors import translate_error
from bot.settings import Settings


def client_factory(settings: Settings) -> Callable[[], ovh.Client]:
    """Build ``ovh.Client`` objects from the settings (each thread gets its own, see :class:`OvhClient`).

    With OVH_ENDPOINT=simulator, every thread gets the same :class:`~bot.ovh.simulator.SimulatedOvh`.
    """
    if settings.ovh_simulated:
        from bot.ovh.simulator import SimulatedOvh

        simulator = SimulatedOvh()
        return lambda: simulator  # type: ignore[return-value] - it answers as an ovh.Client does
    timeout = (settings.ovh_connect_timeout, settings.ovh_read_timeout)

    def make() -> ovh.Client:
        region = settings.ovh_endpoint if settings.ovh_endpoint in ENDPOINTS else "ovh-eu"
        client = ovh.Client(
            endpoint=region,
            application_key=settings.ovh_application_key,
            application_secret=settings.ovh_application_secret,
            consumer_key=settings.ovh_consumer_key,
            timeout=timeout,
        )
        if settings.ovh_endpoint not in ENDPOINTS:
            # The client takes region names only; a proxy or a test server is reached by its base URL.
            client._endpoint = settings.ovh_endpoint
        _environment_read_once(client)
        return client

    return make


def _environment_read_once(client: ovh.Client) -> None:
    """Read the proxy variables, NO_PROXY and the CA bundle variables once, not on every call.

    `requests` reads them (and ~/.netrc) again for each request: about 0.3 ms of CPU, a tenth of what a
    send costs in Python. Every call of a client goes to one host, so the answer is the same each time.
    """
    session = client._session
    session.proxies.update(requests.utils.get_environ_proxies(client._endpoint))
    bundle = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE")
    if bundle:
        session.verify = bundle
    session.trust_env = False


class OvhClient:
    """Calls OVH with errors translated, and knows which SMS service to use.

    The ``ovh`` client shares one `requests` session per instance, which is not meant for many threads;
    each thread gets its own client (and so its own connection pool and clock offset).
    """

    def __init__(
        self,
        make_client: Callable[[], ovh.Client],
        *,
        service: str | None = None,
        sender_id: str | None = None,
    ) -> None:
        self._make_client = make_client
        self._local = threading.local()
        self._service = service
        self._service_lock = threading.Lock()
        self.sender_id = sender_id

    @classmethod
    def from_settings(cls, settings: Settings) -> OvhClient:
        """The client the bot runs with."""
        # The simulator has one service, whatever OVH_SMS_SERVICE names: its name marks the sends simulated.
        service = SIMULATED_SERVICE if settings.ovh_simulated else settings.ovh_sms_service
        return cls(client_factory(settings), service=service, sender_id=settings.ovh_sms_sender)

    @property
    def raw(self) -> ovh.Client:
        """This thread's ``ovh.Client`` (its exceptions are untranslated: see :meth:`call`)."""
        client = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = self._make_client()
        return client

    def call(self, method: str, path: str, *, posts: bool = False, **kwargs: Any) -> Any:
        """``GET``/``POST`` ``path``; raise :class:`DeliveryError`. ``posts`` says whether the call may send
        SMS, so whether a lost answer may mean sent."""
        try:
            return getattr(self.raw, method)(path, **kwargs)
        except ovh_errors.APIError as error:
            raise translate_error(
                error, path, sender_id=self.sender_id, service=self._service, posts=posts
            ) from error

    def sync_clock(self) -> None:
        """Fetch this thread's clock offset with OVH now (the client does it once, before its first signed
        call): fetched before a send, its failure cannot pass for a lost send."""
        try:
            self.raw.time_delta  # noqa: B018 - the property fetches and keeps the offset
        except ovh_errors.APIError as error:
            raise translate_error(error, "/auth/time", posts=False) from error

    def service_name(self) -> str:
        """The SMS service to use: the configured one, or the account's only one."""
        with self._service_lock:
            if self._service is None:
                services = self.call("get", "/sms")
                if len(services) != 1:
                    found = ", ".join(services) if services else T_("none")
                    raise ConfigurationError(
                        T_(
                            "OVH_SMS_SERVICE is not set and the OVH account does not have exactly one SMS "
                            "service (found: {found}). Set OVH_SMS_SERVICE to the one to use.",
                            found=found,
                        )
                    )
                self._service = services[0]
            return self._service
