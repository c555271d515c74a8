#!/usr/bin/env python3
"""Task runner for Glute Notebooks. Needs only Python 3.11+ (standard library).

    python3 tasks.py open      # set up .venv if needed, then open the collection in JupyterLab
    python3 tasks.py test      # set up .venv if needed, then run every check (lint, types,
                               # unit tests, nbval over all notebooks, real-browser tests)
    python3 tasks.py test --quick   # the developer loop: lint, types, unit tests only
    python3 tasks.py rebuild   # re-execute every notebook in place (after a package change)
    python3 tasks.py bench     # run the benchmarks in benchmarks/ and print their ratios
    python3 tasks.py lock      # re-pin requirements/lock.txt from the current .venv
    python3 tasks.py dashboard # serve the no-code dashboards (Voila) on 127.0.0.1:8866
    python3 tasks.py site      # build the static site of the collection into _site/

Set-up is automatic: the first command creates ``.venv`` beside this file, installs the
pinned versions from ``requirements/lock.txt`` and the ``gluteutils`` package (editable). It is
redone only when the lock file or ``pyproject.toml`` changes.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import venv
from pathlib import Path

if sys.version_info < (3, 11):  # noqa: UP036 - tasks.py may be run by an older python3
    sys.exit("Glute Notebooks needs Python 3.11 or newer.")

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
LOCK = ROOT / "requirements" / "lock.txt"
STAMP = VENV / ".glute-stamp"
CHROMIUM = Path("/usr/bin/chromium")
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")


def say(message: str) -> None:
    print(f"[tasks] {message}", flush=True)


def run(cmd: list[str], **kwargs: object) -> int:
    say("$ " + " ".join(str(c) for c in cmd))
    return subprocess.call([str(c) for c in cmd], cwd=ROOT, **kwargs)  # type: ignore[arg-type]


def _fingerprint() -> str:
    digest = hashlib.sha256()
    for path in (LOCK, ROOT / "pyproject.toml"):
        digest.update(path.read_bytes())
    digest.update(sys.version.encode())
    return digest.hexdigest()


def ensure_env() -> Path:
    """Create .venv and install the pinned dependencies and the package when needed."""
    python = BIN / "python"
    if not python.exists():
        say(f"creating a virtual environment in {VENV.name}/")
        venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
    if STAMP.exists() and STAMP.read_text() == _fingerprint():
        return python
    say("installing pinned dependencies (requirements/lock.txt) - first run takes a minute or two")
    steps = [
        [python, "-m", "pip", "install", "--quiet", "--upgrade", "pip"],
        [python, "-m", "pip", "install", "--quiet", "-r", LOCK],
        [python, "-m", "pip", "install", "--quiet", "--no-deps", "-e", "."],
    ]
    for step in steps:
        if run(step) != 0:
            sys.exit("[tasks] installation failed; see the pip output above.")
    STAMP.write_text(_fingerprint())
    return python


def _ensure_chromium() -> None:
    """Make sure Debian's chromium is present for the real-browser tests."""
    if CHROMIUM.exists() or os.environ.get("GLUTE_SKIP_BROWSER") == "1":
        return
    can_apt = shutil.which("apt-get") is not None and hasattr(os, "geteuid") and os.geteuid() == 0
    if can_apt:
        say("chromium is missing: installing Debian's chromium package for the browser tests")
        run(["apt-get", "update", "-qq"])
        run(["apt-get", "install", "-y", "-qq", "chromium"], env={**os.environ,
            "DEBIAN_FRONTEND": "noninteractive"})
    if not CHROMIUM.exists():
        banner = "!" * 78
        print(
            f"\n{banner}\nThe real-browser tests need Chromium at {CHROMIUM}, and it is not"
            "\ninstalled. Install it with:\n\n    sudo apt-get install chromium\n\n"
            "(or set GLUTE_SKIP_BROWSER=1 to skip those tests knowingly; they are then"
            "\nreported as skipped, never as passed).\n" + banner + "\n",
            flush=True,
        )
        sys.exit(3)


START_URL = "/lab/tree/notebooks/00_start_here.ipynb"


