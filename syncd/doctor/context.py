"""Everything the checks of one ``syncd check`` run share: settings, limits, probes.

The probes send nothing until a check asks; what one check fetched another
reads from the same ``Shared`` value.

    ctx = DoctorContext(settings, Limits(timeout=15, max_clock_skew=30), config_path)
    ctx.erp.metadata.get(); ctx.mappings.get(); ctx.usage.webhook_paths
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from syncd.config import Settings
from syncd.doctor.probes import CrmProbe, ErpProbe
from syncd.doctor.result import Shared
from syncd.doctor.usage import Usage
from syncd.mappings.load import Mappings, load_mappings


@dataclass(frozen=True)
class Limits:
    timeout: float = 15.0  # seconds each check may take
    max_clock_skew: float = 30.0  # seconds between this host's clock and a system's


class DoctorContext:
    def __init__(self, settings: Settings, limits: Limits, config_path: Path | str) -> None:
        self.settings = settings
        self.limits = limits
        self.config_path = str(config_path)
        self.usage = Usage.of(settings)
        self.erp = ErpProbe(settings.erp, limits.timeout)
        self.crm = CrmProbe(settings.crm, limits.timeout)
        self.mappings: Shared[Mappings] = Shared(lambda: load_mappings(settings.mappings_dir))

    def command(self, *args: str) -> str:
        """A syncd command line for a fix, with this run's config file."""
        return "`syncd " + " ".join((*args, "-c", self.config_path)) + "`"
