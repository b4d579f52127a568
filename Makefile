# snncontrol: the two commands a fresh machine needs are `make demo` and `make test`.
# Both create .venv when missing and install everything from the package registries.

PYTHON ?= python3.11
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PIP    := $(BIN)/python -m pip

# Every process started from here that may touch ROS 2 keeps discovery on this host; rendering is offscreen.
export ROS_AUTOMATIC_DISCOVERY_RANGE := LOCALHOST
export MUJOCO_GL := egl
export PYOPENGL_PLATFORM := egl
export PIP_CONSTRAINT := $(CURDIR)/constraints.txt

.PHONY: demo test lint bench install clean

$(STAMP): pyproject.toml constraints.txt ros_ws/src/snncontrol_ros/setup.py
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -c constraints.txt -e '.[all]'
	$(PIP) install --quiet -c constraints.txt -e ros_ws/src/snncontrol_ros
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/snncontrol demo

test: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(STAMP)
	$(BIN)/python benchmarks/snn_step.py

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache
