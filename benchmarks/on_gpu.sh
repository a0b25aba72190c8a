#!/usr/bin/env bash
# The GPU measurements in one go, on a machine with an NVIDIA GPU and no network (python3 with numpy,
# Jinja2, PyYAML, tqdm and requests; no llama-cpp-python). Everything else comes in one folder
# (default .gpu):
#   bin/    llama.cpp built with CUDA from the llama.cpp vendored in llama-cpp-python's sdist, as shared
#           libraries with an $ORIGIN rpath (libllama.so, libggml*.so) and llama-server:
#             cmake -S vendor/llama.cpp -B build -G Ninja -DGGML_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90-real \
#               -DBUILD_SHARED_LIBS=ON -DCMAKE_INSTALL_RPATH='$ORIGIN' -DCMAKE_BUILD_WITH_INSTALL_RPATH=ON \
#               -DCMAKE_BUILD_TYPE=Release -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF -DGGML_NATIVE=OFF -DGGML_AVX2=ON \
#               -DGGML_FMA=ON -DGGML_F16C=ON -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF
#             cmake --build build --target llama-server
#           (or bin.tar.xz, the same files packed, unpacked here first)
#   whl/    wheels of deepfim's pure dependencies for that python3 (pygls, lsprotocol, cattrs, gguf, ...)
#   llama_cpp_python-VERSION.tar.gz  the sdist (its Python package and DeepSeek-Coder's vocabulary suffice)
# llama-cpp-python's Python package runs on bin/ (its lib folder links there), so the in-process engine
# and llama-server run the same CUDA build. Runs, each with a time limit, printing its report and
# writing its log and JSON figures to $OUT (default /tmp/deepfim-gpu):
#   1. the latency benchmark's GPU section (deepfim over LSP, the naive baseline, the floor; 16K window),
#   2. the team benchmark (4 editors, 4 deepfim processes, one llama-server -np 4 on the GPU),
#   3. the remote latency benchmark (deepfim against llama.vim's /infill requests, same GPU server),
#      as it runs on the CPU and with the server's RAM prompt cache off and generation matched,
#   4. the cold-open phase in process on the GPU.
# RUNS (default: all) picks some: table latency team team-again team-threads team-kvu remote remote-fair
# cold_open, where table is the KV cache types and batches in process, team-again a second team run (the
# ratio moves from run to run), team-threads the team with 8 server threads and team-kvu with one KV
# buffer for the slots.
#     bash benchmarks/on_gpu.sh [FOLDER]
#     RUNS="latency team team-threads" bash benchmarks/on_gpu.sh .gpu
set -u
HERE=$(readlink -f "${1:-.gpu}")
cd "$(dirname "$0")/.." || exit 1  # the repository root
OUT=${OUT:-/tmp/deepfim-gpu}
SITE=/tmp/deepfim-site
RUNS=" ${RUNS:-table latency team team-again team-threads team-kvu remote remote-fair cold_open} "
mkdir -p "$OUT"
export PYTHONUNBUFFERED=1
started=$(date +%s)
elapsed() { echo "[$(( $(date +%s) - started )) s] $*"; }

rm -rf "$SITE" && mkdir -p "$SITE"
if [ ! -d "$HERE/bin" ] && [ -f "$HERE/bin.tar.xz" ]; then tar xJf "$HERE/bin.tar.xz" -C "$HERE" || exit 1; fi
python3 -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --target "$SITE" "$HERE"/whl/*.whl || exit 1
sdist=$(ls "$HERE"/llama_cpp_python-*.tar.gz | head -1)
version=$(basename "$sdist" .tar.gz); version=${version#llama_cpp_python-}
tar xzf "$sdist" -C /tmp "llama_cpp_python-$version/llama_cpp" || exit 1
cp -r "/tmp/llama_cpp_python-$version/llama_cpp" "$SITE/" && ln -sfn "$HERE/bin" "$SITE/llama_cpp/lib" || exit 1
mkdir -p "$SITE/llama_cpp_python-$version.dist-info"
printf 'Metadata-Version: 2.1\nName: llama-cpp-python\nVersion: %s\n' "$version" \
  > "$SITE/llama_cpp_python-$version.dist-info/METADATA"
export PYTHONPATH="$SITE:$PWD"
# CUDA's runtime and cuBLAS from the machine: the toolkit's, else the pip packages' (nvidia/cu13).
for name in libcudart.so.13 libcublas.so.13; do
  found=$(find /usr/local/cuda*/ /usr/lib /opt $(python3 -c 'import site; print(*site.getsitepackages())') \
    -name "$name" 2>/dev/null | head -1)
  [ -n "$found" ] && export LD_LIBRARY_PATH="$(dirname "$found")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
