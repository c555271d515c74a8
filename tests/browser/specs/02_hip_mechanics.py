"""Browser spec for 02_hip_mechanics: sliders drive the 3D view and the moment-arm bars.

Also checks what a student sees: the 3D view has a legend (colour = layer), the wheel does
not zoom it, and the bar chart's axis title lies inside its figure (not clipped).
"""

NOTEBOOK = "02_hip_mechanics.ipynb"
MIN_PLOTLY = 3  # app 3D view, app moment-arm bars, static rotation sweep
MIN_WIDGETS = 4  # HipMechanicsApp: three sliders and the container (child views count)


def interact(lab) -> None:
    """Move the flexion slider: the 3D view and the moment-arm bars both change."""
    lab.page.wait_for_function(
        """() => { const el = document.querySelectorAll('.js-plotly-plot')[0];
            return !!(el && el.data && el.data.length >= 14 && el.querySelector('canvas')); }""",
        timeout=60_000, polling=250)
    lab.page.wait_for_timeout(500)
    legend = lab.page.evaluate(
        """() => { const el = document.querySelectorAll('.js-plotly-plot')[0];
            return [...el.querySelectorAll('.legend .legendtext')].map(t => t.textContent); }""")
    assert legend == ["Superficial layer", "Middle layer", "Deep layer"], legend
    assert lab.page.evaluate(
        "() => document.querySelectorAll('.js-plotly-plot')[0]._context.scrollZoom") is False
    inside = lab.page.evaluate(
        """() => { const el = document.querySelectorAll('.js-plotly-plot')[1];
            const t = el.querySelector('.g-xtitle text'); if (!t) return false;
            const a = t.getBoundingClientRect(), b = el.getBoundingClientRect();
            const box = el.closest('.jp-OutputArea-output').getBoundingClientRect();
            return a.bottom <= b.bottom && a.top >= b.top && a.left >= b.left
                   && a.right <= b.right && b.right <= box.right + 1; }""")
    assert inside, "bar chart x-axis title is clipped (or the chart overflows its output)"
    scene_before = lab.plotly_state(0)
    bars_before = lab.plotly_state(1)
    # Few presses: every step redraws the WebGL scene, which is slow in software GL on a
    # loaded 2-core machine (10 presses queued 10 redraws and timed out once).
    lab.move_slider(0, presses=3)
    lab.wait_for_text("At 3 deg flexion")
    lab.wait_for_plotly_change(1, bars_before, timeout=60)
    lab.wait_for_plotly_change(0, scene_before, timeout=60)
