"""NIR export/import: exact round trips of our controllers, foreign chain graphs, and what cannot be exported."""

from __future__ import annotations

import json
import os
from pathlib import Path

import nir
import numpy as np
import pytest
import torch

from snncontrol.adapters import ActionAdapter, IOAdapters
from snncontrol.artifacts import load_controller, save_controller
from snncontrol.compose import parallel, parallel_genome
from snncontrol.connections import Connection
from snncontrol.controllers import resolve
from snncontrol.controllers.blimp import i_snn, pd_snn
from snncontrol.decoders import RateDecoder
from snncontrol.encoders import PoissonEncoder, SampleHoldEncoder
from snncontrol.errors import ArtifactError, GenomeError, SpecError
from snncontrol.layers import Layer, leaky_readout, paired_encoding
from snncontrol.network import Network
from snncontrol.neurons.models import LIF, Graded, LeakyIntegrator
from snncontrol.nir_io import (
    export_nir,
    import_io,
    import_nir,
    load_nir,
    metadata_only_features,
    read_nir,
    save_nir,
)
from snncontrol.spec import NetworkSpec

DT = 0.02


def controller(synaptic: bool = True, reset: str = "soft", refractory: int = 0) -> NetworkSpec:
    """1 input -> paired encoding (4 plain LIF) -> recurrent hidden LIF (6) -> leaky readout (1)."""
    hidden = Layer(
        "hidden", 6, LIF(synaptic=synaptic, reset=reset, refractory=refractory), recurrent=Connection(), bias=True
    )
    return NetworkSpec(1, (paired_encoding("enc", 2, 1), hidden, leaky_readout("readout", 1)), dt=DT, name="ctl")


def genome_for(spec: NetworkSpec, seed: int = 0) -> np.ndarray:
    """A random genome with low thresholds (so the layers spike) and decays at the bounds 0 and 1 included."""
    rng = np.random.default_rng(seed)
    genome = spec.parameters.sample(1, rng)[0]
    for entry in spec.parameters.entries:
        if entry.name.endswith(".theta"):
            genome[entry.slice] = rng.uniform(0.2, 1.0, entry.size)
    decay = spec.parameters.by_name["hidden.decay_mem"].slice
    genome[decay.start] = 1.0  # tau = inf (no leak)
    genome[decay.start + 1] = 0.0  # tau = dt
    return genome


def run(spec: NetworkSpec, genome: np.ndarray, xs: np.ndarray, dtype: torch.dtype = torch.float32):
    net = Network(spec, dtype=dtype)
    return net.trace(net.params(genome), xs, net.init_state(1))


def assert_same_behaviour(spec_a: NetworkSpec, genome_a: np.ndarray, spec_b: NetworkSpec, genome_b: np.ndarray):
    xs = np.random.default_rng(1).normal(0.0, 1.5, size=(300, 1, spec_a.n_inputs))
    a, b = run(spec_a, genome_a, xs), run(spec_b, genome_b, xs)
    for layer in spec_a.layers[:-1]:
        assert a.layers[layer.name].sum() > 0, f"layer {layer.name} never spikes: the test would prove nothing"
        assert torch.equal(a.layers[layer.name], b.layers[layer.name]), f"spike trains of {layer.name} differ"
    torch.testing.assert_close(a.outputs, b.outputs, rtol=0.0, atol=1e-6)
    # the compiled rollout of the imported network gives the same outputs as well
    net = Network(spec_b)
    outs, _ = net.rollout(net.params(genome_b), xs, net.init_state(1))
    torch.testing.assert_close(outs, a.outputs, rtol=0.0, atol=1e-6)


def assert_same_parameters(spec_a: NetworkSpec, genome_a: np.ndarray, spec_b: NetworkSpec, genome_b: np.ndarray):
    """Effective weights and neuron fields are bit-identical in float64 (the import is exact, not via tau)."""
    net_a, net_b = Network(spec_a, dtype=torch.float64), Network(spec_b, dtype=torch.float64)
    params_a, params_b = net_a.params(genome_a), net_b.params(genome_b)
    assert torch.equal(params_a.neurons, params_b.neurons)
    assert torch.equal(params_a.weights, params_b.weights)


