"""The stage's browser code: one step cursor for the race chart, its panels and 3-D view, and the scrubbers.

It runs in the page (a Streamlit components-v2 component, ui/playground/stage.py) and drives the charts
Streamlit drew with the page's own ``window.Plotly``:

- the cursor: Play/Pause, one step back/forward, back to step 0, the speed; keys space, ←/→, Home, End.
  Whatever moves the race chart (these, or its own step slider) moves the panels' cursor line and the 3-D
  view in the browser at once, and, once the animation rests, tells the server the step (``step``), so
  that the inspector beside the map shows that step's numbers;
- the scrubbers: dragging η (or β) swaps the racer's path for the one computed for that value, shipped in
  the race figure's ``layout.meta.scrub`` (ui/figures/scrub.py), with no message to the server; releasing
  it sends the value (``commit``) and the page makes it the scenario's.

Nothing here computes a path: every drawn point is one the engine computed for exactly that setting.
Its state lives on the component's element, because Streamlit calls the module again whenever the data
from the server changes, on the same element.
"""

STAGE_HTML = """
<div class="gd-stage" role="group" aria-label="Race controls">
  <div class="gd-row">
    <button type="button" data-act="first" aria-label="Back to step 0" title="Back to step 0 (Home)">⇤ 0</button>
    <button type="button" data-act="prev" aria-label="One step back" title="One step back (←)">−1</button>
    <button type="button" data-act="play" class="gd-play" aria-label="Play" title="Play / pause (space)">▶ Play</button>
    <button type="button" data-act="next" aria-label="One step forward" title="One step forward (→)">+1</button>
    <label class="gd-speed">speed
      <select data-act="speed" aria-label="Playback speed">
        <option value="100">×¼</option><option value="50">×½</option>
        <option value="20" selected>×1</option><option value="0">max</option>
      </select>
    </label>
    <span class="gd-step" aria-live="polite">step 0</span>
  </div>
  <div class="gd-scrub" hidden>
    <label class="gd-racer">scrub
      <select data-act="racer" aria-label="Racer whose η and β to scrub"></select>
    </label>
    <label class="gd-eta">η <input type="range" data-act="lr" min="0" max="0" step="1" aria-label="learning rate η">
      <output>–</output></label>
    <label class="gd-beta">β <input type="range" data-act="beta" min="0" max="0" step="1" aria-label="momentum">
      <output>–</output></label>
  </div>
  <div class="gd-keys">keys: space plays or pauses, ← → step, Home goes back to 0</div>
  <div class="gd-note"></div>
</div>
"""

STAGE_CSS = """
.gd-stage { font-family: inherit; font-size: 0.95rem; color: var(--st-text-color, #31333f); }
.gd-row, .gd-scrub { display: flex; flex-wrap: wrap; align-items: center; gap: 0.4rem 0.5rem; margin: 0.2rem 0; }
.gd-stage button {
  min-width: 2.6rem; min-height: 2.4rem; padding: 0.2rem 0.6rem; border-radius: 0.5rem; cursor: pointer;
  border: 1px solid rgba(49, 51, 63, 0.25); background: var(--st-secondary-background-color, #f0f2f6);
  color: inherit; font: inherit;
}
.gd-stage button.gd-play { min-width: 6.2rem; font-weight: 600; background: var(--st-primary-color, #ff4b4b);
  color: #fff; border-color: transparent; }
.gd-stage button:focus-visible, .gd-stage select:focus-visible, .gd-stage input:focus-visible {
  outline: 3px solid #1c6fd1; outline-offset: 2px; }
.gd-stage select { font: inherit; padding: 0.2rem; border-radius: 0.4rem; max-width: 14rem; }
.gd-step { font-variant-numeric: tabular-nums; font-weight: 600; margin-left: 0.3rem; }
.gd-scrub label { display: inline-flex; align-items: center; gap: 0.35rem; }
.gd-scrub input[type=range] { width: 11rem; accent-color: var(--st-primary-color, #ff4b4b); }
.gd-scrub output { font-variant-numeric: tabular-nums; min-width: 3.6rem; }
.gd-note, .gd-keys { font-size: 0.85rem; opacity: 0.8; }
"""

