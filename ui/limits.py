"""Every server-side cap of the app, in one place.

The hosted demo is public: whatever arrives from a widget, a URL query parameter, a typed formula or
an upload is bounded by these numbers before it reaches the engine. Widgets use the same numbers as
their min/max, so a value a link can carry is a value the sidebar can show, and vice versa. Each
cap says why it has the value it has; change them here only.
"""

from __future__ import annotations

import os

# -- the race (Playground) --------------------------------------------------------------------------
# 8 optimizers × 5000 steps is ~40k vectorized updates: well under a second on one core, and the
# figure subsamples to a fixed number of animation frames whatever the step count.
MAX_STEPS = 5000
MIN_STEPS = 1
DEFAULT_STEPS = 100
# the limit; more paths on one contour are unreadable anyway
MAX_OPTIMIZERS = 8
# start points per race (random restarts): every optimizer runs from each, so up to 64 paths
MAX_STARTS = 8
# runs (optimizers × starts) × steps of one race: ~10 MB of recorded arrays at most (iterates, gradients,
# lrs, losses and up to three optimizer states per step); a race beyond it gets fewer steps, with a notice
MAX_RUN_STEPS = 100_000
# gradient-noise σ (d2l adds N(0, 1)): beyond 100 every path is pure noise on any registered window
MIN_NOISE = 0.0
MAX_NOISE = 100.0
# the noise std is σ/√b; b = 4096 already makes it 64× smaller, more adds nothing visible
MIN_BATCH_SIZE = 1
MAX_BATCH_SIZE = 4096
# numpy's default_rng accepts any non-negative int; 2**32 - 1 keeps links short and portable
MIN_SEED = 0
MAX_SEED = 2**32 - 1
# a start coordinate farther than this is never on a plot and only invites overflow
MAX_ABS_START = 1e4
# gradient clipping threshold (max_grad_norm) offered per optimizer
MIN_CLIP = 1e-4
MAX_CLIP = 1e4
# top-k gradient compression offered per optimizer: coordinates sent per step (k >= the surface's dimension
# sends them all), and DGC's momentum m of momentum correction, in [0, 1)
MIN_TOPK = 1
MAX_TOPK = 16
MAX_DGC_MOMENTUM = 0.99
# an integer hyper-parameter of an optimizer or a schedule (step sizes, periods, milestones)
MAX_INT_PARAM = 100_000
# a list hyper-parameter (MultiStepLR milestones): entries kept
MAX_LIST_ITEMS = 32
# a float hyper-parameter with an unbounded valid range and no UI range gets this magnitude cap
MAX_ABS_FLOAT_PARAM = 1e6
# optimizer labels shown in the legend
MAX_LABEL_CHARS = 40

# -- time budgets: a computation is stopped when its budget runs out, or when its visitor has left -------
# (ui/work.py; the engine asks every few steps). A stopped result is shown with a notice and not cached.
# CPU seconds the steps of one Playground race may cost, measured: PROBE_STEPS steps of the race are timed
# once (ui/playground/simulate.py) and a race whose steps would cost more gets fewer, with a notice. A race
# at MAX_RUN_STEPS on a registered surface costs well under this; Newton on a typed formula near
# gdviz.custom.MAX_DERIVED_NODES costs ~3 ms a step, so it gets several hundred steps
RACE_CPU_SECONDS = 2.0
PROBE_STEPS = 16
# CPU seconds after which a race stops whatever the probe said (it may misjudge: iterates that wander into
# costlier regions); ui/work.WALL_FACTOR times it on the clock stops it too
RACE_SECONDS = 3.0
# CPU seconds the steps of one Landscape Lab view may cost, measured as for the race: PROBE_STEPS steps of its
# runs timed once per setting (basins: per optimizer, half each; escape: the restarts and the three annealing
# settings together; fair: every optimizer and lr), and a view whose steps would cost more gets fewer
LAB_CPU_SECONDS = 3.0
# runs a Lab probe times at most: a larger map's probe runs a coarser grid of starts (basins) or every k-th
# row of cells (stability), spread over the whole map, and scales its cost up by the runs it left out. From a
# few thousand runs on, a step costs in proportion to the runs (SGD on himmelblau: 17-20 ns per start and step
# from 64² to 200² starts; Newton on goldstein_price 1.06-1.12 µs), so the estimate holds, and the probe of a
# 200² map costs a tenth as much
LAB_PROBE_RUNS = 4096
# CPU seconds of one Landscape Lab computation (all the blocks or optimizers of a view together), whatever
# the probe said
LAB_SECONDS = 4.0