def assert_same_structure(original: NetworkSpec, imported: NetworkSpec) -> None:
    assert imported.n_inputs == original.n_inputs and imported.dt == original.dt and imported.name == original.name
    assert [lay.name for lay in imported.layers] == [lay.name for lay in original.layers]
    assert [lay.size for lay in imported.layers] == [lay.size for lay in original.layers]
    assert [lay.neuron for lay in imported.layers] == [lay.neuron for lay in original.layers]
    assert [lay.recurrent is None for lay in imported.layers] == [lay.recurrent is None for lay in original.layers]
    assert [lay.bias for lay in imported.layers] == [lay.bias for lay in original.layers]


def test_export_graph_shape() -> None:
    spec = controller()
    graph = export_nir(spec, genome_for(spec)[None, :])
    types = {key: type(node).__name__ for key, node in graph.nodes.items()}
    assert types == {
        "input": "Input",
        "enc.w_in": "Affine",
        "enc.neuron": "LIF",
        "hidden.w_in": "Affine",
        "hidden.neuron": "CubaLIF",
        "hidden.w_rec": "Linear",
        "readout.w_in": "Linear",
        "readout.neuron": "LI",
        "output": "Output",
    }
    assert ("hidden.neuron", "hidden.w_rec") in graph.edges and ("hidden.w_rec", "hidden.neuron") in graph.edges
    assert graph.metadata["dt"] == DT
    # NIR weights are [out, in]; the paired encoder's neurons read the one input with weights +w, -w
    enc = graph.nodes["enc.w_in"].weight
    assert enc.shape == (4, 1) and enc[0, 0] == -enc[1, 0]
    assert graph.nodes["hidden.w_in"].weight.shape == (6, 4) and graph.nodes["readout.w_in"].weight.shape == (1, 6)
    # continuous time constants other tools can read: tau = dt / (1 - decay), one Euler step gives unit gain
    net = Network(spec, dtype=torch.float64)
    params = net.params(genome_for(spec))
    decay = net.neuron_field(params, 1, "decay_mem")[0].numpy()
    cuba = graph.nodes["hidden.neuron"]
    # decay 1 (no leak): a finite tau = dt * 2**40 (tau = r = inf made a reader's gain r dt / tau inf / inf = NaN)
    assert cuba.tau_mem[0] == DT * 2**40 and cuba.tau_mem[1] == pytest.approx(DT)
    np.testing.assert_allclose(1.0 - DT / cuba.tau_mem, decay, rtol=0.0, atol=1e-12)
    np.testing.assert_allclose(cuba.r * DT / cuba.tau_mem, 1.0, rtol=1e-12)
    np.testing.assert_allclose(cuba.w_in * DT / cuba.tau_syn, 1.0, rtol=1e-12)
    assert np.all(cuba.v_reset == 0) and np.all(cuba.v_leak == 0)


def test_round_trip_paired_cuba_recurrent_readout(tmp_path) -> None:
    spec = controller()
    genome = genome_for(spec)
    imported, genome_back = import_nir(export_nir(spec, genome))
    assert_same_structure(spec, imported)
    assert_same_parameters(spec, genome, imported, genome_back)
    assert_same_behaviour(spec, genome, imported, genome_back)

    path = save_nir(tmp_path / "ctl.nir", spec, genome)
    assert path.exists() and os.listdir(tmp_path) == ["ctl.nir"]  # no temp file left behind
    save_nir(path, spec, genome_for(spec, seed=2))  # overwriting replaces the file atomically
    loaded, genome_loaded = load_nir(path)
    assert_same_structure(spec, loaded)
    assert_same_behaviour(spec, genome_for(spec, seed=2), loaded, genome_loaded)
    assert sorted(os.listdir(tmp_path)) == ["ctl.nir"]


