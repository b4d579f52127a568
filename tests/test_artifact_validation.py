"""Hand-edited artifacts and specs: every field of the wrong type, a non-finite number or a size beyond its cap is
refused at load (or construction) in one line naming the field, never a traceback later, never a silently wrong
controller, never a huge allocation."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from safetensors.numpy import save

from snncontrol.adapters import ActionAdapter, IOAdapters, ObservationAdapter
from snncontrol.artifacts import Controller, Metadata, load_controller, parameter_table, parse_json, save_controller
from snncontrol.cli import main
from snncontrol.connections import MAX_DELAY_VALUES, Connection
from snncontrol.decoders import MAX_WINDOW_VALUES, PopulationVectorDecoder, RateDecoder
from snncontrol.encoders import PoissonEncoder, PopulationEncoder, SendOnDeltaEncoder
from snncontrol.errors import ArtifactError, SpecError
from snncontrol.layers import Layer, leaky_readout, paired_encoding
from snncontrol.neurons import LIF, LeakyIntegrator
from snncontrol.params import ParamEntry
from snncontrol.spec import MAX_NEURONS, MAX_TOTAL_WEIGHTS, NetworkSpec

Edit = Callable[[dict[str, Any]], None]

PLAIN = NetworkSpec(1, (Layer("h", 2, LIF(), bias=True), leaky_readout()))
PAIRED = NetworkSpec(1, (paired_encoding("enc", 2), leaky_readout()))
POISSON = NetworkSpec(1, (Layer("h", 2, LIF()), leaky_readout()), encoder=PoissonEncoder(2.0, seed=1))
POPULATION = NetworkSpec(1, (Layer("h", 4, LIF()), leaky_readout()), encoder=PopulationEncoder(n_per_input=4))
VECTOR = NetworkSpec(1, (Layer("h", 2, LIF()),), decoder=PopulationVectorDecoder((0.0, 1.0)))
RATE = NetworkSpec(1, (Layer("h", 2, LIF()),), decoder=RateDecoder(3))
SETPOINT_IO = IOAdapters(ObservationAdapter("setpoint_error"), ActionAdapter("affine_clip", low=-1.0, high=1.0))


def _artifact(tmp_path: Path, spec: NetworkSpec, edit: Edit, io: IOAdapters = SETPOINT_IO) -> Path:
    """An artifact of `spec` whose controller.json `edit` changed (written as Python's json writes it: NaN
    included); where the edited spec still builds, its params are re-forged to match it with a consistent
    hash (and its listed parameter layout), so that only validation can refuse it."""
    path = save_controller(tmp_path / "ctrl", spec, spec.parameters.initial(), Metadata(seed=1), io)
    document = json.loads((path / "controller.json").read_text())
    edit(document)
    try:
        genome = NetworkSpec.from_dict(document["spec"]).parameters.initial()
    except (SpecError, ValueError, TypeError):
        genome = None
    if genome is not None and np.isfinite(genome).all():
        document["parameters"] = parameter_table(NetworkSpec.from_dict(document["spec"]))
        blob = save({"genome": np.ascontiguousarray(genome)})
        (path / "params.safetensors").write_bytes(blob)
        document["params_sha256"] = hashlib.sha256(blob).hexdigest()
    (path / "controller.json").write_text(json.dumps(document))
    return path


def _refused(path: Path, match: str) -> str:
    with pytest.raises(ArtifactError, match=match) as info:
        load_controller(path)
    message = str(info.value)
    assert "\n" not in message and str(path) in message, message
    return message


def _set(*keys: Any, value: Any) -> Edit:
    def edit(document: dict[str, Any]) -> None:
        node = document
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = value

    return edit


# --- 1: NaN / Infinity are not JSON ---------------------------------------------------------------------------------
@pytest.mark.parametrize("token", ["NaN", "Infinity", "-Infinity", "1e400", "-1e999"])
def test_parse_json_refuses_non_finite_numbers_when_asked(token: str) -> None:
    with pytest.raises(ValueError, match=r"not a JSON number|too large for a float"):
        parse_json(f'{{"x": [1, {token}]}}', allow_nan=False)
    assert parse_json('{"x": [1, 2.5, -3e10]}', allow_nan=False) == {"x": [1, 2.5, -3e10]}


@pytest.mark.parametrize(
    ("spec", "edit"),
    [
        (PLAIN, _set("metadata", "fitness", value=float("nan"))),
        (PLAIN, _set("metadata", "fitness", value=[1.0, float("inf")])),
        (PLAIN, _set("spec", "layers", 0, "fixed", value={"decay_mem": float("nan")})),
        (PAIRED, _set("spec", "layers", 0, "input", "tie_coeff", 0, 0, value=float("nan"))),
        (POISSON, _set("spec", "encoder", "rate_per_unit", value=float("inf"))),
        (VECTOR, _set("spec", "decoder", "default", value=float("nan"))),
    ],
    ids=["fitness", "fitness-list", "fixed", "tie_coeff", "rate_per_unit", "default"],
)
def test_an_artifact_holding_nan_or_infinity_is_refused_naming_the_file(tmp_path: Path, spec, edit) -> None:
    _refused(_artifact(tmp_path, spec, edit), r"controller\.json: (NaN|Infinity|-Infinity) is not a JSON number")


def test_info_json_refuses_a_nan_fitness_in_one_line_instead_of_printing_invalid_json(tmp_path, capsys) -> None:
    path = _artifact(tmp_path, PLAIN, _set("metadata", "fitness", value=float("nan")))
    assert main(["info", "--json", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("snncontrol info: error: artifact "), captured.err
    assert main(["info", "--json", str(_artifact(tmp_path / "ok", PLAIN, lambda d: None))]) == 0
    described = parse_json(capsys.readouterr().out, allow_nan=False)
    assert described["metadata"]["seed"] == 1


@pytest.mark.parametrize(
    ("field", "value", "match"),
    [
        ("fitness", "x", "metadata.fitness must be a finite number"),
        ("fitness", [1.0, None], "metadata.fitness must be a finite number"),
        ("fitness", float("nan"), "metadata.fitness must be a finite number"),
        ("seed", 1.5, "metadata.seed must be an integer"),
        ("seed", True, "metadata.seed must be an integer"),
        ("description", 3, "metadata.description must be a string"),
        ("created", None, "metadata.created must be a string"),
        ("extra", [], "metadata.extra must be a mapping"),
    ],
)
def test_metadata_fields_are_validated(field: str, value: Any, match: str) -> None:
    with pytest.raises(ArtifactError, match=match):
        Metadata.from_dict({**Metadata(seed=1, fitness=0.5, git_revision=None).__dict__, field: value})
    assert Metadata.from_dict({"seed": 2, "fitness": [0.5, 1], "git_revision": None}).fitness == [0.5, 1]


# --- 2: values must be finite numbers, also when a spec is built from Python or YAML data ---------------------------
def _layer(**changes: Any) -> NetworkSpec:
    """PLAIN built from data (as from an artifact or a YAML config) with its first layer's fields `changes`."""
    data = PLAIN.to_dict()
    data["layers"][0].update(changes)
    return NetworkSpec.from_dict(data)