# -- typed formulas -----------------------------------------------------------------------------------
# the engine's parser has its own limits too; this is the first, cheapest gate (and the widget's max_chars)
MAX_FORMULA_CHARS = 300

# -- URL query parameters -----------------------------------------------------------------------------
# a number or a name is never longer than this; longer values are refused before parsing
MAX_QUERY_VALUE_CHARS = 200
# at most this many query keys are looked at (anything beyond is reported and ignored)
MAX_QUERY_KEYS = 200
# unknown keys named in a notice, at most
MAX_NOTICE_NAMES = 5
# notices shown on a page, at most; then one line says how many more there were
MAX_NOTICES = 10

# -- caching (per server process, shared by all sessions, keyed by the full inputs) ------------------
# the server's resident memory past which every shared cache is dropped after a script run (ui/memory.py);
# a deployment sets its own with GDVIZ_MEMORY_LIMIT_MB (the idle server is ~200 MB, the caches' measured
# bounds below add up to more than this)
MEMORY_LIMIT_BYTES = int(float(os.environ.get("GDVIZ_MEMORY_LIMIT_MB", "1024")) * 2**20)
# simulations: ~30 kB for the default scenario, ~7 MB (pickled) at MAX_RUN_STEPS
CACHE_MAX_ENTRIES = 32
# what the race cache may hold at most: CACHE_MAX_ENTRIES × the largest result the caps allow
# (tests/test_budgets.py measures the heaviest race against it)
RACE_CACHE_MAX_BYTES = 256 * 2**20
# built figures, 3-6 MB of plotly objects each (the race) or 1-2 MB (the panels): kept per kind
FIGURE_CACHE_MAX_ENTRIES = 6
# CSV and JSON downloads of a race, per kind: at the caps (64 runs × 1562 steps) a file is ~25 MB and takes
# seconds to write, so a few are kept (bytes, shared by sessions) instead of rewriting them at every click
EXPORT_CACHE_MAX_ENTRIES = 2
# and the bytes they may hold, both kinds together (tests/test_budgets.py measures the heaviest race's files)
EXPORT_CACHE_MAX_BYTES = 128 * 2**20
# parsed custom formulas
FORMULA_CACHE_MAX_ENTRIES = 128
# engine optimizers built from a setting and shared by the checks and the runs (a few kB each)
OPTIMIZER_CACHE_MAX_ENTRIES = 256

# -- later pages (Schedules, Landscape Lab, Linear Regression) -----------------------------------------
# seeds averaged for a mean ± sd band
MAX_SEEDS = 32
# steps a schedule plot may show
MAX_SCHEDULE_STEPS = 10_000
# linear regression: features d, epochs, upload size and rows (samples: REGRESSION_MAX_SAMPLES below)
MAX_FEATURES = 1_000
MAX_EPOCHS = 500
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MAX_UPLOAD_ROWS = 100_000


def clamp(value: float, low: float, high: float) -> float:
    """``value`` limited to [low, high]."""
    return min(max(value, low), high)


# -- Schedules and Landscape Lab pages (grid caps; see benchmarks/landscape.py for the timings) ---------
# schedules compared side by side on the Schedules page (one colour each, readable legend)
MAX_SCHEDULES_COMPARED = 6
# stability map cells per axis: 128² runs × 300 steps is the 1 s budget
MAX_MAP_GRID = 128
# basin map starts per axis: 200² runs × 500 steps is the 2 s budget (per optimizer)
MAX_BASIN_GRID = 200
# steps of one Lab computation, and its whole work (runs × steps, per optimizer): 200² × 500
MAX_LAB_STEPS = 2000
MAX_LAB_RUN_STEPS = 20_000_000
# random restarts and annealed runs drawn as paths
MAX_RESTARTS = 200
MAX_ANNEAL_RUNS = 64
# learning rates tried per optimizer in the fair comparison (the same grid for all)
MAX_TUNE_POINTS = 40
# settings tried per optimizer when the fair comparison tunes every hyper-parameter (random search, the same
# number for all): with MAX_STARTS starts and MAX_SEEDS noise draws, 8 optimizers make 131,072 runs at most,
# which MAX_LAB_RUN_STEPS, MAX_NOISY_LAB_RUN_STEPS and the measured cost then cut to a few steps
MAX_TUNE_TRIALS = 64
# runs × steps of a Lab computation with gradient noise: the engine draws every run's noise before its first
# step, (runs, steps, dim) floats, and holds about two more copies at its peak: 2M run-steps are ~100 MB in 2-D
# (at MAX_LAB_RUN_STEPS it would be a gigabyte)
MAX_NOISY_LAB_RUN_STEPS = 2_000_000
# Lab results kept per server process (a map is ~1 MB at the caps, 200 restarts × 2000 steps ~10 MB)
LAB_CACHE_MAX_ENTRIES = 32
# what the Lab's caches may hold at most, per cached function: LAB_CACHE_MAX_ENTRIES × its largest result
# (tests/test_budgets.py measures the heaviest of each against it)
LAB_CACHE_MAX_BYTES = 384 * 2**20