@pytest.mark.parametrize(
    ("synaptic", "reset", "refractory"), [(False, "soft", 0), (True, "hard", 0), (False, "hard", 2)]
)
def test_round_trip_variants(synaptic: bool, reset: str, refractory: int) -> None:
    spec = controller(synaptic=synaptic, reset=reset, refractory=refractory)
    genome = genome_for(spec, seed=3)
    graph = export_nir(spec, genome)
    assert type(graph.nodes["hidden.neuron"]) is (nir.CubaLIF if synaptic else nir.LIF)
    imported, genome_back = import_nir(graph)
    assert imported.layers[1].neuron == LIF(synaptic=synaptic, reset=reset, refractory=refractory)
    assert_same_parameters(spec, genome, imported, genome_back)
    assert_same_behaviour(spec, genome, imported, genome_back)


def simulate_nir_chain(w1, b1, cuba: dict, w2, li: dict, xs: np.ndarray, dt: float):
    """Independent forward-Euler reference of input -> Affine -> CubaLIF -> Linear -> LI (NIR's equations)."""
    i = np.zeros(w1.shape[0])
    v = np.zeros(w1.shape[0])
    y = np.zeros(w2.shape[0])
    spikes, outs = [], []
    for x in xs:
        i = i + dt / cuba["tau_syn"] * (-i + cuba["w_in"] * (w1 @ x + b1))
        v = v + dt / cuba["tau_mem"] * (-v + cuba["r"] * i)
        z = (v > cuba["v_threshold"]).astype(float)
        v = np.where(z > 0, 0.0, v)
        y = y + dt / li["tau"] * (-y + li["r"] * (w2 @ z))
        spikes.append(z)
        outs.append(y.copy())
    return np.array(spikes), np.array(outs)


def test_foreign_chain_graph_imports_and_runs() -> None:
    """A graph as another tool writes it: continuous time constants, its own gains, no metadata."""
    rng = np.random.default_rng(4)
    dt = 1e-3
    w1, b1, w2 = rng.normal(0, 1.0, (5, 2)), rng.normal(0.3, 0.2, 5), rng.normal(0, 1.0, (1, 5))
    w2[0, 2] = 0.0  # no synapse: the energy report counts no operation for it
    cuba = {
        "tau_syn": np.full(5, 5e-3),
        "tau_mem": rng.uniform(8e-3, 20e-3, 5),
        "r": np.full(5, 10.0),  # not our tau/dt convention: the gain is folded into the weights
        "w_in": np.full(5, 5.0),
        "v_threshold": np.full(5, 0.25),
        "v_leak": np.zeros(5),
    }
    li = {"tau": np.array([20e-3]), "r": np.array([1.0]), "v_leak": np.zeros(1)}
    graph = nir.NIRGraph(
        nodes={
            "in": nir.Input(input_type={"input": np.array([2])}),
            "fc1": nir.Affine(weight=w1, bias=b1),
            "lif1": nir.CubaLIF(**cuba),
            "fc2": nir.Linear(weight=w2),
            "li": nir.LI(**li),
            "out": nir.Output(output_type={"output": np.array([1])}),
        },
        edges=[("in", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "li"), ("li", "out")],
    )
    with pytest.raises(SpecError, match="dt"):
        import_nir(graph)
    spec, genome = import_nir(graph, dt=dt)
    assert spec.n_inputs == 2 and [lay.name for lay in spec.layers] == ["lif1", "li"]
    assert spec.layers[0].input.mask is None and spec.layers[1].input.structure(5, 1)[:, 0].tolist() == [
        True,
        True,
        False,
        True,
        True,
    ]
    assert spec.layers[0].neuron == LIF(synaptic=True, reset="hard") and spec.layers[1].neuron == LeakyIntegrator()
    values = spec.parameters.unflatten(torch.as_tensor(genome[None, :]))
    np.testing.assert_allclose(values["lif1.decay_mem"][0].numpy(), 1 - dt / cuba["tau_mem"], rtol=1e-12)
    np.testing.assert_allclose(values["lif1.decay_syn"][0].numpy(), 0.8, rtol=1e-12)

    xs = rng.normal(0.5, 1.0, (400, 2))
    ref_spikes, ref_outs = simulate_nir_chain(w1, b1, cuba, w2, li, xs, dt)
    trace = run(spec, genome, xs[:, None, :], dtype=torch.float64)
    assert ref_spikes.sum() > 0
    np.testing.assert_array_equal(trace.layers["lif1"][:, 0].numpy(), ref_spikes)
    np.testing.assert_allclose(trace.outputs[:, 0].numpy(), ref_outs, rtol=1e-9, atol=1e-12)


