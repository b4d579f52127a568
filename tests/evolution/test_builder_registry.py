"""Configs are data: `network.builder` runs only a registered builder, a package's declared entry point, or a
module the user allows on the command line; anything else is refused before anything is imported or run."""

from __future__ import annotations

import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
import yaml
from evo_support import sphere_config

from evolution import imports
from evolution.builders import BUILDERS, CONSTRUCTIONS
from evolution.config import parse_config
from evolution.errors import ConfigError
from evolution.problem import resolve_network
from snncontrol.cli import main

HOSTILE = {"builder": "os:system", "kwargs": {"command": "touch PWNED"}}


def _config(network: dict) -> dict:
    return sphere_config({"name": "cmaes", "population": 4}, generations=1, network=network)


def test_a_config_naming_os_system_is_refused_before_anything_runs(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "evil.yaml").write_text(yaml.safe_dump(_config(HOSTILE)))
    assert main(["evolve", "evil.yaml", "--quiet", "--run-dir", "run"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "network.builder: 'os:system' is not a registered builder" in err
    assert "--allow-import" in err
    assert not (tmp_path / "PWNED").exists() and not (tmp_path / "run").exists()


def test_an_unregistered_module_is_not_even_imported(monkeypatch):
    monkeypatch.delitem(sys.modules, "antigravity", raising=False)
    with pytest.raises(ConfigError, match=r"network\.builder: 'antigravity:geohash' is not a registered builder"):
        parse_config(_config({"builder": "antigravity:geohash"}))
    assert "antigravity" not in sys.modules


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_registered_builders_resolve_by_short_name_and_by_reference(name):
    by_name = parse_config(_config({"builder": name})).network
    by_reference = parse_config(_config({"builder": BUILDERS[name]})).network
    assert by_name.builder == by_reference.builder == BUILDERS[name]


def test_allow_import_lets_a_users_own_module_build_the_network(tmp_path, monkeypatch):
    (tmp_path / "mynets").mkdir()
    (tmp_path / "mynets" / "__init__.py").write_text("")
    (tmp_path / "mynets" / "small.py").write_text(
        "from evolution.builders import paired_lif_readout\n\n\ndef build():\n    return paired_lif_readout(2, 3)\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    data = _config({"builder": "mynets.small:build"})
    with pytest.raises(ConfigError, match="not a registered builder"):
        parse_config(data)
    with pytest.raises(ConfigError, match="not a registered builder"):
        parse_config(data, allow_import=["mynet"])  # a prefix of the name is not the module
    config = parse_config(data, allow_import=["mynets"])
    assert resolve_network(config.network).dim > 0


def test_allow_import_takes_only_module_names():
    with pytest.raises(ConfigError, match="--allow-import: 'os:system' is not a module name"):
        parse_config(_config(HOSTILE), allow_import=["os:system"])


def test_a_packages_declared_entry_point_is_a_builder(monkeypatch):
    declared = EntryPoint("tiny", "evolution.builders:paired_lif_readout", "snncontrol.builders")
    monkeypatch.setattr(imports, "entry_points", lambda group: [declared] if group == "snncontrol.builders" else [])
    registry = {}
    assert imports.allowed_reference("tiny", registry, "snncontrol.builders") == declared.value
    assert imports.allowed_reference(declared.value, registry, "snncontrol.builders") == declared.value
    with pytest.raises(ValueError, match=r"entry point of group 'snncontrol\.builders'"):
        imports.allowed_reference("os:system", registry, "snncontrol.builders")


def test_shipped_configs_name_registered_builders():
    configs = sorted(Path(__file__).parents[2].joinpath("configs").glob("*.yaml"))
    networks = [yaml.safe_load(p.read_text())["network"] for p in configs]
    named = {network.get("builder") for network in networks} - {None}
    assert named and named <= set(BUILDERS.values())
    constructions = {network["construction"]["builder"] for network in networks if "construction" in network}
    assert constructions and constructions <= set(CONSTRUCTIONS)
    for name in CONSTRUCTIONS:  # by short name and by reference, as builders
        network = {"construction": {"builder": name, "settings": {"kp": {"low": 1, "high": 2, "seed": 1}}}}
        by_name = parse_config(_config(network)).network.construction
        network["construction"]["builder"] = CONSTRUCTIONS[name]
        by_reference = parse_config(_config(network)).network.construction
        assert by_name is not None and by_reference is not None and by_name.builder == by_reference.builder


def test_a_custom_fitness_factory_runs_only_when_its_module_is_allowed():
    data = _config({"builder": "paired_lif_readout", "kwargs": {"n_pairs": 2, "n_hidden": 3}})
    data["fitness"] = {"kind": "custom", "factory": "os:system", "kwargs": {"command": "true"}, "objectives": ["x"]}
    with pytest.raises(ConfigError, match=r"fitness\.custom\.factory: 'os:system' is not a registered fitness factory"):
        parse_config(data)
    data["fitness"]["factory"] = "faulty:make"
    assert parse_config(data, allow_import=("faulty",)).fitness.factory == "faulty:make"


def test_a_worker_rereads_the_config_its_driver_vetted():
    """Workers re-parse the driver's dump, which names an allowed module the worker was not told about."""
    data = _config({"builder": "faulty:make"})
    dump = parse_config(data, allow_import=("faulty",)).model_dump(mode="json", by_alias=True)
    with pytest.raises(ConfigError):
        parse_config(dump)
    assert parse_config(dump, vetted=True).network.builder == "faulty:make"


def test_a_builder_that_fails_on_its_kwargs_is_one_line_naming_it():
    """An exception of a builder that is none of ours (here an IndexError) was a traceback of 28 lines."""
    network = {"builder": "faulty:broken_builder", "kwargs": {"n_inputs": 0}}
    config = parse_config(_config(network), allow_import=("faulty",))
    message = ("network.builder 'faulty:broken_builder' failed on its kwargs (IndexError: index 0 is out of bounds for "
               "axis 0 with size 0)")
    with pytest.raises(ConfigError) as raised:
        resolve_network(config.network)
    assert str(raised.value) == message


@pytest.mark.parametrize(
    ("builder", "kwargs", "message"),
    [
        ("paired_lif_readout", {"n_hidden": "16"}, "network.kwargs.n_hidden should be a valid integer, got '16'"),
        ("paired_lif_readout", {"recurrent": 1}, "network.kwargs.recurrent should be a valid boolean, got 1"),
        ("blimp.pd_snn", {"hidden": "lf"}, "network.kwargs.hidden should be 'lif', 'rlif', 'iwta' or 'riwta'"),
        ("ncap.mlp_spec", {"hidden": [64, "a"]}, "network.kwargs.hidden should be a valid tuple or a valid integer at"),
    ],
)
def test_a_builder_keyword_of_the_wrong_type_is_one_line_naming_it(builder, kwargs, message):
    """A string for an int failed inside the builder in Python's words ("can't multiply sequence by non-int")."""
    config = parse_config(_config({"builder": builder, "kwargs": kwargs}))
    with pytest.raises(ConfigError) as raised:
        resolve_network(config.network)
    assert str(raised.value).startswith(message)
    assert resolve_network(parse_config(_config({"builder": "paired_lif_readout", "kwargs": {"dt": 1}})).network)


def test_builder_keywords_a_config_can_write_pass_the_type_check():
    """YAML has no tuples: a list for a tuple annotation was refused ("should be a valid tuple"); an annotation
    pydantic has no schema for (np.ndarray) ended in a multi-line error."""
    network = {"builder": "faulty:tuple_builder", "kwargs": {"bounds": [0.5, 2.0], "weights": None}}
    config = parse_config(_config(network), allow_import=("faulty",))
    assert resolve_network(config.network).spec.name == "bounds 0.5 2"
    network["kwargs"] = {"bounds": ["a", 2.0]}
    with pytest.raises(ConfigError, match=r"network\.kwargs\.bounds should be a valid tuple"):
        resolve_network(parse_config(_config(network), allow_import=("faulty",)).network)