# -- Linear Regression page (pages/regression.py; MAX_FEATURES, MAX_EPOCHS, MAX_UPLOAD_* above apply too) ---
# synthetic samples: the issue asks for "millions"; memory is bounded by REGRESSION_MAX_VALUES, time by the
# update caps, so a large N is fine for full-batch GD and minibatches and only SGD is cut short
REGRESSION_MAX_SAMPLES = 2_000_000
# values N·d of one data set (held per cache entry and, on the device, twice during a shuffled epoch):
# 10M float32 = 40 MB
REGRESSION_MAX_VALUES = 10_000_000
# optimizer updates of one training run: ~50 µs each on one CPU core, so at most ~10 s; longer runs stop there
REGRESSION_MAX_UPDATES = 200_000
# updates per mode of the GD / SGD / minibatch comparison (5 modes × 20k ≈ 5 s at most) and its epochs
REGRESSION_COMPARE_MAX_UPDATES = 20_000
REGRESSION_MAX_COMPARE_EPOCHS = 50
# columns of an uploaded CSV (features are chosen among them; MAX_FEATURES still applies)
REGRESSION_MAX_UPLOAD_COLUMNS = 200
# synthetic data: |true weight|, |true bias|, noise σ and the x scale (beyond this the plots say nothing new)
REGRESSION_MAX_ABS_PARAM = 1_000.0
REGRESSION_MAX_NOISE = 1_000.0
REGRESSION_MAX_X_SCALE = 1_000.0
# data points drawn in a scatter (the model is fitted on all of them) and animation frames of a fit
REGRESSION_MAX_PLOT_POINTS = 2_000
REGRESSION_MAX_FRAMES = 100
# cached results per server process: trainings / comparisons (~1 MB each), data sets (≤ 40 MB each)
REGRESSION_CACHE_MAX_ENTRIES = 32
REGRESSION_DATA_CACHE_MAX_ENTRIES = 4

# -- Linear Regression: memory and work budgets of one training run (issue 17) ----------------------------
# bytes one training run may allocate beyond its data (gdviz.regression.training_bytes: the converted and
# standardized copies, an epoch's shuffled copy, per-batch buffers, recorded parameters). At the caps a
# float32 run needs ≤ 110 MB and float64 full-batch GD ≤ 180 MB; float64 minibatches on the largest data
# (≈ 290 MB) are refused. tests/test_regression_memory.py measures a run's peak growth against it.
REGRESSION_MAX_TRAINING_BYTES = 256 * 2**20
# estimated CPU seconds (gdviz.regression.cost, measured on this project's 2-core machine) of one training
# run and of the whole GD / SGD / minibatch comparison (shared by its modes): a run that would cost more
# takes the updates it affords and says it stopped at the server's cap. Before, the heaviest links cost
# 20 s (GD on 2M × 5 for 500 epochs), 16 s (SGD, 200k updates) and minutes (Newton, d = 200).
REGRESSION_MAX_TRAIN_SECONDS = 1.3
REGRESSION_MAX_COMPARE_SECONDS = 1.3
# the estimate above keeps a run within its seconds; where it misjudges (Newton at d = 200 took twice its
# estimate) a deadline of this many times them (CPU of the page's thread, or WALL_FACTOR times that on the
# clock: ui/work.py) stops it instead. With 2 s and a factor of 2 the training and the comparison together
# could take 8 s of the page's CPU; now at most 3.3 s (issue 17: a page's heaviest link costs a few seconds)
REGRESSION_DEADLINE_FACTOR = 1.25
# CPU seconds (the page's thread) one run of the page may spend on its closed form, training and comparison
# together (ui/regression/budget.py): each one's deadline is the least of its own and what is left of this, so
# the deadlines no longer add up per computation. The estimates above (1.3 + 1.3) and the closed form fit in it
# on this machine; the page's drawing (~0.3 s) comes on top
REGRESSION_MAX_PAGE_SECONDS = 3.5
# estimated CPU seconds (gdviz.regression.cost.lstsq_seconds) above which the closed form skips lstsq and the
# normal equation (a Gram matrix and a (d+1)² solve, ~0.4 s at 10,000 × 1,000) is the reference: lstsq
# took 1.0-1.6 s at 10,000 × 1,000; 50,000 × 200 (0.4 s) still gets it
REGRESSION_MAX_LSTSQ_SECONDS = 0.5
# torch's threads for all of the server's training (ui/regression/compute.py): one, so that a visitor's run
# uses one core and its CPU is the page thread's, which the budgets measure
REGRESSION_TORCH_THREADS = 1

