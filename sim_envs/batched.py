"""Batched MuJoCo stepping: P copies of one plant held as full-physics state arrays [P, nstate].

All copies are advanced together by one persistent ``mujoco.rollout.Rollout`` thread pool (C++ threads, the
GIL released), so a control step costs one Python call however large P is. Copies may have their own
``MjModel`` (same structure, different parameters: domain randomization) or share one.

Every call starts the constraint solver cold (zero warm-start), which makes a copy's trajectory depend only
on its own state and controls, never on which thread or batch stepped it: P copies stepped together give
bitwise the same trajectories as each copy stepped alone.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import mujoco
import numpy as np
from mujoco import rollout

STATE_SPEC = mujoco.mjtState.mjSTATE_FULLPHYSICS.value


class BatchedPhysics:
    """State of P copies and one control-step integrator over all of them."""

    def __init__(
        self, models: Sequence[mujoco.MjModel], control_spec: int, n_threads: int | None = None
    ) -> None:
        self.models = list(models)
        self.n_copies = len(self.models)
        model = self.models[0]
        threads = min(os.cpu_count() or 1, self.n_copies) if n_threads is None else n_threads
        self.n_threads = max(1, min(threads, self.n_copies))
        self.control_spec = control_spec
        self.n_control = mujoco.mj_stateSize(model, control_spec)
        self._datas = [mujoco.MjData(model) for _ in range(self.n_threads)]
        self._pool = rollout.Rollout(nthread=self.n_threads if self.n_threads > 1 else 0)
        # Two chunks per thread: few hand-offs per call, yet a thread slowed by other load can be caught up.
        self._chunk = max(1, -(-self.n_copies // (2 * self.n_threads)))
        self._scratch = mujoco.MjData(model)
        self._warmstart = np.zeros((self.n_copies, model.nv))
        self.state = np.zeros((self.n_copies, mujoco.mj_stateSize(model, STATE_SPEC)))
        self.sensordata = np.zeros((self.n_copies, model.nsensordata))
        self._buffers: dict[int, tuple[np.ndarray, np.ndarray]] = {}
        self._qpos = slice(1, 1 + model.nq)
        self._qvel = slice(1 + model.nq, 1 + model.nq + model.nv)
        self._timestep = np.array([m.opt.timestep for m in self.models])
        #: per copy, whether MuJoCo found its accelerations non-finite or huge since its last reset: it then resets
        #: the copy's state to the model's initial one mid-step (a warning on stderr), so what follows is no motion
        #: of that body (e.g. motors far too strong for it)
        self.unstable = np.zeros(self.n_copies, dtype=bool)

    @property
    def qpos(self) -> np.ndarray:
        """Joint positions [P, nq] (a view)."""
        return self.state[:, self._qpos]

    @property
    def qvel(self) -> np.ndarray:
        """Joint velocities [P, nv] (a view)."""
        return self.state[:, self._qvel]

    def set_copies(self, index: np.ndarray, qpos: np.ndarray, qvel: np.ndarray) -> None:
        """Put copies ``index`` at (qpos, qvel) [len(index), nq|nv], time 0, and refresh their sensors."""
        for row, i in enumerate(index):
            data = self._scratch
            mujoco.mj_resetData(self.models[i], data)
            data.qpos[:] = qpos[row]
            data.qvel[:] = qvel[row]
            mujoco.mj_forward(self.models[i], data)
            mujoco.mj_getState(self.models[i], data, self.state[i], STATE_SPEC)
            self.sensordata[i] = data.sensordata
            self.unstable[i] = False

    def step(self, control: np.ndarray) -> None:
        """Advance every copy by ``control.shape[1]`` physics steps; control is [P, nstep, n_control]."""
        nstep = control.shape[1]
        if nstep not in self._buffers:
            self._buffers[nstep] = (
                np.zeros((self.n_copies, nstep, self.state.shape[1])),
                np.zeros((self.n_copies, nstep, self.sensordata.shape[1])),
            )
        states, sensors = self._buffers[nstep]
        self._warmstart[:] = 0.0
        self._pool.rollout(
            self.models, self._datas, self.state, np.ascontiguousarray(control, dtype=np.float64),
            control_spec=self.control_spec, skip_checks=True, nstep=nstep,
            initial_warmstart=self._warmstart, state=states, sensordata=sensors, chunk_size=self._chunk,
        )
        # a copy MuJoCo reset mid-step (bad accelerations) has its clock set back (state[0] is the time, s): short
        # of the step's end by a timestep or more (all but a reset in the first substep after a reset to time 0)
        self.unstable |= states[:, -1, 0] < self.state[:, 0] + (nstep - 0.5) * self._timestep
        self.state[:] = states[:, -1]
        self.sensordata[:] = sensors[:, -1]

    def load(self, i: int) -> mujoco.MjData:
        """A scratch MjData holding copy ``i``'s state with derived quantities computed (for rendering)."""
        mujoco.mj_setState(self.models[i], self._scratch, self.state[i], STATE_SPEC)
        mujoco.mj_forward(self.models[i], self._scratch)
        return self._scratch

    def close(self) -> None:
        """Stop the thread pool."""
        self._pool.close()
