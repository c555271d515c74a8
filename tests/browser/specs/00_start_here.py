"""Browser spec for 00_start_here: the demo slider moves its bar."""

NOTEBOOK = "00_start_here.ipynb"
MIN_PLOTLY = 1
MIN_WIDGETS = 2


def interact(lab) -> None:  # type: ignore[no-untyped-def]
    before = lab.plotly_state(0)
    lab.move_slider(0, presses=3)
    lab.wait_for_plotly_change(0, before)
    lab.wait_for_text("You chose 8 out of 10.")