def test_tau_shorter_than_dt_is_rejected() -> None:
    graph = nir.NIRGraph.from_list(
        nir.Linear(weight=np.ones((2, 1))), nir.LI(np.full(2, 1e-3), np.ones(2), np.zeros(2))
    )
    with pytest.raises(SpecError, match="shorter than dt"):
        import_nir(graph, dt=0.01)


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (NetworkSpec(1, (Layer("g", 3, Graded()),)), "Graded"),
        (NetworkSpec(1, (Layer("d", 3, LIF(), input=Connection(delay=2)),)), "delays"),
        (NetworkSpec(1, (Layer("p", 3, LIF()),), encoder=PoissonEncoder()), "encoder 'poisson'"),
        (NetworkSpec(1, (Layer("p", 3, LIF()),), decoder=RateDecoder()), "decoder 'rate'"),
    ],
)
def test_unsupported_features_raise(spec: NetworkSpec, message: str) -> None:
    with pytest.raises(SpecError, match=message):
        export_nir(spec, spec.parameters.initial())


def test_round_trip_of_the_pd_i_composite_with_threshold_adaptation_and_sample_hold(tmp_path: Path) -> None:
    """IWTA threshold weights, spike-triggered adaptation and the sample-hold input stage live in our metadata:
    a composite PD + I controller (tied, block-structured) comes back as dense layers that behave the same."""
    pd, i = pd_snn("lif", n_pairs=2, n_hidden=5), i_snn("iwta", n_pairs=2, n_hidden=4)
    spec = parallel([pd, i], name="pdi")
    rng = np.random.default_rng(4)
    genome = parallel_genome([pd, i], [genome_for(pd, 4), genome_for(i, 5)])
    path = save_nir(tmp_path / "pdi.nir", spec, genome)
    imported, genome_back = load_nir(path)
    assert isinstance(imported.encoder, SampleHoldEncoder)
    assert imported.layers[1].neuron == LIF(adaptation="iwta") and imported.layers[1].threshold_input is not None
    xs = rng.normal(0.0, 0.4, size=(300, 1, 1))
    xs[[20, 21, 150]] = np.nan  # dropouts, held by the input stage
    a, b = run(spec, genome, xs, torch.float64), run(imported, genome_back, xs, torch.float64)
    for layer in ("encoder", "hidden"):
        assert a.layers[layer].sum() > 0 and torch.equal(a.layers[layer], b.layers[layer])
    torch.testing.assert_close(a.outputs, b.outputs, rtol=0.0, atol=1e-9)
    spike = NetworkSpec(1, (Layer("a", 3, LIF(adaptation="spike"), bias=True),), dt=DT)
    spike_genome = genome_for_any(spike)
    assert_same_parameters(spike, spike_genome, *import_nir(export_nir(spike, spike_genome)))


def test_round_trip_of_the_shipped_blimp_counts_the_same_synaptic_operations() -> None:
    """Import flattens tied and block structure to dense matrices; their zero weights are no synapses (masked),
    so the energy report of the imported network counts what the original's does (it counted twice as many)."""
    controller = load_controller(resolve("shipped:blimp"))
    spec, genome = import_nir(export_nir(controller.spec, controller.genome))
    assert any(layer.input.mask is not None for layer in spec.layers)
    xs = np.random.default_rng(2).normal(0.0, 0.3, size=(300, 1, 1))
    a, b = run(controller.spec, controller.genome, xs, torch.float64), run(spec, genome, xs, torch.float64)
    assert a.state.sops.item() > 0 and a.state.sops.item() == b.state.sops.item()
    assert torch.equal(a.state.spikes.sum(), b.state.spikes.sum())
    graph = export_nir(controller.spec, controller.genome)
    node = graph.nodes[next(key for key in graph.nodes if key.endswith(".w_in"))]
    node.metadata = {"snncontrol": json.dumps({"synapses": np.zeros_like(node.weight, dtype=int).tolist()})}
    with pytest.raises(SpecError, match="nonzero weight where its snncontrol metadata lists no synapse"):
        import_nir(graph)


