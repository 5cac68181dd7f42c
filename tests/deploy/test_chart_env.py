"""Every variable the chart sets is one the code reads, for every component the code has: a
renamed setting (say the service secret becoming per-service keys) fails here, not in prod."""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import AliasChoices
from pydantic_settings import BaseSettings

from cli.components import COMPONENTS as CODE_COMPONENTS
from gateway.settings import GatewaySettings
from services.anonymity.settings import AnonymitySettings
from services.audit.settings import AuditSettings
from services.content.settings import ContentSettings
from services.identity.settings import IdentitySettings
from tests.deploy.chart import CHART, CI_VALUES, COMPONENTS, ROOT, Obj, named, render, render_values

SETTINGS: dict[str, type[BaseSettings]] = {
    "gateway": GatewaySettings,
    "identity": IdentitySettings,
    "anonymity": AnonymitySettings,
    "content": ContentSettings,
    "audit": AuditSettings,
}


def _settings_names(component: str) -> set[str]:
    """Environment names of a settings class: prefix + field, and every alias choice."""
    cls = SETTINGS[component]
    prefix = str(cls.model_config.get("env_prefix", ""))
    names = set()
    for field_name, info in cls.model_fields.items():
        names.add(f"{prefix}{field_name}".upper())
        if isinstance(info.validation_alias, AliasChoices):
            names |= {c.upper() for c in info.validation_alias.choices if isinstance(c, str)}
    return names


def _literals_in_code() -> set[str]:
    """`CONSILIUM_*` names the code reads by hand (os.environ), literal or per component."""
    names = set()
    for path in [*ROOT.glob("plumbing/**/*.py"), *ROOT.glob("services/**/*.py"),
                 *ROOT.glob("gateway/**/*.py"), *ROOT.glob("cli/**/*.py")]:  # fmt: skip
        text = path.read_text()
        names |= set(re.findall(r'"(CONSILIUM_[A-Z0-9_]*[A-Z0-9])"', text))
        for suffix in re.findall(r'f"CONSILIUM_\{\w+\.upper\(\)\}_([A-Z0-9_]+)"', text):
            names |= {f"CONSILIUM_{c.upper()}_{suffix}" for c in COMPONENTS}
    return names


def _chart_env(pod: Obj, config_maps: dict[str, dict[str, str]]) -> set[str]:
    names = set()
    for container in pod["spec"]["template"]["spec"]["containers"]:
        names |= {e["name"] for e in container.get("env", [])}
        for source in container.get("envFrom", []):
            names |= set(config_maps[source["configMapRef"]["name"]])
    return names


def test_the_chart_deploys_every_component_of_the_code() -> None:
    assert set(COMPONENTS) == set(CODE_COMPONENTS)


def unread_variables(objects: list[Obj] | tuple[Obj, ...]) -> dict[str, set[str]]:
    """Per Deployment or Job: `CONSILIUM_*` variables the chart sets that no code reads."""
    config_maps = {
        o["metadata"]["name"]: o.get("data") or {} for o in objects if o["kind"] == "ConfigMap"
    }
    literals = _literals_in_code()
    everything = set().union(*map(_settings_names, SETTINGS))
    unread = {}
    for kind, names in (("Deployment", COMPONENTS), ("Job", ("migrate", "topics"))):
        for name in names:
            known = (_settings_names(name) if name in SETTINGS else everything) | literals
            chart = {
                n
                for n in _chart_env(named(objects, kind, name), config_maps)
                if n.startswith("CONSILIUM_")
            }
            unread[name] = chart - known
    return unread


def test_every_variable_the_chart_sets_is_read_by_the_code() -> None:
    for values in CI_VALUES:
        unread = unread_variables(render_values(values))
        assert unread == {name: set() for name in unread}, values.name


def test_a_misspelt_setting_is_caught() -> None:
    objects = render("-f", str(CHART / "ci/minimal-values.yaml"),
                     "--set-string", "identity.env.CONSILIUM_IDENTITY_TOKEN_TTL=60")  # fmt: skip
    assert unread_variables(objects)["identity"] == {"CONSILIUM_IDENTITY_TOKEN_TTL"}


def test_the_kafka_security_settings_are_read() -> None:
    """The chart's SASL/TLS variables reach the event clients (plumbing/events/kafka_security)."""
    objects = render_values(CHART / "ci/production-values.yaml")
    config_maps = {
        o["metadata"]["name"]: o.get("data") or {} for o in objects if o["kind"] == "ConfigMap"
    }
    kafka = {n for n in _chart_env(named(objects, "Deployment", "content"), config_maps)
             if n.startswith("CONSILIUM_KAFKA_")}  # fmt: skip
    assert {"CONSILIUM_KAFKA_SASL_PASSWORD", "CONSILIUM_KAFKA_SSL_CAFILE"} <= kafka
    assert kafka <= _literals_in_code()


def test_settings_files_exist_for_each_component() -> None:
    for component in COMPONENTS:
        where = "gateway" if component == "gateway" else f"services/{component}"
        assert Path(ROOT / where / "settings.py").is_file()
