#!/usr/bin/env bash
# The GPU checks, for a session whose task is lent a GPU machine (the tool library's `device`): one `run` of
#   bash benchmarks/cuda_check.sh
# runs the CUDA tests (tests/test_network.py, tests/test_regression.py: a race and a training on the GPU
# against the CPU's), the Networks benchmark on the GPU beside the CPU, and the regression benchmark's
# full-batch bandwidth test. That machine has torch, NumPy and pytest but not Streamlit or Plotly; none of
# this needs them (tests/test_cuda_check.py runs it here, where they are hidden and there is no GPU).
# Each part's output is also written to $OUT (the folder whose files come back from the machine) when set.
# Exit status 1 when a part failed.
set -u -o pipefail
export PYTHONUNBUFFERED=1
out="${OUT:-$(mktemp -d)}"
status=0
python3 -c "import torch; print('torch', torch.__version__, '| CUDA:', torch.cuda.is_available() and torch.cuda.get_device_name(0))" 2>&1 | tee "$out/device.txt" || status=1
python3 -m pytest -q -p no:cacheprovider -rs tests/test_network.py tests/test_regression.py -k cuda 2>&1 | tee "$out/cuda-tests.txt" || status=1
python3 benchmarks/network.py --device auto 2>&1 | tee "$out/network.txt" || status=1
python3 benchmarks/regression.py --quick 2>&1 | tee "$out/regression.txt" || status=1
exit "$status"
