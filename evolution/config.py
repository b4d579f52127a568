"""The experiment config: typed pydantic models of the YAML file, validated with one-line errors.

Units: `sigma` and the sphere `centers` live in the unit cube (each parameter's range mapped to [0, 1], so
sigma = 0.1 is 1/10 of every parameter's range); `episode_steps` and `warmup` count control steps.
Backend, output and `generations` are run settings, not part of the experiment (`experiment_dict` leaves
them out, so the config hash ignores them: a run may be resumed on another backend or extended).
Configs are data: `network.builder` names a registered builder (`evolution.builders.BUILDERS`, or a package's
entry point), and a custom `fitness.factory` an entry point of `FITNESS_ENTRY_POINT_GROUP`, or either one in a
module the caller allows (`parse_config(..., allow_import=...)`, the CLI's `--allow-import`); nothing a config
names is imported while it is validated. A config the driver already validated is re-read by workers with
`vetted=True`. Populations are at most
`MAX_POPULATION` individuals; seeds are below 2**32.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from evolution.builders import BUILDERS, CONSTRUCTION_ENTRY_POINT_GROUP, CONSTRUCTIONS, ENTRY_POINT_GROUP
from evolution.errors import ConfigError
from evolution.imports import allowed_reference, check_module_names
from sim_envs.blimp.envelope import HOVER_BANDS, MODELS, BlimpEnvelope
from snncontrol.adapters import IOAdapters
from snncontrol.errors import first_line

MAX_POPULATION = 100_000  # individuals per generation (any strategy): more is a typo, not an experiment
MAX_SEED = 2**32 - 1


def _not_a_bool(what: str) -> BeforeValidator:
    """A validator that refuses a YAML true/false where `what` (a number) belongs: pydantic takes it for 1/0."""

    def check(value: Any) -> Any:
        if isinstance(value, bool):
            raise ValueError(f"must be {what}, not {str(value).lower()}")
        return value

    return BeforeValidator(check)


#: An integer / a number of the config: a bool is refused, not read as 1 or 0.
Int = Annotated[int, _not_a_bool("an integer")]
Float = Annotated[float, _not_a_bool("a number")]


class _Model(BaseModel):
    # (allow_inf_nan: a NaN objective weight scored every individual the failure value and saved an arbitrary
    # genome as the champion; an infinite IPOP factor overflowed at the first restart)
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, allow_inf_nan=False)


#: The entry-point group in which installed packages declare fitness factories a config may name.
FITNESS_ENTRY_POINT_GROUP = "snncontrol.fitness"


def _allowed(reference: str, info: ValidationInfo, registered: dict[str, str], group: str, what: str) -> str:
    """`reference` as the config may name it (see `evolution.imports.allowed_reference`), unless vetted."""
    context = info.context or {}
    if context.get("vetted"):
        return reference
    return allowed_reference(reference, registered, group, context.get("allow_import", ()), what)


class SettingRange(_Model):
    """One evolved setting of a construction: its range and the seed's value in it."""

    low: Float
    high: Float
    seed: Float

    @model_validator(mode="after")
    def _ordered(self) -> SettingRange:
        if not self.low < self.high:
            raise ValueError(f"needs low < high, got {self.low} .. {self.high}")
        if not self.low <= self.seed <= self.high:
            raise ValueError(f"seed {self.seed} is outside {self.low} .. {self.high}")
        if not math.isfinite(self.high - self.low):  # (every point but the seed's mapped to NaN)
            raise ValueError(f"the range {self.low} .. {self.high} is wider than a float holds")
        return self


class ConstructionConfig(_Model):
    """A network set by a construction from a few settings, which are what evolves: `builder` (a registered
    construction's name, `evolution.builders.CONSTRUCTIONS`, or an allowed "module:function" reference) is called
    with the `fixed` keywords and one value of each of the `settings` and returns (spec, genome, I/O adapters);
    the genome of the search is the settings, each mapped from its range to [0, 1]. The seed's settings are the
    seed individual; a setting where the construction fails (its error) scores the worst."""

    builder: str
    fixed: dict[str, Any] = Field(default_factory=dict)
    settings: dict[str, SettingRange] = Field(min_length=1)

    @field_validator("builder")
    @classmethod
    def _registered(cls, builder: str, info: ValidationInfo) -> str:
        return _allowed(builder, info, CONSTRUCTIONS, CONSTRUCTION_ENTRY_POINT_GROUP, "construction")

    @model_validator(mode="after")
    def _apart(self) -> ConstructionConfig:
        if both := sorted(set(self.fixed) & set(self.settings)):
            raise ValueError(f"{', '.join(both)} both fixed and evolved: name each in one of fixed, settings")
        return self