done
cache=$(python3 -c "from models.catalog import cache_dir; print(cache_dir())") || exit 1
mkdir -p "$cache/sdist/$version" && cp "$sdist" "$cache/sdist/$version/"
export DEEPFIM_LLAMA_SERVER="$HERE/bin/llama-server"

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
if ! python3 -c "import llama_cpp, sys; sys.exit(0 if llama_cpp.llama_supports_gpu_offload() else 1)"; then
  echo "llama.cpp in $HERE/bin has no GPU backend here:"; ldd "$HERE"/bin/libggml-cuda.so; exit 1
fi
"$DEEPFIM_LLAMA_SERVER" --version 2>&1 | tail -2
elapsed "set up"

# The model (synthetic DeepSeek-Coder-1.3B shape, built once), deepfim's default offload seen in the GPU's
# memory, and a 15K-token prompt read then 64 tokens generated with each KV cache type (q8_0 and q4_0 need
# flash attention, on by default where the backend has it) and with deepfim's batch (512 with every
# layer on a GPU) against others.
[[ $RUNS == *" table "* ]] && want=1 || want=0
DEEPFIM_TABLE=$want timeout 300 python3 - <<'EOF' || exit 1
import os
import subprocess
from benchmarks.latency import default_file, resolve_model
from server.engines.local import LocalEngine

def used() -> int:
    out = subprocess.run(["nvidia-smi", "--query-gpu=memory.used", "--format=csv,noheader,nounits"],
                         capture_output=True, text=True).stdout
    return int(out.split()[0])

model = resolve_model(None)
print(f"{model.name}: {model.stat().st_size / 2**20:.0f} MiB")
for kv, batch in () if os.environ["DEEPFIM_TABLE"] == "0" else (("f16", None), ("q8_0", None), ("q4_0", None), ("f16", 256), ("f16", 1024), ("f16", 2048)):
    before = used()
    engine = LocalEngine(model, n_ctx=16384, kv_cache_type=kv, n_batch=batch)
    loaded = used()
    prompt = engine.tokenize(default_file().read_text(encoding="utf-8"))[:15000]
    run = engine.generate(prompt, 64, lambda: False)
    print(f"kvCacheType {kv}, n_batch {engine.n_batch}{'' if batch else ' (default)'}: gpu_layers {engine.gpu_layers}, flash attention {engine.flash_attention}; GPU memory "
          f"{before} -> {loaded} MiB loaded; {run.prompt_tokens_evaluated} prompt tokens in {run.prompt_ms:.0f} ms "
          f"({run.prompt_tokens_evaluated / max(run.prompt_ms, 1e-3) * 1000:.0f}/s), {run.generated_tokens} generated "
          f"in {run.generate_ms:.0f} ms ({run.generated_tokens / max(run.generate_ms, 1e-3) * 1000:.0f}/s)")
    engine.close()
EOF
elapsed "model ready"

run() {  # NAME SECONDS ARGS...: one benchmark with a time limit, its output in $OUT/NAME.log
  local name=$1 limit=$2; shift 2
  [[ $RUNS == *" $name "* ]] || return 0
  elapsed "$name: python3 -m $*"
  timeout "$limit" python3 -m "$@" > "$OUT/$name.log" 2>&1
  echo "exit $?" >> "$OUT/$name.log"
  grep -v '^ *[0-9]\+ ' "$OUT/$name.log" | tail -25
}
run latency 120 benchmarks.latency --gpu only --cold-open off --json "$OUT/latency.json"
run team 90 benchmarks.team --server-log "$OUT/team-server.log" --json "$OUT/team.json"
run team-again 90 benchmarks.team --json "$OUT/team-again.json"
# One KV buffer for the four slots (--kv-unified): one attention per layer for every editor's row.
run team-kvu 90 benchmarks.team --kv-unified --server-log "$OUT/team-kvu-server.log" --json "$OUT/team-kvu.json"
# Whether the server's CPU threads (sampling, HTTP) are what four editors wait for on a GPU.
run team-threads 90 benchmarks.team --server-threads 8 --server-log "$OUT/team-threads-server.log" \
  --json "$OUT/team-threads.json"
run remote 90 benchmarks.remote_latency --server-log "$OUT/remote-server.log" --json "$OUT/remote.json"
# The same without the server's RAM prompt cache (each request copied the other client's idle slot, GBs
# of KV cache, off the GPU first) and with llama.vim's requests generating as many tokens as deepfim's.
run remote-fair 90 benchmarks.remote_latency --cache-ram 0 --match-generation --json "$OUT/remote-fair.json"
run cold_open 60 benchmarks.latency --cold-open only
elapsed "done"
