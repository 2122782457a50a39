"""Server settings: where data lives, where to listen, which account and region to present."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 4599
    data_dir: Path = Path("./sagewatch-data")
    region: str = "us-east-1"
    # AWS account ids are 12 digits; this one is what every ARN sagewatch writes carries.
    account_id: str = "000000000000"
    retention_sweep_seconds: float = 60.0
    compaction_seconds: float = 5.0

    @property
    def database_path(self) -> Path:
        return self.data_dir / "sagewatch.db"