@pytest.mark.parametrize(("field", "value"), [("synaptic", None), ("synaptic", "no"), ("refractory", True)])
def test_lif_flags_must_have_their_type(field: str, value: Any) -> None:
    """null or "no" read as a choice of synaptic LIF (truthiness), True as a refractory period of one step."""
    with pytest.raises(SpecError, match=f"LIF.{field} must be") as info:
        LIF(**{field: value})
    assert "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("build", "match"),
    [
        (lambda: _layer(fixed={"decay_mem": None}), r"fixed\['decay_mem'\] must be a finite"),
        (lambda: _layer(fixed={"decay_mem": float("nan")}), r"fixed\['decay_mem'\] must be"),
        (lambda: _layer(fixed={"theta": [1.0, "2"]}), r"fixed\['theta'\] must be a finite"),
        (lambda: _layer(fixed={"theta": [True, 2.0]}), r"fixed\['theta'\] must be a finite"),  # numpy: [1., 2.]
        (lambda: _layer(init={"bias": float("nan")}), "init of h.bias must be a finite"),
        (lambda: _layer(bounds={"bias": ["-1", 1]}), r"bounds must map .* finite numbers"),
        (lambda: _layer(bias="yes"), "bias must be true or false"),
        (lambda: ParamEntry.create("l.p", (2,), (0.0, 1.0), 0, [0.5, float("nan")]), "init of l.p must be a finite"),
        (lambda: Connection(tie=[[0, 1]], tie_coeff=[[1.0, float("nan")]]), "tie_coeff must be a finite"),
        (lambda: Connection(tie=[[0, 1]], tie_coeff=[[1.0, None]]), "tie_coeff must be a finite"),
        (lambda: PoissonEncoder(rate_per_unit=float("nan")), "rate_per_unit must be a finite number"),
        (lambda: PoissonEncoder(rate_per_unit=float("inf")), "rate_per_unit must be a finite number"),
        (lambda: PopulationEncoder(gain=float("nan")), "PopulationEncoder.gain must be a finite number"),
        (lambda: PopulationEncoder(low=float("-inf")), "PopulationEncoder.low must be a finite number"),
        (lambda: PopulationEncoder(high="2"), "PopulationEncoder.high must be a finite number"),
        (lambda: PopulationEncoder(width_factor=float("nan")), "PopulationEncoder.width_factor must be a finite"),
        (lambda: SendOnDeltaEncoder(delta=float("inf")), "SendOnDeltaEncoder.delta must be a finite number"),
        (lambda: PopulationVectorDecoder((0.0, float("nan"))), r"preferred\[1\] must be a finite number"),
        (lambda: PopulationVectorDecoder((0.0, "1")), r"preferred\[1\] must be a finite number"),
        (lambda: PopulationVectorDecoder((0.0, 1.0), default=float("nan")), "default must be a finite number"),
        (lambda: PopulationVectorDecoder((0.0, 1.0), default="x"), "default must be a finite number"),
        (lambda: ActionAdapter("affine_clip", low=float("nan")), "action adapter low must be a number"),
        (lambda: ActionAdapter("affine_clip", high="1"), "action adapter high must be a number"),
        (lambda: ObservationAdapter("select", indices=(0,), scale=[]), "adapter.scale must be a finite number"),
    ],
)
def test_non_finite_or_non_numeric_values_are_refused_naming_the_field(build, match: str) -> None:
    with pytest.raises(SpecError, match=match) as info:
        build()
    assert "\n" not in str(info.value)


