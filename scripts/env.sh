# Sourced by the scripts (from the repository root): which Python and build directory the project uses,
# and how it installs Debian packages. PYTHON, when set, is used as it is; otherwise the project's own
# virtual environment, so that installing torch==2.13.0 never replaces a PyTorch the user has elsewhere.
RESNET8_VENV=$PWD/.venv
PYTHON=${PYTHON:-$RESNET8_VENV/bin/python}
BUILD_DIR=${RESNET8_BUILD_DIR:-build}

# install_packages PKG...: apt-get install the Debian packages not yet installed (sudo unless root).
install_packages() {
  local missing=() pkg
  for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg"); done
  ((${#missing[@]})) || { echo "all present"; return 0; }
  echo "installing: ${missing[*]}"
  local sudo=
  [[ $(id -u) -eq 0 ]] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}
