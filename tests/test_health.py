import httpx

from api.app import create_app
from shop.context import AppContext
from shop.db import create_engine, session_factory
from shop.runtime.temporal import free_port
from shop.settings import load_settings


async def test_health_is_503_with_reasons_when_database_and_temporal_are_unreachable() -> None:
    url = f"postgresql+asyncpg://nobody@127.0.0.1:{free_port()}/none"
    engine = create_engine(url)
    ctx = AppContext(load_settings(database_url=url, _env_file=None), engine, session_factory(engine), None)
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://shop") as http:
        response = await http.get("/healthz")
    await engine.dispose()
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable"
    assert body["database"].startswith("database unreachable")
    assert body["temporal"] == "temporal not connected"


async def test_health_is_green_with_real_database_and_temporal(ctx: AppContext) -> None:
    transport = httpx.ASGITransport(app=create_app(ctx))
    async with httpx.AsyncClient(transport=transport, base_url="http://shop") as http:
        response = await http.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok", "temporal": "ok"}