def test_a_null_fixed_value_in_an_artifact_is_refused_not_loaded_as_nan(tmp_path: Path) -> None:
    path = _artifact(tmp_path, PLAIN, _set("spec", "layers", 0, "fixed", value={"decay_mem": None}))
    _refused(path, r"layer 'h'\.fixed\['decay_mem'\] must be a finite number")


# --- 3: integers must be integers (and a step a number of seconds in range) -----------------------------------------
@pytest.mark.parametrize(
    ("spec", "edit", "match", "io"),
    [
        (POPULATION, _set("spec", "encoder", "n_per_input", value=2.5), "n_per_input must be an integer", None),
        (POPULATION, _set("spec", "encoder", "n_per_input", value="4"), "n_per_input must be an integer", None),
        (POISSON, _set("spec", "encoder", "seed", value=1.5), "PoissonEncoder.seed must be an integer", None),
        (POISSON, _set("spec", "encoder", "seed", value="x"), "PoissonEncoder.seed must be an integer", None),
        (POISSON, _set("spec", "encoder", "seed", value=2**70), r"PoissonEncoder.seed must be an integer in", None),
        (POISSON, _set("spec", "encoder", "seed", value=True), "PoissonEncoder.seed must be an integer", None),
        (RATE, _set("spec", "decoder", "window", value=2.5), "decoder.window .* must be an integer", None),
        (PLAIN, _set("spec", "n_inputs", value=True), "n_inputs must be a positive integer", None),
        (PLAIN, _set("spec", "name", value=["x"]), "'name' must be a string", None),
        (PLAIN, _set("spec", "dt", value=1e-300), "dt must be a number of seconds, at least 1e-06", None),
        (PLAIN, _set("spec", "dt", value=True), "dt must be a number of seconds", None),
        (PLAIN, _set("io", "observation", "measurement", value=1.5), "measurement must be an integer", None),
        (PLAIN, _set("io", "observation", "measurement", value="a"), "measurement must be an integer", None),
        (PLAIN, _set("io", "observation", "setpoint", value=-1), "setpoint must be an integer >= 0", None),
        (
            PLAIN,
            _set("io", "observation", "indices", value=[0.5]),
            r"indices\[0\] must be an integer",
            IOAdapters(ObservationAdapter("select", indices=(0,))),
        ),
        (
            PLAIN,
            _set("io", "observation", "rates", value=["a"]),
            r"rates\[0\] must be an integer",
            IOAdapters(ObservationAdapter("select", indices=(0,), rates=(1,), lead=0.1)),
        ),
        (PLAIN, _set("io", "observation", value=[1, 2]), "io: ", None),
        (PLAIN, _set("io", "action", value="ab"), "io: ", None),
    ],
)
def test_fields_of_the_wrong_type_or_range_are_refused_at_load(tmp_path: Path, spec, edit, match: str, io) -> None:
    _refused(_artifact(tmp_path, spec, edit, io or SETPOINT_IO), match)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (_set("parameters", 0, "name", value="h.bias"), r"parameter 0 is listed as 'h.bias' \[1, 2\], its spec gives "
         r"h.w_in \[1, 2\]; the genome would be read into the wrong parameters"),
        (_set("parameters", 1, "shape", value=[3]), r"parameter 1 is listed as 'h.bias' \[3\], its spec gives h.bias"),
        (lambda document: document["parameters"].pop(), r"\d+ parameters listed, the spec gives \d+"),
        (_set("parameters", value={"h.w_in": [1, 1]}), "'parameters' must be a list, got dict"),
        (_set("parameters", value=[1.5]), "parameter 0 is listed as '1.5' None"),
    ],
)
def test_a_listed_genome_layout_that_is_not_the_specs_is_refused(tmp_path: Path, edit, match: str) -> None:
    """controller.json lists the genome's layout; where it differs from the one this code derives from the spec
    (an edited file, or a layout that changed between versions), the genome would fill the wrong parameters."""
    path = save_controller(tmp_path / "ctrl", PLAIN, PLAIN.parameters.initial(), Metadata(seed=1), SETPOINT_IO)
    document = json.loads((path / "controller.json").read_text())
    assert [entry["name"] for entry in document["parameters"]][:2] == ["h.w_in", "h.bias"]
    edit(document)
    (path / "controller.json").write_text(json.dumps(document))
    _refused(path, match)


