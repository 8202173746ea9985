"""Secrets in settings (issue 10, finding 6): the API token, the database password
and the queue password are ``SecretStr`` and never appear in a repr, a dump,
the start-up banner, the server's log, a health answer or an error."""

from __future__ import annotations

from pathlib import Path

import httpx
from factflow_server import ServerSettings
from sqlalchemy.engine import make_url

from .conftest import API, inline_config
from .test_server_process import server_process

TOKEN = "tok-4f1d9a-secret"
DB_PASSWORD = "db-pw-77c1e0-secret"
QUEUE_PASSWORD = "mq-pw-2b9e44-secret"
SECRETS = (TOKEN, DB_PASSWORD, QUEUE_PASSWORD)


def test_settings_never_show_their_secrets() -> None:
    settings = ServerSettings(
        api_token=TOKEN,
        database_url=f"postgresql+asyncpg://u:{DB_PASSWORD}@db.example/f",
        queue_url=f"amqp://u:{QUEUE_PASSWORD}@mq.example:5672/",
    )
    shown = [repr(settings), str(settings), settings.model_dump_json(), str(settings.model_dump())]
    for text in shown:
        for secret in SECRETS:
            assert secret not in text
    # the values themselves are there for the code that needs them
    assert settings.resolved_database_url.endswith(f":{DB_PASSWORD}@db.example/f")
    assert settings.api_token is not None and settings.api_token.get_secret_value() == TOKEN


async def test_no_answer_and_no_log_line_carries_a_secret(db_url: str, tmp_path: Path) -> None:
    url = make_url(db_url)
    if url.get_backend_name() == "postgresql":  # trust auth: any password is accepted
        url = url.set(password=DB_PASSWORD)
    env = {
        "FACTFLOW_API_TOKEN": TOKEN,
        # nothing listens on port 9: a run fails to connect, and says so without the password
        "FACTFLOW_QUEUE_URL": f"amqp://factflow:{QUEUE_PASSWORD}@127.0.0.1:9/",
    }
    log: list[str] = []
    answers: list[str] = []
    async with (
        server_process(
            url.render_as_string(hide_password=False), tmp_path / "d", log, env=env
        ) as base_url,
        httpx.AsyncClient(base_url=base_url, timeout=60) as anonymous,
        httpx.AsyncClient(
            base_url=base_url, timeout=60, headers={"Authorization": f"Bearer {TOKEN}"}
        ) as client,
    ):
        for response in (
            await anonymous.get("/healthz"),
            await anonymous.get("/readyz"),
            await anonymous.get(f"{API}/configs"),
            await anonymous.get(f"{API}/configs", headers={"Authorization": "Bearer wrong"}),
            await anonymous.get("/openapi.json"),
            await client.post(f"{API}/configs", json={"name": "bad"}),
            await client.get(f"{API}/executions/nope"),
            await client.post(f"{API}/configs", json=inline_config("t")),
            await client.post(f"{API}/configs/t/run", json={}),
        ):
            answers.append(f"{response.status_code} {response.headers} {response.text}")
        run = (await client.get(f"{API}/executions")).json()["items"]
        if run:
            waited = await client.get(f"{API}/executions/{run[0]['id']}/wait")
            answers.append(waited.text)
            answers.append((await client.get(f"{API}/executions/{run[0]['id']}/events")).text)
    text = "\n".join(answers) + "".join(log)
    for secret in SECRETS:
        assert secret not in text, secret
    assert "database: " in "".join(log)  # the banner was read