# -- Networks page (pages/network.py, issue 16; benchmarks/network.py measures the default) -------------------
# the data set, the MLP (a 64-wide, 4-deep net has 12,737 weights: "a few thousand" is the default 32 × 2) and
# the race: steps of every racer and racers on one landscape (more paths on one plane are unreadable)
NETWORK_MAX_SAMPLES = 1_000
NETWORK_MAX_NOISE = 1.0
NETWORK_MAX_WIDTH = 64
NETWORK_MAX_DEPTH = 4
NETWORK_MAX_STEPS = 1_000
NETWORK_MAX_RACERS = 4
# grid points per axis of the landscape
NETWORK_MIN_GRID = 11
NETWORK_MAX_GRID = 61
# recorded weights, racers × (steps + 1) × weights, held as float32 (12 MB) and pooled for the PCA
NETWORK_MAX_RECORDED = 3_000_000
# CPU seconds after which the race stops whatever the estimate said (the picture shows the steps it took)
# (3.5: with the picture and the page, the heaviest link then costs under 5 s, benchmarks/heaviest_links.py)
NETWORK_TRAIN_SECONDS = 3.5
# The page's cost model (ui/network/compute.py: estimated_cost), seconds of one core of this project's 2-core
# machine, one torch thread; benchmarks/network.py prints it beside what it measures, and with --fit fits these
# rates anew (to the work ui.network.compute.work_of counts). Multiply-adds alone at
# 1.5 G/s, the model before, put a 0.5 s race (a 48-wide net on spirals, 300 steps) at 1.2 s and refused it,
# a 1.5 s one (1,000 samples, 64 wide) at 11 s, a 0.4 s minibatch race as if every step took every sample, and
# a tiny network's 0.5 s race at a fortieth of that:
# - a training step of one racer costs a fixed time per layer (torch's dispatch of the forward, the backward,
#   the optimizer's step and the recorded loss), its multiply-adds (forward and backward on the batch, about 3
#   passes, and the recorded loss on every sample, 1) and its activations (each hidden unit on each sample of
#   the batch, forward and backward, and of the recorded loss). Fitted to 40 races of three racers here (20 to
#   1,000 samples, 4-64 wide, 1-4 hidden layers, full batch and minibatches, SGD to Yogi, tanh; two fits a
#   run apart: 1.04-1.08e-4 s a layer, 46-73 G multiply-adds/s, 3.1-4.1 ns an activation), these constants put
#   each race at 0.73-1.11 of its measured seconds over three runs;
NETWORK_LAYER_STEP_SECONDS = 1.05e-4
NETWORK_TRAIN_MACS_PER_SECOND = 4.5e10
NETWORK_ACTIVATION_SECONDS = 3e-9
# - the picture: the loss over the grid and under every projected iterate (the batched pass of
#   gdviz.network.grid), the network's function at every frame, and the PCA (the smaller Gram matrix of at most
#   PCA_MAX_ROWS iterates, then its eigh, float64). Fitted to those of 0.1 s or more among 33 pictures here
#   (50-1,000 samples, 8-64 wide, 1-4 hidden layers, 21² to 61² grids, 40-150 steps of three racers), these
#   rates put each at 0.6-1.22 of its measured seconds over two runs (smaller ones lower: a few fixed passes).
NETWORK_GRID_MACS_PER_SECOND = 3.3e10
NETWORK_FUNCTION_MACS_PER_SECOND = 4e10
NETWORK_PCA_MACS_PER_SECOND = 8e9
# A race the model puts at more than this many times NETWORK_TRAIN_SECONDS is refused at once, with what to
# lower: stopped by the budget, it would show less than half of its steps. Below, it runs (and is stopped by
# the budget if the model was wrong, or the machine slower).
NETWORK_MAX_TRAIN_OVER_BUDGET = 2.0
# ... and a picture it puts at more than this many seconds (no budget stops a picture: the estimate bounds it)
NETWORK_MAX_PICTURE_SECONDS = 1.5
# networks' results kept per server process (≤ 12 MB of weights each at the caps)
NETWORK_CACHE_MAX_ENTRIES = 8
# animation frames of the race on the landscape
NETWORK_MAX_FRAMES = 100
