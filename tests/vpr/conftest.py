"""A small generated route shared by the place-recognition tests (rendered once per session): reference `day`,
query `dusk+autumn`, calibration `fog`, each as an image folder and as a bag."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

# The modules' tensors are small: one thread avoids oversubscribing this shared 2-core machine.
torch.set_num_threads(1)

PLACES = 30


@pytest.fixture(scope="session")
def route(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from sim_envs.routes import generate_route

    return generate_route(
        tmp_path_factory.mktemp("route") / "r", PLACES, ["day", "dusk+autumn", "fog"], seed=3, width=64, height=48
    )