def test_listed_bounds_that_differ_from_the_specs_do_not_refuse_an_artifact(tmp_path: Path) -> None:
    """Bounds do not move the genome's layout (a version that widened a default bound still reads old artifacts)."""
    path = save_controller(tmp_path / "ctrl", PLAIN, PLAIN.parameters.initial(), Metadata(seed=1), SETPOINT_IO)
    document = json.loads((path / "controller.json").read_text())
    document["parameters"][1]["high"] = 0.5
    (path / "controller.json").write_text(json.dumps(document))
    np.testing.assert_array_equal(load_controller(path).genome, PLAIN.parameters.initial())


def test_boolean_tie_sign_or_delay_matrices_are_refused(tmp_path: Path) -> None:
    """JSON true/false were taken as 1/0: a tie of booleans made every false entry index 0, a synapse."""
    def boolean_tie(document: dict[str, Any]) -> None:
        connection = document["spec"]["layers"][0]["input"]
        connection["tie"] = [[entry >= 0 for entry in row] for row in connection["tie"]]

    _refused(_artifact(tmp_path, PAIRED, boolean_tie), "connection.tie must be a 1-D or 2-D array of integers")
    for name in ("sign", "delay"):
        with pytest.raises(SpecError, match=f"connection.{name} must be a 1-D or 2-D array of integers, got bool"):
            Connection(**{name: np.array([[True, False]])})
    assert Connection(mask=np.array([[True, False]])).mask.tolist() == [[1, 0]]  # a mask's booleans are its 0/1


def test_ragged_shared_groups_are_one_line_naming_them(tmp_path: Path) -> None:
    ragged = _set("spec", "layers", 0, "shared", value={"bias": [0, [1]]})  # (numpy's own ValueError escaped)
    _refused(_artifact(tmp_path, PLAIN, ragged), r"layer 'h'\.shared\['bias'\] must be 2 non-negative group indices")


def test_a_value_error_that_escapes_validation_is_one_artifact_line(tmp_path: Path, monkeypatch) -> None:
    path = _artifact(tmp_path, PLAIN, lambda document: None)

    def escapes(data: object) -> NetworkSpec:
        raise ValueError("a check the spec forgot\nsecond line")

    monkeypatch.setattr(NetworkSpec, "from_dict", staticmethod(escapes))
    _refused(path, r"controller\.json: spec is invalid \(ValueError: a check the spec forgot\)")


# --- 4: sizes are capped before anything of their size is allocated -------------------------------------------------
def test_a_huge_decoder_window_is_refused_before_allocating(tmp_path: Path) -> None:
    _refused(_artifact(tmp_path, RATE, _set("spec", "decoder", "window", value=10**13)), "decoder.window")
    with pytest.raises(SpecError, match=f"more than {MAX_WINDOW_VALUES} values"):
        NetworkSpec(1, (Layer("h", 1000, LIF()),), decoder=RateDecoder(5000))
    with pytest.raises(SpecError, match=f"more than {MAX_WINDOW_VALUES} values"):
        NetworkSpec(1, (Layer("h", 1000, LIF()),), decoder=PopulationVectorDecoder(tuple(range(1000)), window=5000))


def test_a_delay_buffer_beyond_its_cap_is_refused_before_allocating(tmp_path: Path) -> None:
    with pytest.raises(SpecError, match=r"layer 'h'\.input\.delay: a delay of 10000 steps on 200 inputs"):
        NetworkSpec(200, (Layer("h", 1, LIF(), input=Connection(tie=np.zeros((200, 1), int), delay=10_000)),))

    def wide(document: dict[str, Any]) -> None:
        document["spec"]["n_inputs"] = 10**6
        document["spec"]["layers"][0]["input"] = {"pattern": "dense", "delay": 10_000}

    _refused(_artifact(tmp_path, PLAIN, wide), "needs a buffer of more than")
    at_cap = NetworkSpec(104, (Layer("h", 1, LIF(), input=Connection(tie=np.zeros((104, 1), int), delay=10_000)),))
    state = load_controller(save_controller(tmp_path / "cap", at_cap, at_cap.parameters.initial())).init_state()
    buffer = state.delay[0]
    assert buffer.numel() <= MAX_DELAY_VALUES and buffer.numel() * buffer.element_size() <= 4 * 2**20


def test_the_networks_total_weights_are_capped_fixed_ones_included(tmp_path: Path) -> None:
    """The cap was per connection and counted the genome's weights only: a 971-byte spec of layers whose weights are
    fixed (not in the genome) or one-to-one (n weights, n x n effective) made every loader allocate gigabytes."""
    fixed = {"w_in": 0.0, "decay_mem": 0.0}
    layers = [Layer("l0", 4096, LeakyIntegrator(), bias=False, fixed={"decay_mem": 0.0})]
    layers += [Layer(f"l{i}", 4096, LeakyIntegrator(), bias=False, fixed=fixed) for i in range(1, 3)]
    with pytest.raises(SpecError, match=rf"the network has 33558528 effective weights .*more than {MAX_TOTAL_WEIGHTS}"):
        NetworkSpec(1, tuple(layers))
    diagonal = Layer("d", 6000, LIF(), input=Connection(pattern="one_to_one"))
    with pytest.raises(SpecError, match="36000000 effective weights"):
        NetworkSpec(6000, (diagonal,))

    def bomb(document: dict[str, Any]) -> None:  # the hand-made file: every loader refuses it before allocating
        document["spec"]["layers"] = [layer.to_dict() for layer in layers]

    _refused(_artifact(tmp_path, PLAIN, bomb), "effective weights")
    many = [Layer(f"l{i}", 600_000 if i % 2 == 0 else 1, LeakyIntegrator(), bias=False) for i in range(3)]
    with pytest.raises(SpecError, match=f"the network has 1200001 neurons: more than {MAX_NEURONS}"):
        NetworkSpec(1, tuple(many))
    NetworkSpec(784, (Layer("exc", 400, LIF()), Layer("inh", 400, LIF(), input=Connection(pattern="one_to_one"))))


