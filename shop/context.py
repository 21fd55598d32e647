"""What a running process holds: settings, the database, the owner's settings (read through a
short cache), and (when connected) Temporal."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine
from temporalio.client import Client

from shop.db import SessionFactory, create_engine, session_factory
from shop.settings import Settings
from shop.storefront.store import Storefront


@dataclass
class AppContext:
    settings: Settings
    engine: AsyncEngine
    sessions: SessionFactory
    temporal: Client | None = field(default=None)
    storefront: Storefront = field(init=False)

    def __post_init__(self) -> None:
        self.storefront = Storefront(self.sessions, self.settings)

    @classmethod
    def open(cls, settings: Settings, temporal: Client | None = None) -> AppContext:
        engine = create_engine(settings.db_url)
        return cls(settings, engine, session_factory(engine), temporal)

    def require_temporal(self) -> Client:
        if self.temporal is None:
            raise RuntimeError("this process has no Temporal client")
        return self.temporal

    async def close(self) -> None:
        await self.engine.dispose()