def cmd_open(extra: list[str]) -> int:
    python = ensure_env()
    # default_url: the URL printed (and `/`) lands on 00 too, not on the Launcher, so
    # `--no-browser` users paste a link that opens the start page
    args = [BIN / "jupyter", "lab", "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.root_dir={ROOT}", f"--LabApp.default_url={START_URL}",
            "notebooks/00_start_here.ipynb", *extra]
    if hasattr(os, "geteuid") and os.geteuid() == 0 and "--allow-root" not in extra:
        args.append("--allow-root")  # Jupyter refuses root without it (containers, CI)
    say("opening the collection at notebooks/00_start_here.ipynb (Ctrl-C to stop)")
    del python
    try:
        return run(args)
    except KeyboardInterrupt:
        return 0


DASHBOARD_PORT = 8866


def _dashboard_args(extra: list[str]) -> tuple[list[str], int, bool]:
    """Split ``--port N`` / ``--port=N`` and ``--no-browser`` off the other Voila options."""
    port, browser, rest = DASHBOARD_PORT, True, []
    items = iter(extra)
    for item in items:
        if item == "--no-browser":
            browser = False
        elif item == "--port":
            port = int(next(items))
        elif item.startswith("--port="):
            port = int(item.split("=", 1)[1])
        else:
            rest.append(item)
    return rest, port, browser


def _copy_plotly_bundle() -> None:
    """Copy plotly's widget bundle into dashboards/_static/ (not committed) for Voila."""
    found = sorted(VENV.glob("lib/python*/site-packages/plotly/package_data/widgetbundle.js"))
    if found:
        target = ROOT / "dashboards" / "_static" / "plotly-widgetbundle.js"
        target.parent.mkdir(exist_ok=True)
        if not target.exists() or target.read_bytes() != found[-1].read_bytes():
            shutil.copyfile(found[-1], target)


