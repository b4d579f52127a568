"""Training on several reference traversals of the same places (the paper's protocol: Nordland spring + fall),
and SAD against them."""

from pathlib import Path

import numpy as np
import pytest
import torch

from snncontrol.cli import main
from snncontrol.vpr import Matcher, inference, module, train
from snncontrol.vpr.artifact import load_ensemble
from snncontrol.vpr.config import ModuleConfig, TrainConfig
from snncontrol.vpr.datasets.folders import load_folder
from snncontrol.vpr.ensemble import place_table
from snncontrol.vpr.errors import DatasetError
from snncontrol.vpr.evaluate import evaluate
from snncontrol.vpr.preprocess import preprocess
from snncontrol.vpr.sad import sad_similarity

SMALL = ModuleConfig(n_exc=100, present=100.0)


@pytest.fixture(scope="module")
def traversals(route: Path) -> tuple[torch.Tensor, torch.Tensor]:
    return tuple(torch.from_numpy(preprocess(load_folder(route / name).images)) for name in ("day", "dusk+autumn"))


def test_a_modules_images_are_its_places_in_every_traversal_by_hand():
    assert train.image_table(place_table(5, 2), 5, 2).tolist() == [[0, 1, 5, 6], [2, 3, 7, 8], [4, -1, 9, -1]]
    assert torch.equal(train.image_table(place_table(5, 2), 5, 1), place_table(5, 2))


def test_a_neuron_is_assigned_by_its_responses_summed_over_the_traversals(traversals):
    day, dusk = traversals
    stacked = torch.cat([day, dusk])
    weights = torch.rand(2, SMALL.n_in, SMALL.n_exc, generator=torch.Generator().manual_seed(0))
    module.normalize(weights, SMALL.w_total)
    table = place_table(30, 25)
    theta = torch.tensor(module.constants(SMALL).theta_e)

    def responses(pixels: torch.Tensor) -> torch.Tensor:
        """[M, K, N]: each module's winner-take-all rate responses to its places' images in one traversal."""
        images = torch.cat([pixels, torch.zeros(1, SMALL.n_in)])[table]  # -1 pads with a blank image
        drive = torch.bmm(inference.spike_probability(SMALL, images), weights)
        return inference.winner_take_all(inference.firing_rate(SMALL, drive, theta))

    summed = responses(day) + responses(dusk)
    best = summed.max(dim=1)
    expected = table.gather(1, best.indices).masked_fill(best.values <= 0, -1)
    assert torch.equal(train.assign(SMALL, weights, stacked, table, traversals=2), expected)
    assert not torch.equal(expected, train.assign(SMALL, weights, day, table))  # the second traversal counts


def test_the_second_traversal_is_learned_its_images_answer_their_places(traversals):
    """Wiring, not generalization: dusk is here both a reference and the query (the held-out comparison is
    `benchmarks/vpr.py --reference day dusk+autumn`, docs/place_recognition.md)."""
    day, dusk = traversals
    exact = {}
    for name, reference, count in (("day", day, 1), ("day+dusk", torch.stack([day, dusk]), 2)):
        ens, report = train.train(reference, SMALL, TrainConfig(epochs=1), seed=0)
        assert ens.places == 30 and report["reference_traversals"] == count
        places = Matcher(ens).similarity_of(dusk).argmax(1).numpy()
        exact[name] = float(np.mean(places == np.arange(30)))
    assert exact["day+dusk"] >= exact["day"] + 0.1, exact  # measured 0.60 against 0.43


def test_sad_against_several_traversals_takes_each_places_closest_image():
    query = torch.tensor([[0.0, 0.0], [10.0, 10.0]])
    first = torch.tensor([[4.0, 4.0], [9.0, 9.0]])
    second = torch.tensor([[1.0, 1.0], [20.0, 20.0]])
    by_hand = torch.tensor([[-1.0, -9.0], [-6.0, -1.0]])  # -mean |q - r|, the closer of the two images per place
    assert torch.equal(sad_similarity(query, torch.stack([first, second])), by_hand)
    assert torch.equal(sad_similarity(query, first), torch.tensor([[-4.0, -9.0], [-6.0, -1.0]]))


