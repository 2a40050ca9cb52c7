#!/bin/sh
# Synthesises spoken digit strings (espeak-ng voices, speeds, pitches; sox for
# 16 kHz resampling, silence, gain and optional noise) with manifests
# train.tsv / dev.tsv / test.tsv (path<TAB>digits) in --out DIR.
# The test set's voice variants never occur in training (see --help).
#   apt-get install -y espeak-ng sox
#   tools/make_speech_data.sh --out /tmp/speech/data --train 4000 --dev 400 --test 800 --seed 1
set -eu
here=$(dirname "$0")
exec node "$here/make_speech_data.mjs" "$@"
