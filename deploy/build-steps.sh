#!/bin/sh
# Install sheetqueue from a source folder into a virtual environment, with the
# pinned versions of requirements-lock.txt. The Dockerfile runs this script, and
# so does the test that checks the image's build steps without a Docker daemon.
#   deploy/build-steps.sh SOURCE_DIR VENV_DIR
set -eu
src=${1:?usage: build-steps.sh SOURCE_DIR VENV_DIR}
venv=${2:?usage: build-steps.sh SOURCE_DIR VENV_DIR}
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet --no-cache-dir --disable-pip-version-check \
    -c "$src/requirements-lock.txt" "$src"
"$venv/bin/sheetqueue" --version