def test_the_cli_trains_on_two_references_and_refuses_mismatched_ones(route: Path, tmp_path: Path, capsys):
    out = tmp_path / "ens"
    day, dusk = str(route / "day"), str(route / "dusk+autumn")
    common = ["--epochs", "1", "--n-exc", "50", "--present-ms", "50"]
    assert main(["vpr", "train", "--reference", day, dusk, "--out", str(out), *common]) == 0
    assert "(2 reference traversal(s))" in capsys.readouterr().out
    assert load_ensemble(out).metadata["reference"] == [str(Path(day).resolve()), str(Path(dusk).resolve())]
    assert main(["vpr", "eval", str(out), "--reference", day, dusk, "--query", dusk]) == 2  # trained on
    assert f"--query {dusk} is a --reference" in capsys.readouterr().err
    dusk_bag = str(route / "bags" / "dusk+autumn")  # dusk's images again, under another path
    assert main(["vpr", "eval", str(out), "--reference", day, dusk, "--query", dusk_bag]) == 2
    assert f"--query {dusk_bag} has 30 of its 30 images in a --reference" in capsys.readouterr().err
    assert main(["vpr", "eval", str(out), "--reference", day, dusk, "--query", str(route / "fog")]) == 0
    assert "sad" in capsys.readouterr().out
    short = tmp_path / "short"
    short.mkdir()
    (short / "0.png").write_bytes((route / "day" / "000000.png").read_bytes())
    assert main(["vpr", "train", "--reference", day, str(short), "--out", str(tmp_path / "x"), *common]) == 2
    err = capsys.readouterr().err
    assert f"reference {short} has 1 images but reference {day} has 30" in err and len(err.strip().splitlines()) == 1
    with pytest.raises(DatasetError, match=r"\[R, P, 784\]"):
        train.train(torch.zeros(2, 2, 5, 784), SMALL, TrainConfig(epochs=1), seed=0)


def test_evaluate_scores_sad_against_every_reference_and_checks_the_place_count(traversals):
    day, dusk = traversals
    ens, _ = train.train(day, SMALL, TrainConfig(epochs=1), seed=0)
    both = torch.stack([day, dusk])
    results, sims = evaluate(Matcher(ens), both, dusk, torch.arange(30), tolerance=1)
    assert torch.equal(sims["sad"], sad_similarity(dusk, both)) and results["sad"]["recall_at_1"] == 1.0
    assert torch.equal(sims["snn"], evaluate(Matcher(ens), day, dusk, torch.arange(30), tolerance=1)[1]["snn"])
    with pytest.raises(DatasetError, match="trained on 30 places but the reference has 29"):
        evaluate(Matcher(ens), both[:, :29], dusk, torch.arange(30), tolerance=1)


def test_the_benchmark_renders_the_one_reference_order_and_queries_no_reference(load_benchmark):
    bench = load_benchmark("vpr")
    one, queries = bench.route_traversals(["day"], "fog", bench.HARD_QUERIES)
    assert one == ["day", "fog", *bench.HARD_QUERIES] and queries == bench.HARD_QUERIES
    two, queries = bench.route_traversals(["day", "dusk+autumn"], "fog", bench.HARD_QUERIES)
    assert two == one and "dusk+autumn" not in queries and len(queries) == len(bench.HARD_QUERIES) - 1
    assert bench.route_traversals(["day", "dusk"], "fog", ["snow"]) == (["day", "fog", "snow", "dusk"], ["snow"])
    # the calibration traversal (T and the epoch were chosen on it) is no query either, and is rendered once
    assert bench.route_traversals(["day"], "snow", ["rain", "snow"]) == (["day", "snow", "rain"], ["rain"])
    for references, asked, message in (
        (["day", "dusk+autumn"], ["dusk+autumn"], "every query is also a reference"),
        (["day"], ["fog", "day"], "every query is also a reference or the calibration"),
        (["day", "day"], ["snow"], "each once"),
        (["day", "fog"], ["snow"], "not the calibration fog"),
    ):
        with pytest.raises(SystemExit, match=message):
            bench.route_traversals(references, "fog", asked)
