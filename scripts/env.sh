# Sourced by setup.sh, run.sh and test.sh (from the repository root): which Python and build directory
# the project uses. PYTHON, when set, is used as it is; otherwise the project's own virtual environment,
# so that installing torch==2.13.0 never replaces a PyTorch the user has elsewhere.
RESNET8_VENV=$PWD/.venv
PYTHON=${PYTHON:-$RESNET8_VENV/bin/python}
BUILD_DIR=${RESNET8_BUILD_DIR:-build}