def genome_for_any(spec: NetworkSpec, seed: int = 0) -> np.ndarray:
    return spec.parameters.sample(1, np.random.default_rng(seed))[0]


def test_strict_export_rejects_metadata_only_features() -> None:
    iwta = i_snn("iwta", n_pairs=2, n_hidden=3)
    with pytest.raises(SpecError, match="sample-hold"):
        export_nir(iwta, genome_for_any(iwta), strict=True)
    bare = NetworkSpec(1, (Layer("a", 3, LIF(reset="hard", adaptation="iwta"), threshold_input=Connection()),))
    with pytest.raises(SpecError, match="adaptation 'iwta'"):
        export_nir(bare, genome_for_any(bare), strict=True)
    spec = controller()
    with pytest.raises(SpecError, match="layer 'enc': soft reset"):
        export_nir(spec, genome_for(spec), strict=True)
    hard = controller(reset="hard")
    with pytest.raises(SpecError, match="layer 'enc'"):  # the paired encoder is soft-reset LIF too
        export_nir(hard, genome_for(hard), strict=True)


def test_export_takes_one_individual() -> None:
    spec = controller()
    with pytest.raises(GenomeError, match="one individual"):
        export_nir(spec, np.stack([genome_for(spec), genome_for(spec, seed=1)]))


def test_unknown_node_type_raises() -> None:
    graph = nir.NIRGraph.from_list(
        nir.Linear(weight=np.ones((2, 1))),
        nir.Scale(scale=np.ones(2)),
        nir.LIF(np.full(2, 0.1), np.full(2, 10.0), np.zeros(2), np.ones(2)),
    )
    with pytest.raises(SpecError, match="NIR node 'scale' of type Scale is not supported"):
        import_nir(graph, dt=0.01)


def test_branching_graph_raises() -> None:
    lif = nir.LIF(np.full(2, 0.1), np.full(2, 10.0), np.zeros(2), np.ones(2))
    graph = nir.NIRGraph(
        nodes={
            "input": nir.Input(input_type={"input": np.array([1])}),
            "a": nir.Linear(weight=np.ones((2, 1))),
            "b": nir.Linear(weight=np.ones((2, 1))),
            "lif": lif,
            "output": nir.Output(output_type={"output": np.array([2])}),
        },
        edges=[("input", "a"), ("input", "b"), ("a", "lif"), ("b", "lif"), ("lif", "output")],
    )
    with pytest.raises(SpecError, match="NIR node 'input' must have exactly one forward successor"):
        import_nir(graph, dt=0.01)


def test_edited_time_constants_override_stale_metadata() -> None:
    """Metadata decays are only used where they agree with the node's tau: another tool's edit wins."""
    spec = controller()
    graph = export_nir(spec, genome_for(spec))
    graph.nodes["readout.neuron"].tau = np.array([0.1])
    imported, genome = import_nir(graph)
    entry = imported.parameters.by_name["readout.decay_mem"]
    assert genome[entry.slice] == pytest.approx(1.0 - DT / 0.1, rel=1e-12)


def test_load_unreadable_file_raises_artifact_error(tmp_path) -> None:
    path = tmp_path / "broken.nir"
    path.write_bytes(b"not an HDF5 file")
    with pytest.raises(ArtifactError, match=r"broken\.nir"):
        load_nir(path)


