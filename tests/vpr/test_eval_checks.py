"""`vpr eval` refuses what would measure nothing: references the ensemble was not trained on, an output folder that
is (or lies in) a traversal, a tolerance that counts every place as correct; and `vpr train` / `vpr eval` keep
only the preprocessed images of the traversals they read."""

import re
import shutil
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from snncontrol.cli import main
from snncontrol.vpr import cli, metrics, train  # cli: imported here, not in the traced commands below
from snncontrol.vpr.config import ModuleConfig, TrainConfig
from snncontrol.vpr.errors import VprConfigError

TINY = ["--epochs", "1", "--n-exc", "10", "--present-ms", "5"]


@pytest.fixture(scope="module")
def ensemble(route: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(ensemble trained on route/day, its calibration traversal: a copy of route/fog that tests may write in)."""
    root = tmp_path_factory.mktemp("eval_checks")
    calibration = shutil.copytree(route / "fog", root / "fog")
    ens = root / "ens"
    argv = ["vpr", "train", "--reference", str(route / "day"), "--calibration", str(calibration), "--out", str(ens)]
    assert main([*argv, *TINY]) == 0
    return ens, calibration


def _refused(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["vpr", *argv]) == 2, argv
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err


def test_eval_refuses_a_reference_the_ensemble_was_not_trained_on(ensemble, route: Path, tmp_path: Path, capsys):
    """Trained on one route's `day` and evaluated with --reference another route's: exit 0, 'snn R@1 0.950, sad
    R@1 0.017' (the ensemble's place numbers against other images). The same images in another folder, format
    or as the bag pass (content, not paths)."""
    ens, _ = ensemble
    day, dusk = route / "day", route / "dusk+autumn"
    shifted = tmp_path / "shifted"  # the same images, one place out of step
    shifted.mkdir()
    for k in range(30):
        shutil.copy(day / f"{(k + 1) % 30:06d}.png", shifted / f"{k:06d}.png")
    bmp = tmp_path / "bmp"  # the same images as BMP
    bmp.mkdir()
    for png in day.glob("*.png"):
        Image.open(png).save(bmp / f"{png.stem}.bmp")
    trained_on = f"the ensemble was trained on (ensemble.json: {day.resolve()})"
    _refused(["eval", str(ens), "--reference", str(shifted), "--query", str(dusk)],
             f"--reference {shifted} shows other images than the references {trained_on}: 30 of its 30 differ "
             "(the first: 000000.png)", capsys)
    _refused(["eval", str(ens), "--reference", str(bmp), str(route / "fog"), "--query", str(dusk)],
             f"--reference {route / 'fog'} shows other images than the references {trained_on}", capsys)
    for reference in (bmp, route / "bags" / "day"):
        assert main(["vpr", "eval", str(ens), "--reference", str(reference), "--query", str(dusk)]) == 0
    capsys.readouterr()


def test_eval_writes_no_plots_into_a_traversal(ensemble, route: Path, tmp_path: Path, capsys):
    """--out-dir the ensemble's calibration traversal wrote pr.png and similarity.png into it, and the next
    `vpr train --calibration` there failed; a folder of images, or one inside a traversal, is refused too.
    Rerunning into an out-dir of an earlier evaluation (its own pr.png, similarity.png) is fine."""
    ens, calibration = ensemble
    evaluate = ["eval", str(ens), "--reference", str(route / "day"), "--query", str(route / "dusk+autumn")]
    _refused([*evaluate, "--out-dir", str(calibration)],
             f"--out-dir {calibration} is the ensemble's calibration traversal (ensemble.json): give a folder", capsys)
    _refused([*evaluate, "--out-dir", str(calibration / "results")],
             f"--out-dir {calibration / 'results'} is inside {calibration.resolve()}, the ensemble's calibration",
             capsys)
    assert not (calibration / "results").exists() and len(list(calibration.iterdir())) == 31  # 30 images, poses
    pictures = tmp_path / "pictures"
    pictures.mkdir()
    Image.new("L", (4, 4)).save(pictures / "holiday.jpg")
    _refused([*evaluate, "--out-dir", str(pictures)],
             f"--out-dir {pictures} holds 1 image(s) (the first: holiday.jpg), as a traversal does", capsys)
    for _ in range(2):
        assert main(["vpr", *evaluate, "--out-dir", str(tmp_path / "res")]) == 0
    assert {p.name for p in (tmp_path / "res").iterdir()} == {"metrics.json", "pr.png", "similarity.png"}
    capsys.readouterr()


def test_a_tolerance_of_every_place_is_refused_before_any_image_is_read(ensemble, route: Path, monkeypatch,
                                                                        capsys):
    """--tolerance had no upper bound: 1e8 tried to allocate 96 GB. At 29 frames (30 places) every place is a
    correct match already; 30 or more is refused, before a traversal is read."""
    ens, _ = ensemble
    monkeypatch.setattr(cli, "_load", lambda *_: pytest.fail("a traversal was read"))
    evaluate = ["eval", str(ens), "--reference", str(route / "day"), "--query", str(route / "dusk+autumn")]
    for tolerance in ("30", "100000000"):
        _refused([*evaluate, "--tolerance", tolerance],
                 f"--tolerance must be 0..29 frames (below the 30 reference places), got {tolerance}", capsys)


def test_metrics_clamp_a_window_wider_than_the_places_and_training_refuses_it():
    """A window of +-1e15 frames was allocated whole; clamped to the row it gives the same ranks. Training with a
    calibration refuses a tolerance of as many frames as places (its Recall@1 would count every place)."""
    sim = torch.rand(6, 5, generator=torch.Generator().manual_seed(0))
    sim[2, 1] = torch.nan
    for truth in (torch.tensor([0, 1, 2, 3, 4, 4]), torch.tensor([-3, 0, 2, 7, 4, 9])):  # in and out of the row
        for tolerance in (12, 10**15):  # every place in the window of every query: no wrong place ranks above
            assert torch.equal(metrics.rank(sim, truth, tolerance), torch.zeros(6, dtype=torch.int64))
        assert metrics.summarize(sim, truth, 10**15)["recall_at_1"] == 1.0
    pixels = torch.rand(4, 784) * 255
    calibration = train.Calibration(pixels, torch.arange(4))
    with pytest.raises(VprConfigError, match=re.escape("train.tolerance must be 0..3 frames (below the 4 reference "
                                                       "places), got 4")):
        train.train(pixels, ModuleConfig(n_exc=5, present=5.0), TrainConfig(tolerance=4), 0, calibration)


def test_train_and_eval_keep_only_the_preprocessed_images(tmp_path: Path, capsys):
    """Every full-resolution image of the references and the calibration (train) or query (eval) was held until
    preprocessing: 120 1080p JPEGs took 711 MB for 0.37 MB of 28x28 results."""
    ramp = np.linspace(0, 255, 1280, dtype=np.float32)
    for name, shift in (("ref", 0), ("cal", 5), ("query", 11)):
        (tmp_path / name).mkdir()
        for k in range(12):  # 720p RGB: 2.8 MB each decoded, 33 MB a traversal
            row = (np.roll(ramp, 97 * k + shift) + 3 * shift) % 256
            image = np.broadcast_to(row.astype(np.uint8)[None, :, None], (720, 1280, 3))
            Image.fromarray(image).save(tmp_path / name / f"{k}.png")
    ens = tmp_path / "ens"
    ref, cal, query = (str(tmp_path / name) for name in ("ref", "cal", "query"))
    runs = (["train", "--reference", ref, "--calibration", cal, "--out", str(ens), *TINY],
            ["eval", str(ens), "--reference", ref, "--query", query])
    for argv in runs:
        tracemalloc.start()
        try:
            assert main(["vpr", *argv]) == 0, capsys.readouterr().err
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
        # one frame at a time (train 9 MB, eval 6 MB; traced: numpy and Python, not torch), not every frame of the
        # references and the calibration traversal or query (train 71 MB before)
        assert peak < 12 * 720 * 1280 * 3 / 2, (argv[0], peak)  # less than half of one traversal's frames


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--threshold", "40", "--calibration", "{fog}"], "--threshold is T without calibration; with --calibration"),
        (["--tolerance", "2"], "--tolerance sets how far a calibration match may lie: give --calibration with it"),
        (["--epochs", "1000000000"], "train.epochs must be at most 1000"),  # (a run of 17,500 hours began)
        (["--threshold", "1"], "T=1 silences every one of the"),  # saved, it answered place 0 to every query
    ],
)
def test_train_options_that_would_be_ignored_or_silence_everything_are_refused(route: Path, tmp_path: Path, capsys,
                                                                                 extra, message):
    """Each was recorded or run as given: --threshold beside a calibration (its T used), --tolerance without one."""
    argv = ["vpr", "train", "--reference", str(route / "day"), "--out", str(tmp_path / "ens"), *TINY,
            *[part.format(fog=route / "fog") for part in extra]]
    assert main(argv) == 2
    err = capsys.readouterr().err  # (after the training's progress bar where it ran)
    assert message in err.strip().splitlines()[-1] and "Traceback" not in err, err
    assert not (tmp_path / "ens").exists()