def test_an_observation_adapter_that_makes_more_inputs_than_the_network_takes_is_refused(tmp_path: Path) -> None:
    six = {"kind": "select", "indices": [0, 1, 2, 3, 4, 5]}
    _refused(_artifact(tmp_path, PLAIN, _set("io", "observation", value=six)),
             r"the observation adapter \(select\) makes 6 inputs \(indices \[0, 1, 2, 3, 4, 5\]\); the network takes 1")
    with pytest.raises(SpecError, match=r"makes 2 inputs"):
        save_controller(tmp_path / "c", PLAIN, PLAIN.parameters.initial(), io=IOAdapters(ObservationAdapter(
            "select", indices=(0, 1))))
    assert not (tmp_path / "c").exists()
    with pytest.raises(SpecError, match=r"makes 2 inputs"):
        Controller(PLAIN, PLAIN.parameters.initial(), io=IOAdapters(ObservationAdapter("select", indices=(0, 1))))
    # fewer than the network takes is no misfit: further inputs follow at run time (an NCAP's speed command)
    from snncontrol.controllers.ncap import ncap_io, ncap_spec

    steered = ncap_spec(6, speed=True)
    assert steered.n_inputs == 6 and ncap_io(6).observation.n_inputs(6) == 5
    load_controller(save_controller(tmp_path / "ncap", steered, steered.parameters.initial(), io=ncap_io(6)))
    for identity in (IOAdapters(), SETPOINT_IO):  # identity depends on the plant, setpoint_error makes one
        load_controller(save_controller(tmp_path / "any", RATE, RATE.parameters.initial(), io=identity))


# --- 5: adapter scale/offset lengths must fit the network -----------------------------------------------------------
def test_an_action_scale_that_does_not_fit_the_outputs_is_refused_at_load(tmp_path: Path) -> None:
    path = _artifact(tmp_path, PLAIN, _set("io", "action", "scale", value=[1, 2]))
    _refused(path, r"action adapter \(affine_clip\)\.scale has 2 values for 1 channel\(s\); give 1")
    offset = _artifact(tmp_path / "o", PLAIN, _set("io", "action", "offset", value=[0, 0, 0]))
    _refused(offset, r"action adapter \(affine_clip\)\.offset has 3 values")


def test_io_check_compares_scale_and_offset_lengths_with_the_network() -> None:
    io = IOAdapters(action=ActionAdapter("affine_clip", scale=(1.0, 2.0)))
    io.check(1, 2, 1, 2, "a plant")
    with pytest.raises(SpecError, match=r"scale has 2 values for 3 channel\(s\); give 1 or 3"):
        io.check(1, 3, 1, 3, "a plant")
    with pytest.raises(SpecError, match=r"observation adapter \(select\)\.scale has 3 values for 2 channel"):
        ObservationAdapter("select", indices=(0, 1), scale=(1.0, 2.0, 3.0))
    with pytest.raises(SpecError, match=r"observation adapter \(setpoint_error\)\.scale has 2 values"):
        ObservationAdapter("setpoint_error", scale=(1.0, 2.0))


def test_adapters_that_do_not_fit_are_refused_when_building_or_saving_a_controller(tmp_path: Path) -> None:
    io = IOAdapters(action=ActionAdapter("affine_clip", scale=(1.0, 2.0)))
    with pytest.raises(SpecError, match=r"scale has 2 values for 1 channel"):
        Controller(PLAIN, PLAIN.parameters.initial(), io=io)
    with pytest.raises(SpecError, match=r"scale has 2 values for 1 channel"):
        save_controller(tmp_path / "c", PLAIN, PLAIN.parameters.initial(), io=io)
    assert not (tmp_path / "c").exists()


def test_an_artifact_with_per_output_scales_still_loads_and_acts_per_output(tmp_path: Path) -> None:
    spec = NetworkSpec(1, (Layer("h", 2, LIF()), leaky_readout(size=2)))
    io = IOAdapters(action=ActionAdapter("affine_clip", scale=(1.0, -2.0), offset=(0.5, 0.0)))
    controller = load_controller(save_controller(tmp_path / "c", spec, spec.parameters.initial(), io=io))
    assert controller.io.action(np.ones((1, 2))).tolist() == [[1.5, -2.0]]
    out, _ = controller.step(torch.zeros(1, 1), controller.init_state())
    assert out.shape == (1, 2)