STAGE_JS = r"""
const RACE = '.st-key-pg_race .js-plotly-plot';
const PANELS = '.st-key-pg_panels .js-plotly-plot';
const SURFACE_3D = '.st-key-pg_race3d .js-plotly-plot';
const TYPING = /^(INPUT|TEXTAREA|SELECT|BUTTON)$/;
const TYPING_ROLES = /^(slider|combobox|spinbutton|textbox|listbox|option|menuitem)$/;

function decode(text) {
  const bytes = Uint8Array.from(atob(text), c => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
}

function fmt(v) {
  return Number(v).toPrecision(3).replace(/\.?0+$/, '').replace(/\.?0+e/, 'e');
}

function frameSteps(s) {
  const meta = s.gd && s.gd.layout && s.gd.layout.meta;
  return (meta && meta.frame_steps) || [0];
}

function nearestIndex(list, value) {
  let best = 0;
  for (let i = 0; i < list.length; i++) if (Math.abs(list[i] - value) < Math.abs(list[best] - value)) best = i;
  return best;
}

// -- the cursor -----------------------------------------------------------------------------------
function showStep(s) {
  const steps = frameSteps(s);
  s.el.querySelector('.gd-step').textContent = `step ${s.step} of ${steps[steps.length - 1]}`;
  const play = s.el.querySelector('[data-act=play]');
  play.textContent = s.playing ? '❚❚ Pause' : '▶ Play';
  play.setAttribute('aria-label', s.playing ? 'Pause' : 'Play');
}

function followers(s) {
  // the panels' cursor line and the 3-D view follow the race chart's step, in the browser
  const panels = document.querySelector(PANELS);
  if (panels && panels.layout && panels.layout.shapes) {
    const update = {};
    panels.layout.shapes.forEach((shape, i) => {
      // only a line that is elsewhere: a relayout redraws all four panels (~40 ms), and after a rerun the
      // server's panels already sit at the step
      if (shape.name === 'cursor' && (shape.x0 !== s.step || shape.x1 !== s.step)) {
        update[`shapes[${i}].x0`] = s.step; update[`shapes[${i}].x1`] = s.step;
      }
    });
    if (Object.keys(update).length) window.Plotly.relayout(panels, update);
  }
  const surface = document.querySelector(SURFACE_3D);
  const shown = surface && !surface.closest('[hidden]');  // a 3-D view put away (ui/live_chart.py) waits
  if (shown && typeof step3d === 'function') step3d(window.Plotly, surface, s.step);  // ui/figures/surface_3d_js.py
}

function moved(s, step, report) {
  s.step = step;
  showStep(s);
  const now = performance.now();
  // during playback the followers are redrawn a few times a second, not on every frame
  if (!s.playing || now - (s.followedAt || 0) > 120) { s.followedAt = now; followers(s); }
  if (s.preview) drawPreview(s);
  if (report) tell(s);
}

function tell(s) {
  clearTimeout(s.tellTimer);
  s.tellTimer = setTimeout(() => {
    if (s.playing || s.step === s.told) return;
    s.told = s.step;
    s.setStateValue('step', s.step);
  }, 120);
}

function goTo(s, index) {
  const steps = frameSteps(s);
  const i = Math.max(0, Math.min(steps.length - 1, index));
  s.playing = false;
  window.Plotly.animate(s.gd, [String(steps[i])], {
    frame: { duration: 0, redraw: false }, transition: { duration: 0 }, mode: 'immediate',
  });
  moved(s, steps[i], true);
  followers(s);
}

function play(s) {
  const steps = frameSteps(s);
  if (steps.length < 2) return;
  if (s.step >= steps[steps.length - 1]) goTo(s, 0);  // at the end, Play starts over
  s.playing = true;
  showStep(s);
  const duration = Number(s.el.querySelector('[data-act=speed]').value);
  const from = steps.indexOf(s.step) + 1;
  window.Plotly.animate(s.gd, steps.slice(Math.max(from, 0)).map(String), {
    frame: { duration, redraw: false }, transition: { duration: 0 }, mode: 'immediate',
  });
}

function pause(s) {
  s.playing = false;
  window.Plotly.animate(s.gd, [null], { frame: { duration: 0, redraw: false }, mode: 'immediate' });
  showStep(s);
  followers(s);
  tell(s);
}

function act(s, what) {
  if (!s.gd || !window.Plotly) return;
  const steps = frameSteps(s);
  const at = nearestIndex(steps, s.step);
  if (what === 'play') (s.playing ? pause : play)(s);
  else if (what === 'prev') goTo(s, at - 1);
  else if (what === 'next') goTo(s, at + 1);
  else if (what === 'first') goTo(s, 0);
  else if (what === 'last') goTo(s, steps.length - 1);
}

// -- the race chart -------------------------------------------------------------------------------
function bind(s) {
  const gd = document.querySelector(RACE);
  if (!gd || gd === s.gd) return;
  s.gd = gd;
  s.meta = null;
  gd.on('plotly_animatingframe', e => {
    // the race's own frames are named by their step; a scrub preview's frame has no name (and must not loop)
    const step = Number(e && e.name);
    if (e && e.name != null && Number.isFinite(step)) moved(s, step, false);
  });
  gd.on('plotly_animated', () => { if (s.playing) { s.playing = false; showStep(s); followers(s); tell(s); } });
  gd.on('plotly_animationinterrupted', () => showStep(s));
  gd.on('plotly_sliderchange', e => {
    if (e.interaction) { s.playing = false; moved(s, Number(e.step.label), true); }
  });
  gd.on('plotly_afterplot', () => newFigure(s));
  newFigure(s);
}

function newFigure(s) {
  // a new figure from the server (a rerun): it opens at its own step, and brings new scrub paths
  const meta = s.gd && s.gd.layout && s.gd.layout.meta;
  if (!meta || meta === s.meta) return;
  s.meta = meta;
  s.preview = null;
  s.playing = false;
  s.step = meta.current_step || 0;
  s.told = s.step;
  showStep(s);
  followers(s);
  setUpScrub(s);
}

// -- the scrubbers -------------------------------------------------------------------------------
function scrubRacers(s) {
  return (s.meta && s.meta.scrub && s.meta.scrub.racers) || [];
}

function setUpScrub(s) {
  const box = s.el.querySelector('.gd-scrub');
  const racers = scrubRacers(s);
  s.el.querySelector('.gd-note').textContent = s.data.note || '';
  box.hidden = racers.length === 0;
  if (!racers.length) return;
  const pick = s.el.querySelector('[data-act=racer]');
  const names = (s.gd.data || []);
  pick.innerHTML = '';
  racers.forEach((r, i) => {
    const option = document.createElement('option');
    option.value = String(i);
    option.textContent = (names[r.trace] && names[r.trace].name) || `racer ${r.racer + 1}`;
    pick.appendChild(option);
  });
  const wanted = racers.findIndex(r => r.racer === s.data.racer);
  s.racer = wanted >= 0 ? wanted : Math.min(s.racer || 0, racers.length - 1);
  pick.value = String(s.racer);
  syncSliders(s);
}

function syncSliders(s) {
  const r = scrubRacers(s)[s.racer];
  const lr = s.el.querySelector('[data-act=lr]');
  lr.max = String(r.lrs.length - 1);
  lr.value = String(r.lr);
  const beta = s.el.querySelector('[data-act=beta]');
  const hasBeta = r.betas.length > 0;
  s.el.querySelector('.gd-beta').hidden = !hasBeta;
  if (hasBeta) {
    beta.max = String(r.betas.length - 1);
    beta.value = String(r.beta);
    beta.setAttribute('aria-label', r.axis);
    s.el.querySelector('.gd-beta').firstChild.textContent = `${r.axis} `;
  }
  showValues(s);
}

function showValues(s) {
  const r = scrubRacers(s)[s.racer];
  const lr = Number(s.el.querySelector('[data-act=lr]').value);
  const beta = Number(s.el.querySelector('[data-act=beta]').value);
  s.el.querySelector('.gd-eta output').textContent = fmt(r.lrs[lr]);
  if (r.betas.length) s.el.querySelector('.gd-beta output').textContent = fmt(r.betas[beta]);
}

function drawPreview(s) {
  const t0 = performance.now();
  const r = scrubRacers(s)[s.racer];
  if (!r) return;
  if (!r.values) r.values = decode(r.xy);
  const steps = frameSteps(s);
  const points = steps.length;
  const K = r.lrs.length;
  const { lr, beta } = s.preview;
  const shown = steps.filter(v => v <= s.step).length;
  const lo = s.meta.scrub.lo, hi = s.meta.scrub.hi;
  const inset = [0.01 * (hi[0] - lo[0]), 0.01 * (hi[1] - lo[1])];
  const xs = [], ys = [];
  const heads = s.gd.data[s.meta.heads];
  const hx = Array.from(heads.x), hy = Array.from(heads.y);
  const marker = heads.marker || {};
  const symbols = Array.from(marker.symbol || []), sizes = Array.from(marker.size || []);
  const colors = Array.from(marker.color || []);
  const color = (s.gd.data[r.trace].line || {}).color;
  for (let run = 0; run < r.runs; run++) {
    const cell = (beta * K + lr) * r.runs + run;
    const count = Math.min(r.count[cell], Math.max(shown, 1));
    const base = cell * points * 2;
    if (run > 0) { xs.push(null); ys.push(null); }
    for (let p = 0; p < count; p++) { xs.push(r.values[base + 2 * p]); ys.push(r.values[base + 2 * p + 1]); }
    const last = base + 2 * (count - 1);
    const h = r.head + run;
    hx[h] = Math.min(Math.max(r.values[last], lo[0] + inset[0]), hi[0] - inset[0]);
    hy[h] = Math.min(Math.max(r.values[last + 1], lo[1] + inset[1]), hi[1] - inset[1]);
    const diverged = r.diverged[cell];
    const dead = (diverged >= 0 && s.step >= diverged) || (r.count[cell] < points && count === r.count[cell]);
    symbols[h] = dead ? 'x' : 'circle';
    sizes[h] = dead ? 18 : 12;
    colors[h] = dead ? '#d62728' : color;
  }
  // one animation frame with redraw off, as the race's own frames are: plotly then redraws only these scatter
  // traces (a restyle would recompute and redraw the whole chart, the surface's picture included: ~0.3 s)
  const hide = Object.values(s.meta.glyphs || {}).concat(Object.values(s.meta.boxes || {}).map(b => b[0]));
  const data = [
    { x: xs, y: ys },
    { x: hx, y: hy, marker: { symbol: symbols, size: sizes, color: colors } },
    ...hide.map(() => ({ x: [], y: [] })),  // the arrows and boxes belong to the racer's own run: not drawn
  ];
  window.Plotly.animate(s.gd, { data, traces: [r.trace, s.meta.heads, ...hide] }, {
    frame: { duration: 0, redraw: false }, transition: { duration: 0 }, mode: 'immediate',
  }).then(() => requestAnimationFrame(() => {
    s.drawMs.push(performance.now() - t0);
  }));
}

function scrubbed(s, commit) {
  const r = scrubRacers(s)[s.racer];
  if (!r) return;
  const lr = Number(s.el.querySelector('[data-act=lr]').value);
  const beta = Number(s.el.querySelector('[data-act=beta]').value);
  showValues(s);
  s.preview = { lr, beta: r.betas.length ? beta : 0 };
  drawPreview(s);
  if (!commit) return;
  clearTimeout(s.commitTimer);
  s.commitTimer = setTimeout(() => {
    if (lr === r.lr && (!r.betas.length || beta === r.beta)) return;
    s.setTriggerValue('commit', { racer: r.racer, lr: r.lrs[lr], beta: r.betas.length ? r.betas[beta] : null });
  }, 250);
}

// -- keys -----------------------------------------------------------------------------------------
function onKey(e) {
  const s = window.__gdvizStage;
  if (!s || !s.el.isConnected || e.altKey || e.ctrlKey || e.metaKey) return;
  const target = e.target || {};
  if (TYPING.test(target.tagName || '') || target.isContentEditable) return;
  if (TYPING_ROLES.test((target.getAttribute && target.getAttribute('role')) || '')) return;
  const what = { ' ': 'play', ArrowLeft: 'prev', ArrowRight: 'next', Home: 'first', End: 'last' }[e.key];
  if (!what) return;
  e.preventDefault();
  act(s, what);
}

export default function (component) {
  const { data, parentElement, setStateValue, setTriggerValue } = component;
  const el = parentElement.querySelector('.gd-stage');
  let s = el.__gdviz;
  if (!s) {
    s = el.__gdviz = { el, step: 0, told: 0, playing: false, racer: 0, drawMs: [] };
    el.querySelectorAll('button[data-act]').forEach(b => b.addEventListener('click', () => act(s, b.dataset.act)));
    el.querySelector('[data-act=racer]').addEventListener('change', e => {
      s.racer = Number(e.target.value); s.preview = null; syncSliders(s);
    });
    for (const name of ['lr', 'beta']) {
      const input = el.querySelector(`[data-act=${name}]`);
      input.addEventListener('input', () => scrubbed(s, false));
      input.addEventListener('change', () => scrubbed(s, true));
    }
    if (!window.__gdvizKeys) { window.__gdvizKeys = true; document.addEventListener('keydown', onKey); }
  }
  // the chart is drawn after this element, and may be drawn anew: look for it a few times a second
  if (!s.poll) s.poll = setInterval(() => bind(s), 300);
  window.__gdvizStage = s;
  s.data = data || {};
  s.setStateValue = setStateValue;
  s.setTriggerValue = setTriggerValue;
  bind(s);
  if (s.meta) setUpScrub(s);
  return () => { clearInterval(s.poll); s.poll = null; };
}
"""
