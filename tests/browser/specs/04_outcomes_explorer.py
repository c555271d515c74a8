"""Browser spec: the outcomes explorer's controls update its FigureWidgets in place."""

NOTEBOOK = "04_outcomes_explorer.ipynb"
MIN_PLOTLY = 3  # trajectories, responders, Kaplan-Meier (FigureWidgets)
MIN_WIDGETS = 3


def interact(lab) -> None:
    """Switch condition: the trajectory figure must change; untick a therapy: the bars change."""
    before = lab.plotly_state(0)
    lab.select_dropdown(0, "Delayed-onset muscle soreness (DOMS)")
    lab.wait_for_plotly_change(0, before)
    before_bars = lab.plotly_state(1)
    lab.click_checkbox("Home self-care only")
    lab.wait_for_plotly_change(1, before_bars)
    # export: the download link gives a CSV whose rows are the summary table on screen
    import csv
    import io

    link = lab.page.locator("a.glute-export").first
    link.scroll_into_view_if_needed()
    with lab.page.expect_download(timeout=30_000) as info:
        link.click()
    download = info.value
    assert download.suggested_filename == "glute-explorer-doms.csv"
    text = open(download.path(), encoding="utf-8").read()
    assert "# disclosure rule: Counts are rounded" in text
    rows = list(csv.reader(io.StringIO("\n".join(
        line for line in text.splitlines() if not line.startswith("#")))))
    shown = link.evaluate(
        """(a) => { const box = a.closest('.widget-vbox');
            const t = [...box.querySelectorAll('table')].pop();
            return [...t.querySelectorAll('tr')].filter(r => r.querySelector('td'))
                   .map(r => r.querySelectorAll('td')[1].textContent); }""")
    header, body = rows[0], rows[1:]
    episodes = [r[header.index("episodes")] for r in body]
    assert episodes == shown, (episodes, shown)  # the same published counts, row for row
    # figures: choose SVG, then the camera button of the Kaplan-Meier chart saves an SVG file
    lab.click_button("SVG (vector, for print)")
    lab.page.wait_for_function(
        """() => { const p = [...document.querySelectorAll('.js-plotly-plot')].slice(0, 3);
                   return p.length === 3 && p.every(el => el._context &&
                       (el._context.toImageButtonOptions || {}).format === 'svg'); }""",
        timeout=30_000)
    km = lab.page.locator(".js-plotly-plot").nth(2)
    km.scroll_into_view_if_needed()
    km.hover()
    with lab.page.expect_download(timeout=30_000) as info:
        km.locator(".modebar-btn[data-title^='Download plot']").first.click(force=True)
    download = info.value
    assert download.suggested_filename == "glute-explorer-kaplan-meier.svg"
    svg = open(download.path(), encoding="utf-8").read()
    assert svg.lstrip().startswith("<svg") and "Time to recovery" in svg
    lab.screenshot("after-svg-export")
