"""The demo's world: a sandbox 1C and a sandbox RetailCRM on loopback, with sample data.

world = World(customers=300, items=120, orders=200, crm_timezone="Europe/Moscow")
world.start(erp_port=8791, crm_port=8790)
world.env()        # SYNCD_* variables pointing a daemon at both
world.stop()
"""

from __future__ import annotations

from syncd.web import HttpServer
from syncd_sandbox.crm_app import SandboxCrm
from syncd_sandbox.erp_app import PREFIX, SandboxErp
from syncd_sandbox.erp_syncd_exchange import NAME as SYNCD_WS

ERP_USER, ERP_PASSWORD = "Обмен", "demo-erp-password"
ROBOT_KINDS = ("order_robot", "call_chain")
CRM_KEY = "demo-crm-api-key-000000000000"


class World:
    def __init__(
        self,
        *,
        customers: int = 300,
        items: int = 120,
        orders: int = 200,
        seed: int = 1,
        erp_timezone: str = "Europe/Moscow",
        crm_timezone: str = "Europe/Moscow",
    ) -> None:
        # Each sandbox writes its dates in its own zone, as the real systems do; the
        # demo passes the config's erp.timezone and crm.timezone so that both agree.
        self.erp = SandboxErp(user=ERP_USER, password=ERP_PASSWORD, timezone=erp_timezone)
        self.erp.trade.seed(customers=customers, items=items, orders=orders, seed=seed)
        self.crm = SandboxCrm([CRM_KEY], requests_per_second=None, timezone=crm_timezone)
        # the shop's catalogue: every 1C item is an offer (externalId = its Ref_Key, as
        # mappings/items.yaml names unlisted items), so the stock syncd pushes is shown
        goods = self.erp.state.rows("Catalog_Номенклатура")
        self.crm.inventories.add_offers([g["Ref_Key"] for g in goods])
        self._servers: list[HttpServer] = []

    def start(self, erp_port: int = 0, crm_port: int = 0, *, threads: int = 8) -> None:
        """Serve both; OSError naming the port when it is taken.  ``threads``: requests
        served at once (a harness whose sandboxes hang requests on purpose needs more)."""
        for app, port, what in ((self.erp, erp_port, "1C"), (self.crm, crm_port, "CRM")):
            server = HttpServer(app, f"127.0.0.1:{port}", threads=threads)
            try:
                server.start()
            except OSError as exc:
                self.stop()
                raise OSError(f"cannot serve the sandbox {what} on port {port}: {exc}") from None
            self._servers.append(server)

    @property
    def erp_url(self) -> str:
        return f"http://127.0.0.1:{self._servers[0].port}{PREFIX}"

    @property
    def syncd_ws_url(self) -> str:
        """The WSDL of the sandbox 1C's SyncdExchange web service (contrib/1c)."""
        return f"http://127.0.0.1:{self._servers[0].port}/ws/{SYNCD_WS}.1cws?wsdl"

    @property
    def crm_url(self) -> str:
        return f"http://127.0.0.1:{self._servers[1].port}"

    def env(self) -> dict[str, str]:
        return {
            "SYNCD_ERP_ODATA_URL": self.erp_url,
            "SYNCD_ERP_USER": ERP_USER,
            "SYNCD_ERP_PASSWORD": ERP_PASSWORD,
            "SYNCD_CRM_URL": self.crm_url,
            "SYNCD_CRM_API_KEY": CRM_KEY,
        }

    def stop(self) -> None:
        for server in self._servers:
            server.stop()
        self._servers = []


def without_robot(config: dict) -> dict:
    """The demo config with people agreeing every order: no order robot, no call chain.

    For the benchmarks and the chaos run, whose shop agrees new orders itself and
    measures that path; ``syncd demo`` keeps them."""
    config["flows"] = [f for f in config["flows"] if f.get("kind") not in ROBOT_KINDS]
    for source in config["sources"]:
        (source.get("options") or {}).pop("own_created_as", None)
    return config
