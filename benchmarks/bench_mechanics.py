"""Benchmark the hip-mechanics computations behind notebooks 01 and 02.

Prints (goals from issue 5):

* sweep: all modelled glute muscles x 3 coordinates x 91 flexion angles with
  ``mechanics.moment_arms`` (goal < 20 ms), against a baseline run in the same process: the
  same moment arms by finite differences of tendon length (``moment_arms_fd``), i.e. what
  the sweep would cost without the engine's moment matrix;
* slider update: one new pose -> new 3D figure data (bones + muscle volumes) and moment-arm
  bars (goal < 50 ms), against a baseline of rebuilding the whole 3D figure from scratch.

Run: ``.venv/bin/python benchmarks/bench_mechanics.py``. Times are medians of repeats.
"""

from __future__ import annotations

import statistics
import time
import tracemalloc
from collections.abc import Callable

import numpy as np

from gluteutils import mechanics, scene
from gluteutils.plots import anatomy as plots
from gluteutils.widgets.anatomy import scene_trace_update


def median_ms(fn: Callable[[], object], repeats: int = 15) -> float:
    """Median wall time of ``fn`` in milliseconds (after one warm-up call)."""
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


def peak_kib(fn: Callable[[], object]) -> float:
    """Peak Python heap allocated during one call of ``fn`` (tracemalloc), in KiB."""
    fn()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 1024.0


def main() -> None:
    mechanics.load_model()
    flexion = np.arange(0, 91)
    n = len(mechanics.MUSCLES)

    sweep = median_ms(lambda: mechanics.moment_arms(flexion=flexion))
    sweep_fd = median_ms(lambda: mechanics.moment_arms_fd(flexion=flexion), repeats=5)
    print(f"sweep: {n} muscles x 3 coordinates x {len(flexion)} flexion angles")
    print(f"  engine moment matrix (moment_arms):      {sweep:7.1f} ms  (goal < 20 ms)")
    print(f"  baseline finite differences of length:   {sweep_fd:7.1f} ms")
    print(f"  ratio baseline / engine:                 {sweep_fd / sweep:7.1f} x")
    print(f"  peak memory engine / baseline:           "
          f"{peak_kib(lambda: mechanics.moment_arms(flexion=flexion)):7.0f} KiB / "
          f"{peak_kib(lambda: mechanics.moment_arms_fd(flexion=flexion)):.0f} KiB")

    poses = iter([(float(f), 5.0, -5.0) for f in np.tile(np.arange(0, 120), 10)])

    def slider_update() -> None:
        fl, ad, ro = next(poses)
        scene_trace_update(fl, ad, ro)
        mechanics.moment_arms(flexion=fl, adduction=ad, rotation=ro)

    def rebuild_figure() -> None:
        fl, ad, ro = next(poses)
        plots.scene_figure(mechanics.bone_meshes(fl, ad, ro),
                           scene.muscle_volumes(fl, ad, ro))
        plots.moment_arm_bars(mechanics.moment_arms(flexion=fl, adduction=ad, rotation=ro))

    from gluteutils.widgets.anatomy import HipMechanicsApp

    app = HipMechanicsApp()
    angles = iter(np.tile(np.arange(1, 120), 10))

    def widget_update() -> None:
        app.set_pose(flexion=int(next(angles)))

    update = median_ms(slider_update, repeats=30)
    widget = median_ms(widget_update, repeats=30)
    rebuild = median_ms(rebuild_figure, repeats=10)
    print("slider update: new pose -> new 3D trace data + moment arms")
    print(f"  in-place update data (scene_trace_update): {update:7.1f} ms  (goal < 50 ms)")
    print(f"  whole widget callback (HipMechanicsApp):   {widget:7.1f} ms  (incl. FigureWidget messages)")
    print(f"  baseline: rebuild both figures:            {rebuild:7.1f} ms")
    print(f"  ratio baseline / update:                   {rebuild / update:7.1f} x")
    print(f"  peak memory update / rebuild:              {peak_kib(slider_update):7.0f} KiB / "
          f"{peak_kib(rebuild_figure):.0f} KiB")


if __name__ == "__main__":
    main()