def test_cli_exports_an_artifact_to_a_nir_file_that_imports_back(tmp_path: Path) -> None:
    import subprocess
    import sys

    spec = NetworkSpec(n_inputs=1, layers=(paired_encoding("enc", 2), leaky_readout("out")))
    genome = spec.parameters.sample(1, np.random.default_rng(0))[0]
    artifact = save_controller(tmp_path / "ctrl", spec, genome)
    result = subprocess.run(
        [sys.executable, "-m", "snncontrol.cli", "export-nir", str(artifact), str(tmp_path / "ctrl.nir")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    imported_spec, _ = load_nir(tmp_path / "ctrl.nir")
    assert [layer.size for layer in imported_spec.layers] == [4, 1]


def test_a_decay_outside_0_1_never_reaches_the_export() -> None:
    """Bounds a user widened allowed decays NIR's time constants cannot carry (1.5 came back as 1, -0.5 did not load):
    the spec refuses such bounds now (snncontrol.neurons.models.LIMITS), before any genome or export."""
    with pytest.raises(SpecError, match=r"bounds\['decay_mem'\] must stay within \[0, 1\]"):
        NetworkSpec(1, (Layer("h", 2, LIF(), bias=True, bounds={"decay_mem": (-0.5, 1.5)}), leaky_readout("o", 1)))


def test_non_numeric_values_in_a_graph_are_one_spec_error_naming_the_field() -> None:
    """A hand-edited or foreign file may carry strings where numbers belong: one line naming node and field."""
    pd, i = pd_snn("lif", n_pairs=2, n_hidden=5), i_snn("iwta", n_pairs=2, n_hidden=4)
    spec = parallel([pd, i], name="pdi")
    genome = parallel_genome([pd, i], [genome_for(pd, 4), genome_for(i, 5)])

    def edited(edit) -> nir.NIRGraph:
        graph = export_nir(spec, genome)
        edit(graph)
        return graph

    def weight(graph: nir.NIRGraph) -> None:
        node = next(n for n in graph.nodes.values() if isinstance(n, nir.Affine | nir.Linear))
        node.weight = np.full(node.weight.shape, "x", dtype=object)

    def threshold(graph: nir.NIRGraph) -> None:
        node = next(n for n in graph.nodes.values() if isinstance(n, nir.CubaLIF | nir.LIF))
        node.v_threshold = np.full(node.v_threshold.shape, "high", dtype=object)

    def dt(graph: nir.NIRGraph) -> None:
        graph.metadata["dt"] = "fast"

    def missing(graph: nir.NIRGraph) -> None:
        node = next(n for n in graph.nodes.values() if isinstance(n, nir.CubaLIF | nir.LIF))
        node.v_threshold = None

    for edit, message in ((weight, "weight is missing or not numeric"), (threshold, "v_threshold is missing or not"),
                          (missing, "v_threshold is missing"), (dt, "metadata 'dt' is not a number")):
        with pytest.raises(SpecError, match=message):
            import_nir(edited(edit))


# --- what a plain NIR reader sees, the I/O adapters, the output file ---------------------------------------------
def simulate_plain(graph: nir.NIRGraph, xs: np.ndarray) -> np.ndarray:
    """Outputs [T, n_out] of the graph as a reader that knows NIR only (no snncontrol metadata) simulates it:
    forward Euler of NIR's equations, hard reset to 0, fixed thresholds, the raw input."""
    dt = float(graph.metadata["dt"])
    chain, state = [], {}
    source = "input"
    while (w_key := next(d for s, d in graph.edges if s == source and not d.endswith(".w_rec"))) != "output":
        source = next(d for s, d in graph.edges if s == w_key)
        chain.append((w_key, source))
    outs = []
    for x in xs:
        for w_key, n_key in chain:
            weights, node = graph.nodes[w_key], graph.nodes[n_key]
            current = weights.weight @ x + (weights.bias if isinstance(weights, nir.Affine) else 0.0)
            i, v, s = state.get(n_key, (0.0, 0.0, np.zeros(len(current))))
            if f"{n_key[:-7]}.w_rec" in graph.nodes:
                current = current + graph.nodes[f"{n_key[:-7]}.w_rec"].weight @ s
            if isinstance(node, nir.CubaLIF):
                i = i + dt / node.tau_syn * (-i + node.w_in * current)
                tau = node.tau_mem
            else:
                i, tau = current, node.tau
            v = v * (1.0 - s) if not isinstance(node, nir.LI) else v
            v = v + dt / tau * (-v + node.r * i)
            s = v if isinstance(node, nir.LI) else (v > node.v_threshold).astype(float)
            state[n_key] = (i, v, s)
            x = s
        outs.append(x)
    return np.array(outs)


def test_integrating_neurons_are_written_so_that_a_plain_reader_computes_with_them() -> None:
    """A decay of 1 was written as tau_syn = w_in = inf: a reader's per-step gain w_in dt / tau_syn was NaN."""
    spec = NetworkSpec(1, (Layer("h", 3, LIF(reset="hard"), bias=True), leaky_readout("out", 1)), dt=DT)
    genome = genome_for_any(spec, 1)
    for name in ("h.decay_syn", "h.decay_mem", "out.decay_mem"):
        genome[spec.parameters.by_name[name].slice] = 1.0  # integrators
    genome[spec.parameters.by_name["h.theta"].slice] = 0.5
    graph = export_nir(spec, genome)
    for node in (graph.nodes["h.neuron"], graph.nodes["out.neuron"]):
        for name in ("tau", "tau_mem", "tau_syn", "r", "w_in"):
            assert np.all(np.isfinite(getattr(node, name, 0.0))), name
    xs = np.random.default_rng(3).normal(0.2, 1.0, (200, 1))
    ours = run(spec, genome, xs[:, None, :], torch.float64)
    plain = simulate_plain(graph, xs)
    assert ours.layers["h"].sum() > 0
    np.testing.assert_allclose(plain, ours.outputs[:, 0].numpy(), rtol=1e-9, atol=1e-9)
    imported, genome_back = import_nir(graph)
    assert_same_parameters(spec, genome, imported, genome_back)  # the decays come back exactly 1
    graph.nodes["h.neuron"].metadata = {}  # without our metadata too: tau >= dt * 2**40 reads as no leak
    assert_same_parameters(spec, genome, *import_nir(graph))


def test_metadata_only_features_are_listed_by_layer() -> None:
    controller = load_controller(resolve("shipped:blimp"))
    assert metadata_only_features(controller.spec) == [
        "the sample-hold input stage", "soft reset (layers encoder, hidden)", "LIF adaptation 'iwta' (layer hidden)"
    ]
    hard = NetworkSpec(1, (Layer("a", 2, LIF(reset="hard", refractory=2)), leaky_readout()))
    assert metadata_only_features(hard) == ["refractory period (layer a)"]
    plain = NetworkSpec(1, (Layer("a", 2, LIF(reset="hard")), leaky_readout()))
    assert metadata_only_features(plain) == []
    export_nir(plain, genome_for_any(plain), strict=True)


def test_export_nir_warns_in_one_line_of_what_a_plain_reader_does_not_see(tmp_path: Path, capsys) -> None:
    from snncontrol.cli import main

    assert main(["export-nir", "shipped:swimmer_ncap", str(tmp_path / "ncap.nir")]) == 0
    captured = capsys.readouterr()
    assert captured.out == f"wrote {tmp_path / 'ncap.nir'}\n"
    assert captured.err.count("\n") == 1 and "warning" in captured.err
    assert "soft reset (layers sensory, bneuron, muscle)" in captured.err and "--strict" in captured.err
    plain = NetworkSpec(1, (Layer("a", 2, LIF(reset="hard")), leaky_readout()))
    artifact = save_controller(tmp_path / "plain", plain, genome_for_any(plain))
    assert main(["export-nir", str(artifact), str(tmp_path / "plain.nir")]) == 0
    assert capsys.readouterr().err == ""  # nothing to warn of
    assert main(["export-nir", "shipped:blimp", str(tmp_path / "strict.nir"), "--strict"]) == 2
    assert "sample-hold input stage has no NIR equivalent" in capsys.readouterr().err


def test_strict_help_names_every_feature_it_refuses(capsys) -> None:
    from snncontrol.cli import main

    with pytest.raises(SystemExit):
        main(["export-nir", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert all(word in text for word in ("soft reset", "refractory", "adaptation", "sample-hold"))


def test_the_io_adapters_travel_in_the_graph_metadata(tmp_path: Path) -> None:
    controller = load_controller(resolve("shipped:blimp"))
    path = save_nir(tmp_path / "blimp.nir", controller.spec, controller.genome, adapters=controller.io)
    graph = read_nir(path)
    spec, _ = import_nir(graph)
    assert import_io(graph, spec) == controller.io
    assert load_nir(path)[0].to_dict() == spec.to_dict()
    bare = save_nir(tmp_path / "bare.nir", controller.spec, controller.genome)  # a file without them loads
    assert import_io(read_nir(bare), spec) == IOAdapters()
    graph.metadata["io"] = json.dumps({"observation": {"kind": "select", "indices": [0, 1]}})
    with pytest.raises(SpecError, match=r"metadata 'io': the observation adapter \(select\) makes 2 inputs"):
        import_io(graph, spec)
    graph.metadata["io"] = "{not json"
    with pytest.raises(SpecError, match="metadata 'io' is not valid JSON"):
        import_io(graph, spec)
    misfit = IOAdapters(action=ActionAdapter("affine_clip", scale=(1.0, 2.0)))
    with pytest.raises(SpecError, match="scale has 2 values for 1 channel"):
        export_nir(controller.spec, controller.genome, adapters=misfit)


def test_the_shipped_nir_file_is_a_fresh_export_of_the_shipped_controller(tmp_path: Path) -> None:
    """snncontrol/controllers/blimp_pd_i.nir is `snncontrol export-nir shipped:blimp` (adapters included)."""
    shipped = Path(resolve("shipped:blimp")).with_suffix(".nir")
    controller = load_controller(resolve("shipped:blimp"))
    fresh = save_nir(tmp_path / "fresh.nir", controller.spec, controller.genome, adapters=controller.io)
    assert fresh.read_bytes() == shipped.read_bytes()
    assert import_io(read_nir(shipped), controller.spec) == controller.io


def test_save_nir_writes_only_over_a_nir_file(tmp_path: Path) -> None:
    """Any regular file was replaced whatever its name (an artifact's controller.json, a dataset)."""
    spec = controller()
    genome = genome_for(spec)
    for name in ("controller.json", "flights.npz", "graph"):
        (tmp_path / name).write_text("keep")
        with pytest.raises(ArtifactError, match=rf"{name}: a NIR graph is an HDF5 file: give a name ending in .nir"):
            save_nir(tmp_path / name, spec, genome)
        assert (tmp_path / name).read_text() == "keep"
    (tmp_path / "old.nir").write_text("not HDF5")
    with pytest.raises(ArtifactError, match=r"old\.nir exists and is not an HDF5 file: not replaced"):
        save_nir(tmp_path / "old.nir", spec, genome)
    assert (tmp_path / "old.nir").read_text() == "not HDF5"
    (tmp_path / "empty.nir").touch()  # e.g. made by `mktemp --suffix .nir`
    assert_same_parameters(spec, genome, *load_nir(save_nir(tmp_path / "empty.nir", spec, genome)))
    for name in ("a.nir", "b.H5", "c.hdf5"):
        save_nir(tmp_path / name, spec, genome)
        save_nir(tmp_path / name, spec, genome_for(spec, seed=2))  # an earlier export is replaced
        assert_same_parameters(spec, genome_for(spec, seed=2), *load_nir(tmp_path / name))


def test_a_graph_with_step_counted_features_imports_only_at_its_own_dt() -> None:
    """At another dt the decays were resampled but the refractory period (steps) and the threshold adaptation's
    decay (per step) were not: 30 ms of refractory period became 15 ms without a word."""
    spec = controller(refractory=3)
    graph = export_nir(spec, genome_for(spec))
    with pytest.raises(SpecError, match=r"NIR node 'hidden.neuron': its threshold adaptation and refractory period "
                                        r"are counted in steps of the graph.s dt 0.02 s; import it at that dt"):
        import_nir(graph, dt=0.01)
    assert import_nir(graph, dt=DT)[0].dt == DT
    plain = controller()
    assert import_nir(export_nir(plain, genome_for(plain)), dt=0.01)[0].dt == 0.01  # the decays are resampled


def test_input_and_output_nodes_must_have_the_sizes_the_weights_give() -> None:
    """A graph whose Input said 5 and Output 7 imported as 1 input and 1 output."""
    spec = controller()
    for key, node in (("input", nir.Input(input_type={"input": np.array([5])})),
                      ("output", nir.Output(output_type={"output": np.array([7])}))):
        graph = export_nir(spec, genome_for(spec))
        graph.nodes[key] = node
        with pytest.raises(SpecError, match=rf"NIR node '{key}' \(\w+\) has (5|7) values; the weights give 1 {key}s"):
            import_nir(graph)
