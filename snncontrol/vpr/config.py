"""Configuration of a place-recognition ensemble: preprocessing, encoding, module biophysics, training.

Defaults follow Hussaini, Milford & Fischer (ICRA 2023) and Diehl & Cook (2015) except where a comment says
otherwise (two values, each measured on generated routes; see `module.py` and the README). Units are in the
field names' comments: ms, mV, Hz, or dimensionless. Everything is plain data (JSON round trip via
`to_dict`/`from_dict`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from snncontrol.params import is_finite_number
from snncontrol.vpr.errors import VprConfigError

#: The most excitatory neurons a module may have (the paper's modules have a few hundred).
MAX_N_EXC = 10_000
#: The most time steps one image may take (presentation + rest: 10 s at the default 1 ms).
MAX_STEPS_PER_IMAGE = 10_000
#: Bounds of a module's potentials (mV), time constants (ms; the threshold's default decay is 1e7) and
#: weights.
MAX_MV, MIN_TAU_MS, MAX_TAU_MS, MAX_MAGNITUDE = 1000.0, 1e-3, 1e9, 1e6
#: The largest side of a preprocessed image and of its normalization patch (pixels).
MAX_SIDE = 4096


@dataclass(frozen=True)
class ModuleConfig:
    """One excitatory/inhibitory winner-take-all module and its STDP rule."""

    n_exc: int = 400  # excitatory neurons (as many inhibitory)
    image_size: int = 28  # pixels per side after resizing (n_in = image_size**2 Poisson inputs)
    patch: int = 7  # pixels, side of the patch-normalization window
    rate_per_unit: float = 0.25  # Hz per pixel unit: pixel 255 -> 63.75 Hz
    dt: float = 1.0  # ms, time step
    present: float = 350.0  # ms an image is shown
    rest: float = 150.0  # ms of rest between images (fast state returns to rest; theta decays over it)
    # excitatory neurons
    v_rest_e: float = -65.0  # mV (also the reset)
    v_thresh_e: float = -52.0  # mV, before adaptation
    tau_e: float = 100.0  # ms, membrane
    refractory_e: float = 5.0  # ms
    theta_plus: float = 0.05  # mV added to the threshold per spike while learning
    tau_theta: float = 1e7  # ms, decay of the adaptive threshold
    # inhibitory neurons
    v_rest_i: float = -60.0  # mV (reset: see module.py)
    v_thresh_i: float = -40.0  # mV
    tau_i: float = 10.0  # ms
    refractory_i: float = 2.0  # ms
    # synapses (conductance weights of Diehl & Cook, turned into current kicks in module.py)
    tau_ge: float = 1.0  # ms
    tau_gi: float = 0.5  # ms
    e_exc: float = 0.0  # mV, excitatory reversal potential
    e_inh: float = -100.0  # mV, inhibitory reversal potential (onto excitatory neurons)
    w_ei: float = 10.4  # exc -> inh, one to one
    # inh -> every other exc. Diehl & Cook: 17, which here shunts only 8 % of the way to e_inh per spike, too
    # little against the drive of dense patch-normalized images (~4x that of MNIST digits): query Recall@1
    # 0.11 instead of 0.63 on 100 generated places. 200 shunts 63 % (w_ie * tau_gi / tau_e = 1).
    w_ie: float = 200.0
    # STDP on input -> exc
    tau_pre: float = 20.0  # ms
    tau_post1: float = 20.0  # ms
    tau_post2: float = 40.0  # ms
    nu_pre: float = 1e-4  # depression per pre spike (times post1 trace)
    # potentiation per post spike (times pre trace and post2 trace before the spike). Diehl & Cook: 1e-2 over
    # 60,000 digits; a module sees each place a few times only (Recall@1 0.40 instead of 0.63 on 100 places).
    nu_post: float = 5e-2
    w_max: float = 1.0
    w_init_max: float = 0.3  # initial weights uniform in [0, w_init_max]
    w_total: float = 78.0  # sum of the input weights of each exc neuron after normalization (per image)
    # input channels per pixel: 1 (the paper: the pixel's intensity x drives one input) or 2 (ON/OFF: x and
    # 255 - x, as retinal ON and OFF cells; a template then matches dark structure as well as bright)
    channels: int = 1

    @property
    def pixels(self) -> int:
        """Pixels of a preprocessed image (image_size^2)."""
        return self.image_size**2

    @property
    def n_in(self) -> int:
        """Network inputs: `channels` per pixel."""
        return self.channels * self.pixels

    def steps(self, ms: float) -> int:
        """Whole time steps (of `dt` ms) in `ms` ms, rounded."""
        return round(ms / self.dt)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if not is_finite_number(value):
                raise VprConfigError(f"module.{f.name} must be a finite number, got {value!r}")
        for name in ("n_exc", "image_size", "patch"):
            _check_integer(f"module.{name}", getattr(self, name), 1)
        for name in (
            "rate_per_unit",
            "dt",
            "present",
            "tau_e",
            "tau_i",
            "tau_ge",
            "tau_gi",
            "tau_pre",
            "tau_post1",
            "tau_post2",
            "tau_theta",
            "w_max",
            "w_total",
        ):
            if getattr(self, name) <= 0:
                raise VprConfigError(f"module.{name} must be positive, got {getattr(self, name)!r}")
        # magnitudes a module can compute with (tau_e 1e19 made every confidence NaN, v_rest_e 1e300 overflowed)
        for name in ("v_rest_e", "v_thresh_e", "v_rest_i", "v_thresh_i", "e_exc", "e_inh"):
            if abs(getattr(self, name)) > MAX_MV:
                raise VprConfigError(f"module.{name} must be within +-{MAX_MV:g} mV, got {getattr(self, name)!r}")
        for name in (f.name for f in fields(self) if f.name.startswith("tau_")):
            if not MIN_TAU_MS <= getattr(self, name) <= MAX_TAU_MS:  # (1e-300: a math domain error in training)
                raise VprConfigError(f"module.{name} must be {MIN_TAU_MS:g} .. {MAX_TAU_MS:g} ms, got "
                                     f"{getattr(self, name)!r}")
        for name in ("w_ei", "w_ie", "w_max", "w_init_max", "w_total", "theta_plus", "refractory_e", "refractory_i"):
            if abs(getattr(self, name)) > MAX_MAGNITUDE:
                raise VprConfigError(f"module.{name} must be within +-{MAX_MAGNITUDE:g}, got {getattr(self, name)!r}")
        for name in ("image_size", "patch"):
            if getattr(self, name) > MAX_SIDE:
                raise VprConfigError(f"module.{name} must be at most {MAX_SIDE} pixels, got {getattr(self, name)}")
        if self.patch % 2 == 0 or self.patch > 2 * self.image_size - 1:  # (an even one failed at query time; a
            # huge one needs memory in its square)
            raise VprConfigError(f"module.patch must be odd and at most 2 x image_size - 1 = {2 * self.image_size - 1} "
                                 f"pixels, got {self.patch}")
        if self.channels not in (1, 2) or isinstance(self.channels, float):
            raise VprConfigError(f"module.channels must be 1 (intensity) or 2 (ON/OFF), got {self.channels!r}")
        if self.steps(self.present) < 1:
            raise VprConfigError(
                f"module.present must last at least one time step (dt {self.dt} ms), got {self.present} ms"
            )
        if self.rest < 0:
            raise VprConfigError(f"module.rest must be >= 0 ms, got {self.rest} ms")
        # upper limits: a typo beyond them ran for hours or ran out of memory (`vpr train --present-ms 1e12`)
        if self.n_exc > MAX_N_EXC:
            raise VprConfigError(f"module.n_exc must be at most {MAX_N_EXC}, got {self.n_exc}")
        if self.steps(self.present) + self.steps(self.rest) > MAX_STEPS_PER_IMAGE:
            raise VprConfigError(f"module.present + rest must be at most {MAX_STEPS_PER_IMAGE} steps of {self.dt} ms "
                                 f"per image, got {self.present} + {self.rest} ms")
        if self.rate_per_unit * 255.0 * self.dt / 1000.0 > 1.0:
            raise VprConfigError("module.rate_per_unit * 255 * dt must stay below 1 spike per step")


#: Most training epochs (the paper's modules learn in a few; more is a typo that would run for days)
MAX_EPOCHS = 1000


@dataclass(frozen=True)
class TrainConfig:
    """Ensemble training: region size, epochs, hyperactive thresholds tried on the calibration split."""

    places_per_module: int = 25
    epochs: int = 3  # trained epochs; with a calibration split, the best epoch 1..epochs is kept
    # T: reference images (of one traversal) a neuron may win before it is silenced; 0 = none removed
    thresholds: tuple[int, ...] = (0, 5, 10, 20, 40, 60, 80, 100, 120, 140, 160, 180, 200)
    threshold: int = 0  # T used when there is no calibration split
    tolerance: int = 1  # frames: a match within this many places of the truth is correct (calibration)

    def __post_init__(self) -> None:
        for name, low in (("places_per_module", 1), ("epochs", 1), ("threshold", 0), ("tolerance", 0)):
            _check_integer(f"train.{name}", getattr(self, name), low)
        if self.epochs > MAX_EPOCHS:  # (a typo of 1e9 epochs started a run of 17,500 hours)
            raise VprConfigError(f"train.epochs must be at most {MAX_EPOCHS}, got {self.epochs}")
        thresholds = self.thresholds
        if not (isinstance(thresholds, tuple | list) and thresholds and all(_is_integer(t, 0) for t in thresholds)):
            raise VprConfigError(f"train.thresholds must be a non-empty list of integers >= 0, got {thresholds!r}")
        object.__setattr__(self, "thresholds", tuple(thresholds))

    def for_places(self, places: int) -> TrainConfig:
        """This config for a route of `places` places: more places per module than the route has make one module
        of them all (padded to the size asked, 1000 for 20 places trained 50x as long)."""
        return replace(self, places_per_module=places) if self.places_per_module > places else self


def _is_integer(value: object, low: int) -> bool:
    """An int (not a bool) >= `low`."""
    return isinstance(value, int) and not isinstance(value, bool) and value >= low


def _check_integer(name: str, value: object, low: int) -> None:
    """VprConfigError naming the field `name` unless `value` is an integer >= `low`."""
    if not _is_integer(value, low):
        raise VprConfigError(f"{name} must be an integer >= {low}, got {value!r}")


def to_dict(config: ModuleConfig | TrainConfig) -> dict[str, Any]:
    return asdict(config)


def from_dict(cls: type[ModuleConfig] | type[TrainConfig], data: Any) -> Any:
    """Build `cls` from a mapping, naming unknown fields (VprConfigError)."""
    if not isinstance(data, dict):
        raise VprConfigError(f"{cls.__name__} must be a mapping")
    unknown = set(data) - {f.name for f in fields(cls)}
    if unknown:
        raise VprConfigError(f"{cls.__name__} has unknown field(s): {', '.join(sorted(unknown))}")
    return cls(**data)
