"""The browser's half of the steppable 3-D view: ``step3d(Plotly, gd, step)`` shows any step of
ui/figures/surface_3d.py's figure with one ``Plotly.restyle`` call, without Plotly frames.

It reads what it needs from the figure's ``layout.meta`` (``kind`` "surface3d"): each path trace's points
drawn to the end (``full``: x, y, z and the step of each point, null between two runs), the trace indices
of the paths and of the heads, and the heads' style (colour per run, divergence step per run). A path to
step t keeps every point whose step is ≤ t and blanks the others, so point j stays hover row j (the
trace's customdata); blanks at the end are dropped, so a single run's trace holds exactly its prefix.
Each run's head goes to its last point kept, an X in the divergence colour once the run has diverged.

It returns false, and changes nothing, for a chart that is not such a figure; a step outside
0..steps is clamped and a fractional one rounded.
"""

STEP_3D_JS = """
function step3d(Plotly, gd, step) {
    const meta = gd && gd.layout && gd.layout.meta;
    if (!Plotly || !meta || meta.kind !== 'surface3d' || !Array.isArray(meta.full) || meta.heads == null) {
        return false;
    }
    const wanted = Math.round(Number(step));
    const t = Math.max(0, Math.min(meta.steps, Number.isFinite(wanted) ? wanted : meta.steps));
    const style = meta.heads_style;
    const xs = [], ys = [], zs = [];
    const heads = {x: [], y: [], z: [], color: [], symbol: [], size: []};
    let run = 0;
    for (const full of meta.full) {
        const n = full.step.length;
        const x = new Array(n), y = new Array(n), z = new Array(n);
        let end = 0, last = -1;
        for (let i = 0; i <= n; i++) {
            const s = i < n ? full.step[i] : null;
            if (s === null) {  // the end of a run: its head is its last point kept
                if (last >= 0) {
                    const diverged = style.diverged[run];
                    const dead = diverged !== null && diverged !== undefined && diverged <= t;
                    heads.x.push(full.x[last]);
                    heads.y.push(full.y[last]);
                    heads.z.push(full.z[last]);
                    heads.color.push(dead ? style.dead_color : style.color[run]);
                    heads.symbol.push(dead ? 'x' : 'circle');
                    heads.size.push(dead ? style.dead_size : style.size);
                }
                run += 1;
                last = -1;
                if (i < n) { x[i] = y[i] = z[i] = null; }
                continue;
            }
            if (s <= t) {
                x[i] = full.x[i]; y[i] = full.y[i]; z[i] = full.z[i];
                last = i;
                end = i + 1;
            } else {
                x[i] = y[i] = z[i] = null;
            }
        }
        xs.push(x.slice(0, end)); ys.push(y.slice(0, end)); zs.push(z.slice(0, end));
    }
    const paths = meta.paths.map(() => undefined);  // restyle leaves an attribute alone where it is undefined
    Plotly.restyle(gd, {
        x: [...xs, heads.x],
        y: [...ys, heads.y],
        z: [...zs, heads.z],
        'marker.color': [...paths, heads.color],
        'marker.symbol': [...paths, heads.symbol],
        'marker.size': [...paths, heads.size],
    }, [...meta.paths, meta.heads]);
    return true;
}
"""
