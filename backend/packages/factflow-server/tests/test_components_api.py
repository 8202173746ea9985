"""``/api/v1/components``: the catalogue of processors and adapters, from the server's
registry: built-ins, an installed plugin (a real distribution on the path), and a
plugin that is installed but fails to load."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import yaml
from factflow_engine import Registry

from .conftest import API, YAML, assert_problem

PLUGIN = '''
"""A plugin as a third party would write it."""
from factflow_engine import ComponentOptions
from pydantic import Field


class Shout:
    """Upper-cases the payload's text.

    Leaves every other field alone.
    """

    class Options(ComponentOptions):
        field: str = Field(default="text", description="The field to upper-case.")

    def __init__(self, options):
        self.options = options

    async def process(self, message, ctx):
        return {**message.payload, self.options.field: message.payload[self.options.field].upper()}
'''


def _install(site: Path, dist: str, module: str, source: str, entry_points: str) -> None:
    """A distribution as pip would leave it: the module and a dist-info with entry points."""
    (site / f"{module}.py").write_text(source)
    info = site / f"{dist.replace('-', '_')}-1.2.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: 1.2.0\n")
    (info / "entry_points.txt").write_text(entry_points)


@pytest.fixture
def registry(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Registry:
    site = tmp_path / "site"
    site.mkdir()
    _install(
        site,
        "shout-plugin",
        "shout_plugin",
        PLUGIN,
        "[factflow.processors]\nshout = shout_plugin:Shout\n",
    )
    _install(
        site,
        "broken-plugin",
        "broken_plugin",
        "raise ImportError('needs libfoo')\n",
        "[factflow.adapters]\nbroken = broken_plugin:Source\n",
    )
    monkeypatch.syspath_prepend(str(site))
    return Registry.from_entry_points()


async def test_the_catalogue_lists_builtins_plugins_and_broken_plugins(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(f"{API}/components")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["import_paths_allowed"] is False
    items = {(c["kind"], c["name"]): c for c in body["items"]}
    assert [(c["kind"], c["name"]) for c in body["items"]] == sorted(items)  # kind, then name
    for builtin in ("read_text", "split_sentences", "chunk", "extract_facts", "storage_write"):
        assert ("processor", builtin) in items
    for builtin in ("inline", "files", "jsonl"):
        assert ("adapter", builtin) in items

    read_text = items[("processor", "read_text")]
    assert read_text["summary"].startswith("Reads the file at")
    assert read_text["origin"].startswith("factflow-engine ")
    assert read_text["origin"].endswith("(factflow_engine.builtins.text:ReadText)")
    assert read_text["error"] is None
    options = read_text["options_schema"]
    assert set(options["properties"]) == {"encoding", "errors", "max_bytes"}
    assert options["properties"]["max_bytes"]["default"] == 10_000_000
    assert options["additionalProperties"] is False

    shout = items[("processor", "shout")]
    assert shout["origin"] == "shout-plugin 1.2.0 (shout_plugin:Shout)"
    assert (shout["summary"], shout["description"]) == (
        "Upper-cases the payload's text.",
        "Leaves every other field alone.",
    )
    assert shout["options_schema"]["properties"]["field"]["description"]

    broken = items[("adapter", "broken")]
    assert broken["error"] == "ImportError: needs libfoo" and broken["options_schema"] is None
    assert broken["origin"] == "broken-plugin 1.2.0 (broken_plugin:Source)"

    adapters = (await client.get(f"{API}/components", params={"kind": "adapter"})).json()
    assert {c["kind"] for c in adapters["items"]} == {"adapter"}
    assert (await client.get(f"{API}/components", params={"kind": "x"})).status_code == 422


async def test_every_builtin_option_is_documented(client: httpx.AsyncClient) -> None:
    body = (await client.get(f"{API}/components")).json()
    undocumented = [
        f"{c['kind']} {c['name']}.{option}"
        for c in body["items"]
        if c["origin"] and c["origin"].startswith("factflow-engine ")
        for option, spec in c["options_schema"]["properties"].items()
        if not spec.get("description")
    ]
    assert undocumented == []
    assert all(c["summary"] for c in body["items"])


async def test_show_one_component_and_the_404s(client: httpx.AsyncClient) -> None:
    shown = await client.get(f"{API}/components/processor/shout")
    assert shown.status_code == 200 and shown.json()["name"] == "shout"
    broken = await client.get(f"{API}/components/adapter/broken")
    assert broken.json()["error"] == "ImportError: needs libfoo"

    unknown = await client.get(f"{API}/components/processor/read_txt")
    body = assert_problem(unknown, 404, "component-not-found")
    assert "did you mean 'read_text'" in body["detail"]
    assert (body["kind"], body["name"]) == ("processor", "read_txt")
    wrong_kind = await client.get(f"{API}/components/adapter/read_text")
    assert_problem(wrong_kind, 404, "component-not-found")
    assert_problem(await client.get(f"{API}/components/widget/x"), 422, "invalid-request")


async def test_a_plugin_the_catalogue_shows_is_one_a_config_can_run(
    client: httpx.AsyncClient,
) -> None:
    config = {
        "name": "loud",
        "routes": {
            "src": {
                "adapter": {"type": "inline", "with": {"items": [{"text": "hi"}]}},
                "processors": [{"type": "shout"}, {"type": "storage_write"}],
            }
        },
    }
    assert (
        await client.post(f"{API}/configs", content=yaml.safe_dump(config), headers=YAML)
    ).status_code == 201
    run = (await client.post(f"{API}/configs/loud/run")).json()
    await client.get(f"{API}/executions/{run['id']}/wait", params={"timeout": 60})
    objects = (await client.get(f"{API}/executions/{run['id']}/storage/objects")).json()
    key = objects["items"][0]["key"]
    stored = await client.get(f"{API}/executions/{run['id']}/storage/objects/{key}")
    assert stored.json()["text"] == "HI"