def cmd_dashboard(extra: list[str]) -> int:
    """Serve the no-code dashboards in dashboards/ with Voila on 127.0.0.1 (Ctrl-C stops)."""
    ensure_env()
    rest, port, browser = _dashboard_args(extra)
    url = f"http://127.0.0.1:{port}/voila/render/index.ipynb"
    _copy_plotly_bundle()
    args = [BIN / "voila", "dashboards", "--no-browser", "--Voila.ip=127.0.0.1",
            # plotly's widget bundle served once per page (gluteutils share_plotly_bundle)
            r"--VoilaConfiguration.file_allowlist=['_static/plotly-widgetbundle\.js']",
            f"--Voila.port={port}", "--Voila.port_retries=0",
            "--VoilaConfiguration.strip_sources=True",
            # Voila 0.5.13's shutdown-on-unload request is refused (voila issue 1458): cull
            # kernels left idle by closed tabs instead
            "--MappingKernelManager.cull_idle_timeout=900",
            "--MappingKernelManager.cull_interval=60",
            "--VoilaExecutor.timeout=300", *rest]  # a busy machine imports slowly
    if browser:
        import threading
        import urllib.request
        import webbrowser

        def _open_when_up() -> None:
            for _ in range(240):
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=1):
                        webbrowser.open(url)
                        return
                except OSError:
                    threading.Event().wait(0.5)
        threading.Thread(target=_open_when_up, daemon=True).start()
    say(f"dashboards at {url} (Ctrl-C to stop)")
    env = {**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"}
    try:
        return run(args, env=env)
    except KeyboardInterrupt:
        return 0


def cmd_site(extra: list[str]) -> int:
    """Build the static site of the collection into _site/ (``--out FOLDER`` elsewhere)."""
    python = ensure_env()
    return run([python, ROOT / "docs" / "site_build.py", *extra])


def cmd_test(extra: list[str]) -> int:
    quick = "--quick" in extra
    extra = [e for e in extra if e != "--quick"]
    python = ensure_env()
    if not quick:
        _ensure_chromium()
    checks = [
        [BIN / "ruff", "check", "gluteutils", "tests", "benchmarks", "docs", "tasks.py"],
        [BIN / "mypy", "gluteutils"],
    ]
    for check in checks:
        if run(check) != 0:
            say("lint/type check failed")
            return 1
    workers = os.environ.get("GLUTE_TEST_WORKERS", "2")
    if quick:
        say("quick loop: lint, types and unit tests (no nbval, browser or slow tests); "
            "`python3 tasks.py test` runs everything, as CI does")
        return run([python, "-m", "pytest", "tests", "--ignore=tests/browser",
                    "-m", "not slow and not browser", "-p", "no:cacheprovider",
                    "-n", workers, "--dist", "loadfile", *extra])
    # Two phases. The real-browser tests draw 3D scenes with software WebGL; sharing the two
    # cores with nbval kernels made them time out in CI (a figure not drawn in minutes), so
    # they run on their own, one at a time, after everything else has passed.
    pytest_cmd = [python, "-m", "pytest", "tests", "notebooks", "--nbval",
                  "--nbval-sanitize-with", "tests/nbval_sanitize.cfg", "-m", "not browser",
                  "-p", "no:cacheprovider", "-n", workers, "--dist", "loadfile", *extra]
    if run(pytest_cmd) != 0:
        say("tests failed (the browser phase did not run)")
        return 1
    say("browser phase: every notebook, dashboard and the site in headless Chromium")
    code = run([python, "-m", "pytest", "tests/browser", "-m", "browser",
                "-p", "no:cacheprovider", "-p", "no:xdist", *extra])
    return 0 if code == 5 else code  # 5: a -k/path selection left no browser test to run


def cmd_rebuild(extra: list[str]) -> int:
    ensure_env()
    return run([BIN / "gluteutils", "notebooks", "rebuild", *extra])


def cmd_bench(extra: list[str]) -> int:
    python = ensure_env()
    status = 0
    scripts = sorted((ROOT / "benchmarks").glob("bench_*.py"))
    quick = "--quick" in extra  # a quick run: one small size (bench_engines: 200 k visits)
    names = [e for e in extra if e != "--quick"]
    for script in scripts:
        if names and not any(e in script.name for e in names):
            continue
        cmd = [python, script]
        if script.name == "bench_engines.py" and quick:
            cmd.append("--quick")  # default: the documented 1 M, 10 M and 50 M visits
        status |= run(cmd)
    return status


def cmd_lock(extra: list[str]) -> int:
    python = BIN / "python"
    if not python.exists():
        sys.exit("[tasks] no .venv yet: run `python3 tasks.py test` first")
    out = subprocess.run([str(python), "-m", "pip", "freeze", "--exclude-editable"],
                         capture_output=True, text=True, check=True).stdout
    lines = sorted(line for line in out.splitlines()
                   if line and not line.startswith(("gluteutils", "-e ")))
    header = ("# Exact versions tested together (Python 3.11, Linux x86_64).\n"
              "# Regenerate with `python3 tasks.py lock`; keep environment.yml in step\n"
              "# (tests/test_environment_sync.py checks it).\n")
    LOCK.write_text(header + "\n".join(lines) + "\n")
    say(f"wrote {LOCK.relative_to(ROOT)} ({len(lines)} packages)")
    write_environment_yml()
    return 0


#: Installed through environment.yml's pip section (not packaged, or named differently, on
#: conda-forge).
PIP_ONLY = {"myo-sim", "playwright", "duckdb", "types-pyyaml", "types-tqdm", "pandas-stubs"}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def write_environment_yml() -> None:
    """Write environment.yml: pyproject's direct dependencies at the lock file's versions."""
    import tomllib  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    names = list(project["dependencies"]) + list(project["optional-dependencies"]["test"])
    direct = sorted({_normalise(re.split(r"[<>=!~;\[ ]", n, maxsplit=1)[0]) for n in names})
    pins = {}
    for line in LOCK.read_text().splitlines():
        if "==" in line and not line.startswith("#"):
            name, version = line.split("==", 1)
            pins[_normalise(name)] = version.strip()
    conda = [f"  - {n}=={pins[n]}" for n in direct if n not in PIP_ONLY]
    pip = [f"      - {n}=={pins[n]}" for n in direct if n in PIP_ONLY]
    text = (
        "# Conda alternative to `python3 tasks.py ...` (same versions as requirements/lock.txt).\n"
        "#   conda env create -f environment.yml && conda activate glute-notebooks\n"
        "#   jupyter lab notebooks/00_start_here.ipynb\n"
        "# Written by `python3 tasks.py lock`; tests/test_environment_sync.py fails when this\n"
        "# file and the pip pins disagree.\n"
        "name: glute-notebooks\nchannels:\n  - conda-forge\ndependencies:\n"
        "  - python=3.11\n  - pip\n" + "\n".join(conda) + "\n  - pip:\n"
        + "\n".join(pip) + "\n      - -e .\n"
    )
    (ROOT / "environment.yml").write_text(text)
    say("wrote environment.yml")


COMMANDS = {"open": cmd_open, "test": cmd_test, "rebuild": cmd_rebuild,
            "dashboard": cmd_dashboard, "site": cmd_site,
            "bench": cmd_bench, "lock": cmd_lock}


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in COMMANDS:
        print(__doc__)
        return 2
    return COMMANDS[argv[0]](argv[1:])


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