class NetworkConfig(_Model):
    """Exactly one of: `builder` (a registered builder's name or "package.module:function" reference, see the
    module docstring; called with `kwargs`, it returns a NetworkSpec),
    `spec` (inline `NetworkSpec.to_dict()` form), `artifact` (a saved controller: its spec, and its genome
    as the initial mean / seed individual) or `construction` (`ConstructionConfig`: a few settings of a
    construction evolve, not the parameters)."""

    builder: str | None = None
    kwargs: dict[str, Any] = Field(default_factory=dict)
    spec: dict[str, Any] | None = None
    artifact: str | None = None
    construction: ConstructionConfig | None = None
    evolve: list[str] | None = Field(None, min_length=1)  # with an artifact: glob patterns of the parameters
    # evolved (e.g. ["readout.*", "hidden.theta"], or "hidden.w_in[0:1180]" for some elements of one); the
    # others keep the artifact's values

    @field_validator("builder")
    @classmethod
    def _registered(cls, builder: str | None, info: ValidationInfo) -> str | None:
        """The reference of an allowed builder; a config cannot make anything else run."""
        if builder is None:
            return None
        return _allowed(builder, info, BUILDERS, ENTRY_POINT_GROUP, "builder")

    @model_validator(mode="after")
    def _exactly_one(self) -> NetworkConfig:
        given = [name for name in ("builder", "spec", "artifact", "construction") if getattr(self, name) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of builder, spec, artifact, construction (got {given or 'none'})")
        if self.evolve is not None and self.artifact is None:
            raise ValueError("evolve (a subset of the parameters) needs an artifact that holds the others")
        if self.kwargs and self.builder is None:  # (ignored: a construction's keywords go in its fixed)
            raise ValueError(f"kwargs are a builder's keywords; {given[0]} takes none")
        return self


class CMAESConfig(_Model):
    """CMA-ES (DEAP `cma.Strategy`) in the unit cube. preset "paper": population 50, mean uniform in the
    bounds, sigma 0.1 (1/10 of each range), out-of-bounds samples rejected and redrawn. covariance "diagonal":
    separable CMA-ES (O(D) per generation; for networks of thousands of parameters)."""

    name: Literal["cmaes"]
    preset: Literal["paper"] | None = None
    covariance: Literal["full", "diagonal"] = "full"
    population: Int | None = Field(None, ge=2, le=MAX_POPULATION)  # lambda; None: DEAP's 4 + 3 ln(D)
    mu: Int | None = Field(None, ge=1, le=MAX_POPULATION)  # parents; None: population / 2 (after an IPOP restart
    # always half the grown population)
    sigma: Float = Field(0.1, ge=1e-12, le=1)  # (a smaller step moves no point of the cube: sigma ** 2 underflows)
    initial_mean: Literal["uniform", "center", "spec_init"] = "uniform"  # the first start's (restarts: uniform)
    out_of_bounds: Literal["reject", "clip"] = "reject"
    max_redraws: Int = Field(100, ge=1)  # rounds of redrawing before the remaining samples are clipped
    restarts: Int = Field(0, ge=0)  # IPOP restarts; each multiplies the population by ipop_factor
    ipop_factor: Float = Field(2.0, ge=1)
    tol_x: Float = Field(1e-8, gt=0)  # restart when sigma * max axis < tol_x
    tol_fun: Float = Field(1e-10, ge=0)  # restart when the best of the last `stagnation` generations moved less
    stagnation: Int = Field(20, ge=2)

    @model_validator(mode="after")
    def _preset(self) -> CMAESConfig:
        if self.preset == "paper" and "population" not in self.model_fields_set:
            object.__setattr__(self, "population", 50)
        if self.mu is not None and self.population is not None and self.mu > self.population:
            raise ValueError(f"mu ({self.mu}) must not exceed population ({self.population})")
        if self.population is not None and self.largest_population(self.population) > MAX_POPULATION:
            raise ValueError(self._too_large(self.population))
        return self

    def largest_population(self, first: int) -> float:
        """The population of the last IPOP restart, from a first one of `first` (inf beyond the floats)."""
        try:
            return float(first * self.ipop_factor**self.restarts)
        except OverflowError:  # e.g. 2.0 ** 1100
            return math.inf

    def _too_large(self, first: int) -> str:
        return (f"population {first} x ipop_factor {self.ipop_factor:g} ** restarts {self.restarts} = "
                f"{self.largest_population(first):.0f} exceeds {MAX_POPULATION} individuals")

    def check_dimension(self, dim: int) -> None:
        """Raise ConfigError where the population DEAP picks for `dim` parameters (4 + 3 ln D, without
        `population`) is smaller than `mu` or grows past MAX_POPULATION over the restarts."""
        if self.population is not None:
            return
        first = int(4 + 3 * math.log(dim))
        if self.mu is not None and self.mu > first:
            raise ConfigError(f"strategy.mu ({self.mu}) exceeds the default population 4 + 3 ln D = {first} for "
                              f"{dim} parameters: give strategy.population too")
        if self.largest_population(first) > MAX_POPULATION:
            raise ConfigError(f"strategy: {self._too_large(first)}")


class GAConfig(_Model):
    """(mu + lambda) or (mu, lambda) GA with bounded SBX crossover and polynomial mutation (unit cube). The first
    population is uniform in the cube, or with a seed (`network.artifact`, `network.construction`) and
    `init_spread`, the seed plus normal noise of that standard deviation (unit cube)."""

    name: Literal["ga"]
    mu: Int = Field(50, ge=2, le=MAX_POPULATION)
    lambda_: Int = Field(100, ge=1, le=MAX_POPULATION, alias="lambda")
    selection: Literal["plus", "comma"] = "plus"
    cxpb: Float = Field(0.6, ge=0, le=1)
    mutpb: Float = Field(0.3, ge=0, le=1)
    eta_crossover: Float = Field(15.0, gt=0)
    eta_mutation: Float = Field(20.0, gt=0)
    indpb: Float | None = Field(None, gt=0, le=1)  # per-gene mutation probability; None: 1 / D
    tournament: Int = Field(3, ge=1)
    init_spread: Float | None = Field(None, gt=0, le=1)  # with a seed genome: first population around it

    @model_validator(mode="after")
    def _sizes(self) -> GAConfig:
        if self.cxpb + self.mutpb > 1:
            raise ValueError("cxpb + mutpb must be at most 1")
        if self.selection == "comma" and self.lambda_ < self.mu:
            raise ValueError("(mu, lambda) selection needs lambda >= mu")
        return self


class NSGA2Config(_Model):
    """NSGA-II: mu parents (a multiple of 4), mu offspring per generation, bounded SBX + polynomial mutation;
    `init_spread` as for the GA."""

    name: Literal["nsga2"]
    mu: Int = Field(48, ge=4, le=MAX_POPULATION)
    cxpb: Float = Field(0.9, ge=0, le=1)
    eta_crossover: Float = Field(15.0, gt=0)
    eta_mutation: Float = Field(20.0, gt=0)
    indpb: Float | None = Field(None, gt=0, le=1)
    init_spread: Float | None = Field(None, gt=0, le=1)  # with a seed genome: first population around it

    @field_validator("mu")
    @classmethod
    def _multiple_of_four(cls, mu: int) -> int:
        if mu % 4:
            raise ValueError(f"must be a multiple of 4 (tournament DCD), got {mu}")
        return mu


StrategyConfig = Annotated[CMAESConfig | GAConfig | NSGA2Config, Field(discriminator="name")]


class SphereConfig(_Model):
    """Benchmark: squared distance of the normalized genome to the point (c, c, ..., c), one objective per
    center c in [0, 1]."""

    kind: Literal["sphere"]
    centers: list[Annotated[Float, Field(ge=0, le=1)]] = Field(default_factory=lambda: [0.5], min_length=1)


def _check_io(io: dict[str, Any] | None) -> dict[str, Any] | None:
    """Validate an `io` section (IOAdapters.from_dict form) and keep it as given."""
    if io is not None:
        IOAdapters.from_dict(io)
    return io


class MimicryConfig(_Model):
    """Open-loop mimicry of recorded outputs. `dataset`: .npz with train_inputs [S,T,n_in], train_targets
    [S,T,n_out], test_inputs, test_targets. One training sequence per generation; `warmup` steps unscored.
    `io`: the adapters that map a plant's observations to the dataset's inputs (and outputs to actions),
    stored with the best controller so that it is deployable; not used for scoring."""

    kind: Literal["mimicry"]
    dataset: str
    io: dict[str, Any] | None = None
    loss: Literal["mae_pearson", "mse", "mae"] = "mae_pearson"
    warmup: Int = Field(0, ge=0)
    objectives: list[Literal["loss", "sops", "spikes", "energy"]] = Field(default_factory=lambda: ["loss"])

    _io = field_validator("io")(_check_io)


class EnvConfig(_Model):
    """A registered Gymnasium environment run with the vector API. `episode_steps`: control steps scored per
    episode; `episodes`: episodes per individual per generation; `worker_kwargs`: extra constructor keywords
    used in process/ray workers only (e.g. {n_threads: 1} for sim_envs plants); `envelope` (blimp plants only):
    draw the plants from the blimp operating envelope (`sim_envs.blimp.envelope.BlimpEnvelope()`), "all" of it
    or one band of hover command (lighter, light, medium, heavy, heaviest), in the id's model; keywords in
    `kwargs` (e.g. disturbances) come on top."""

    id: str
    kwargs: dict[str, Any] = Field(default_factory=dict)
    worker_kwargs: dict[str, Any] = Field(default_factory=dict)
    episode_steps: Int = Field(ge=1)
    episodes: Int = Field(1, ge=1)
    vectorization_mode: Literal["auto", "vector_entry_point", "sync"] = "auto"
    envelope: str | None = None

    @model_validator(mode="after")
    def _envelope_model(self) -> EnvConfig:
        if self.envelope is None:
            return self
        if self.envelope not in ("all", *HOVER_BANDS):
            raise ValueError(f"envelope must be 'all' or a band of {list(HOVER_BANDS)}, got {self.envelope!r}")
        if self.id not in MODELS.values():
            raise ValueError(f"envelope needs a blimp plant id ({', '.join(MODELS.values())}), got {self.id!r}")
        if self.id == MODELS["mujoco"] and "thrust_gain" in self.kwargs:  # the bands become buoyancy forces by it
            raise ValueError("kwargs.thrust_gain with an envelope: its bands of hover command are buoyancy forces "
                             "at the plant's default thrust gain (0.03 N per unit); drop one of them")
        return self

    def constructor_kwargs(self, worker: bool = False) -> dict[str, Any]:
        """The keywords the env is made with: the envelope's (if any), then `kwargs`, then in workers
        `worker_kwargs`."""
        drawn: dict[str, Any] = {}
        if self.envelope is not None:
            model = next(name for name, env_id in MODELS.items() if env_id == self.id)
            envelope = BlimpEnvelope() if self.envelope == "all" else BlimpEnvelope().band(self.envelope)
            drawn = envelope.kwargs(model)
        return {**drawn, **self.kwargs, **(self.worker_kwargs if worker else {})}


class ClosedLoopConfig(_Model):
    """Closed-loop episodes. Objectives: return (sum of rewards, maximized), tracking_error (mean |info[error_key]|
    over the episode, minimized), itae (mean |info[error_key]| weighted by the time since info[setpoint_key] last
    changed: holding a set-point counts more than reaching it; minimized), steady_state (mean |info[error_key]| over
    the steps that come `steady_after_steps` or more after the set-point last changed: the error where a hold
    should have settled, what a steady-state error measures; minimized), overshoot (per set-point, how far
    the value went past it in the direction of the step, mean over the episode's set-points; minimized), contacts
    (the fraction of the samples from `contact_after_steps` steps on at which info[contact_key] is at or below
    `contact_below`: for the blimp plants a body on the floor, as the evaluation counts its floor contacts,
    altitude <= 0.02 m from 5 s on, with the sample after the last step too; a ceiling is not counted; an
    episode that ends before `contact_after_steps` scores 0; minimized),
    sops / spikes / energy (J) per episode (minimized). `weights` (one per objective, all minimized) makes one
    objective of their weighted sum, for a single-objective strategy. Each generation flies new episodes, or with
    `resample_episodes: false` the same ones (common random numbers: every generation ranks on the same plants,
    which removes the noise between generations at the risk of fitting those episodes); with
    `validation_episodes` > 0 the run's champion is the individual best on that many fixed episodes (scored
    every checkpoint, never flown in training), not the luckiest of one generation."""

    kind: Literal["closed_loop"]
    env: EnvConfig
    io: dict[str, Any] | None = None  # IOAdapters.from_dict form; None: the artifact's adapters
    objectives: list[
        Literal["return", "tracking_error", "itae", "steady_state", "overshoot", "contacts", "sops", "spikes",
                "energy"]
    ] = Field(default_factory=lambda: ["return"])
    weights: list[Annotated[Float, Field(ge=0)]] | None = None  # at least one > 0
    error_key: str = "error"
    setpoint_key: str = "setpoint"
    steady_after_steps: Int = Field(100, ge=0)  # steady_state counts from this many steps into each hold
    contact_key: str = "altitude"  # contacts: info[contact_key] at or below contact_below (the floor)
    contact_below: Float = 0.02
    contact_after_steps: Int = Field(50, ge=0)  # contacts count from this step on (5 s at 10 Hz)
    validation_episodes: Int = Field(0, ge=0)  # > 0: the champion is the best on these fixed episodes
    resample_episodes: bool = True  # False: every generation flies generation 0's episodes

    _io = field_validator("io")(_check_io)

    @model_validator(mode="after")
    def _weights(self) -> ClosedLoopConfig:
        if self.weights is not None:
            if len(self.weights) != len(self.objectives):
                raise ValueError(f"weights needs one value per objective ({len(self.objectives)})")
            if "return" in self.objectives:
                raise ValueError("weights sum minimized objectives; 'return' is maximized")
            if not any(self.weights):  # (every individual scored 0: the champion was an arbitrary one)
                raise ValueError("weights are all 0: give at least one objective a weight > 0")
        schedule = self.env.kwargs.get("schedule")
        segmented = sorted(set(self.objectives) & {"itae", "steady_state", "overshoot"})
        if segmented and isinstance(schedule, dict) and schedule.get("ramp_s", 0) not in (0, 0.0):
            raise ValueError(f"objectives {segmented} are measured per held set-point; a schedule with ramp_s > 0 "
                             "changes the set-point every step of a ramp (each its own set-point): use steps "
                             "(ramp_s: 0) or the tracking_error objective")
        if "contacts" in self.objectives and self.contact_after_steps >= self.env.episode_steps:
            raise ValueError(f"contact_after_steps ({self.contact_after_steps}) must be below env.episode_steps "
                             f"({self.env.episode_steps}): no sample would be judged and contacts would score 0")
        return self


class SwimmerBodiesConfig(_Model):
    """NCAP swimmers over the swimmer body envelope (`sim_envs.swimmer.envelope.SwimmerEnvelope()`, 3-12 links,
    link length, gear, viscosity and density): every generation each individual swims `bodies` bodies drawn anew
    from the envelope (every individual the same ones), its NCAP re-instantiated for each body's links with its
    shared weights (`snncontrol.controllers.ncap.retarget`), one episode of `episode_steps` control steps each.
    Objective `log_return` (maximized): the mean over the bodies of ln(max(return, 1)), so that a body counts by
    its return's ratio and the long, fast bodies (returns near 900) do not outweigh the short, slow ones (near
    30). With `validation_bodies` > 0 the run's champion is the individual best on that many fixed bodies, never
    swum in training. `io`: the adapters stored with the champion, for the network's own body (default: its
    `ncap_io`; each body swims with its own). The network must be an NCAP (`ncap_spec`)."""

    kind: Literal["swimmer_bodies"]
    bodies: Int = Field(6, ge=1, le=1000)
    episode_steps: Int = Field(1000, ge=1)
    validation_bodies: Int = Field(0, ge=0, le=1000)
    n_threads: Int = Field(1, ge=1, le=1024)  # physics threads per swim (copies are stepped independently)
    io: dict[str, Any] | None = None
    objectives: list[Literal["log_return"]] = Field(default_factory=lambda: ["log_return"], min_length=1,
                                                    max_length=1)

    _io = field_validator("io")(_check_io)


class CustomConfig(_Model):
    """A user fitness: `factory` ("package.module:function") called as factory(spec=..., seed=..., **kwargs)
    returning an object with `objectives`, `generation_data(generation)` and `evaluate(genomes, data)`."""

    kind: Literal["custom"]
    factory: str
    kwargs: dict[str, Any] = Field(default_factory=dict)
    objectives: list[str] = Field(min_length=1)
    maximize: list[str] = Field(default_factory=list)

    @field_validator("factory")
    @classmethod
    def _registered(cls, factory: str, info: ValidationInfo) -> str:
        """The reference of an allowed fitness factory; a config cannot make anything else run."""
        return _allowed(factory, info, {}, FITNESS_ENTRY_POINT_GROUP, "fitness factory")

    @model_validator(mode="after")
    def _maximized_are_objectives(self) -> CustomConfig:
        unknown = [name for name in self.maximize if name not in self.objectives]
        if unknown:  # (a misspelt name was minimized in silence)
            raise ValueError(f"maximize names {unknown}, not among the objectives {self.objectives}")
        return self


FitnessConfig = Annotated[
    SphereConfig | MimicryConfig | ClosedLoopConfig | SwimmerBodiesConfig | CustomConfig, Field(discriminator="kind")
]


class BackendConfig(_Model):
    """Where populations are evaluated. `workers`: chunks per generation (process: pool size; ray: tasks;
    None: CPU count; refused with serial). `address` (ray only): an existing Ray cluster (None: start a local one
    on 127.0.0.1). `max_retries`:
    resubmissions of a chunk whose worker died or hung. `timeout_s` (s, process and ray): a chunk not evaluated
    that long after its submission (a new pool's start-up included) counts as hung: its worker is killed and the
    chunk resubmitted; None waits for ever; serial ignores it (it evaluates in the driver)."""

    name: Literal["serial", "process", "ray"] = "serial"
    workers: Int | None = Field(None, ge=1)
    address: str | None = None
    max_retries: Int = Field(3, ge=0)
    timeout_s: Float | None = Field(None, gt=0, allow_inf_nan=False)

    @model_validator(mode="after")
    def _settings_of_this_backend(self) -> BackendConfig:
        """A setting the named backend does not use is refused, not ignored (it would not do what it says)."""
        if self.name == "serial" and self.workers is not None:
            raise ValueError("workers sizes a process pool or Ray tasks: the serial backend evaluates in the driver "
                             "(name process or ray, or leave workers out)")
        if self.address is not None and self.name != "ray":
            raise ValueError(f"address names a Ray cluster to join: the {self.name} backend joins none (name ray, or "
                             "leave address out)")
        return self


class OutputConfig(_Model):
    """`run_dir`: None gives runs/<config name>-<UTC time>. `checkpoint_every`: checkpoint, write logbook.csv
    and best/ (and score the held-out data of a mimicry run) every N generations and after the last one; a
    resumed run repeats at most N - 1 generations. A fitness with a selection loss (validation episodes, mimicry)
    chooses its champion at these generations: a run extended to more generations takes back the choice after
    its last one where that was off the schedule, and equals a longer run; a run resumed with another
    `checkpoint_every` chooses at that one's generations from the checkpoint it resumes from on.
    `keep_checkpoints`: last N kept. `plot_every`: redraw progress.png every N generations (and at the end)."""

    run_dir: str | None = None
    checkpoint_every: Int = Field(1, ge=1)
    keep_checkpoints: Int = Field(3, ge=1)
    plot_every: Int = Field(10, ge=1)


class ExperimentConfig(_Model):
    name: str = ""
    seed: Int = Field(0, ge=0, le=MAX_SEED)
    generations: Int = Field(ge=1)
    network: NetworkConfig
    strategy: StrategyConfig
    fitness: FitnessConfig
    backend: BackendConfig = Field(default_factory=BackendConfig)
    output: OutputConfig = Field(default_factory=OutputConfig)

    @model_validator(mode="after")
    def _objective_count(self) -> ExperimentConfig:
        count = len(objective_names(self.fitness))
        if self.strategy.name == "nsga2" and count < 2:
            raise ValueError("strategy nsga2 needs two or more fitness objectives")
        if self.strategy.name != "nsga2" and count != 1:
            raise ValueError(f"strategy {self.strategy.name} needs exactly one fitness objective (got {count})")
        seeded = self.network.artifact is not None or self.network.construction is not None
        if getattr(self.strategy, "init_spread", None) is not None and not seeded:
            raise ValueError("strategy.init_spread spreads the first population around a seed controller: it needs "
                             "network.artifact or network.construction (without one the population is uniform)")
        return self

    def experiment_dict(self) -> dict[str, Any]:
        """The part that defines the experiment (what the config hash covers), as JSON-ready data."""
        return self.model_dump(mode="json", by_alias=True, exclude={"name", "backend", "output", "generations"})


def objective_names(
    fitness: SphereConfig | MimicryConfig | ClosedLoopConfig | SwimmerBodiesConfig | CustomConfig,
) -> list[str]:
    if isinstance(fitness, SphereConfig):
        return ["sphere"] if len(fitness.centers) == 1 else [f"sphere_{i}" for i in range(len(fitness.centers))]
    if isinstance(fitness, ClosedLoopConfig) and fitness.weights is not None:
        return ["+".join(f"{w:g}*{name}" for w, name in zip(fitness.weights, fitness.objectives, strict=True))]
    return list(fitness.objectives)


def parse_config(
    data: Any, source: str = "config", allow_import: Sequence[str] = (), vetted: bool = False
) -> ExperimentConfig:
    """Validate a mapping; a bad field raises one ConfigError line naming it. `allow_import`: modules whose
    callables `network.builder` and `fitness.factory` may name besides the registered ones; `vetted`: the
    mapping is the dump of a config already validated (a worker's copy), whose references stay as they are."""
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: must be a YAML mapping")
    context = {"allow_import": check_module_names(allow_import), "vetted": vetted}
    try:
        return ExperimentConfig.model_validate(data, context=context)
    except ValidationError as exc:
        errors = exc.errors()  # a misspelt key first: the field it was meant for is missing because of it
        error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
        where = "".join(f"{part}: " for part in [".".join(str(p) for p in error["loc"])] if part)
        message = "unknown field" if error["type"] == "extra_forbidden" else error["msg"].removeprefix("Value error, ")
        more = f" (+{exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
        raise ConfigError(f"{source}: {where}{message}{more}") from None


def load_config(path: str | Path, allow_import: Sequence[str] = (), **overrides: Any) -> ExperimentConfig:
    """Read and validate a YAML file (`allow_import` as for `parse_config`); `overrides` are dotted keys
    ("backend.name") set before validation."""
    return parse_config(read_config(path, **overrides), str(path), allow_import)


def read_config(path: str | Path, **overrides: Any) -> dict[str, Any]:
    """A YAML file's mapping, not validated yet, with `overrides` (dotted keys, "backend.name") set and `name`
    defaulting to the file's stem."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({first_line(exc)})") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}: {exc.reason})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a YAML mapping")
    for dotted, value in overrides.items():
        if value is None:
            continue
        node = data
        *parents, key = dotted.split(".")
        for depth, part in enumerate(parents, 1):
            node = node.setdefault(part, {})
            if not isinstance(node, dict):
                where = ".".join(parents[:depth])
                raise ConfigError(f"{path}: {where} must be a mapping to take {dotted} from the command line, "
                                  f"got {node!r}")
        node[key] = value
    data.setdefault("name", path.stem)
    return data
