#!/bin/sh
# Stands in for `deepfim` in the e2e test of "deepfim: Pull Model": `models pull NAME` draws the
# real progress bar format on stderr without downloading anything (and notes its arguments in
# $DEEPFIM_FAKE_PULL_LOG); everything else runs the real CLI with $DEEPFIM_E2E_PYTHON.
if [ "$1" = models ] && [ "$2" = pull ]; then
  echo "$*" >> "${DEEPFIM_FAKE_PULL_LOG:-/dev/null}"
  for done in 1 2 3 4 5 6 7 8; do
    filled=$(printf '%*s' "$((done * 30 / 8))" '' | tr ' ' '#')
    empty=$(printf '%*s' "$((30 - done * 30 / 8))" '' | tr ' ' '.')
    printf '\r[%s%s] %8.1f/%.1f MB' "$filled" "$empty" "$done" 8 >&2
    sleep 0.5
  done
  printf '\n' >&2
  echo "/tmp/deepfim-fake-models/$3.gguf"
  exit 0
fi
exec "${DEEPFIM_E2E_PYTHON:-python3}" -m server.cli "$@"
