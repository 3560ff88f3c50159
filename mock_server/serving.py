"""What both servers (server.py: waitress, granian_server.py: granian) share: the app's core, the
URL they answer on, and hosted-page URLs that point at it."""
from __future__ import annotations


class Serving:
    app: object
    host: str
    port: int

    @property
    def core(self):
        return self.app.extensions["paymock"]

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"http://{host}:{self.port}"

    def _keep_a_thread_for_control(self) -> None:
        # Injected latency and hangs may hold all threads but one: `DELETE /_mock/faults` still
        # gets through when every other worker sleeps in a fault.
        self.core.limit_injected_waits(self.threads)

    def _point_hosted_pages_here(self) -> None:
        # Hosted-page URLs (checkout_url, checkoutUrl) point at this server unless the settings
        # name a public URL; with port 0 only the bound socket knows the port.
        settings = self.app.extensions.get("paymock.settings")
        if settings is not None and not settings.public_url:
            self.core.public_url = self.url
