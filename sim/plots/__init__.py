"""Plots drawn from a run's tables: the briefing of one run, runs side by side, and an ensemble's bands.

- ``briefing``: the five PNGs of one run (shortfall, days of cover, prices,
  dependency, the chain's flows)
- ``runs``: ``comparison_plots`` and ``sweep_plots``, a line per run
- ``bands``: ``plot_ensemble`` and ``band_plots``, P50 lines over P5-P95 bands
- ``flows``: the alluvial chart of the chain; ``style``: what they all share

Plots read tables (``Results.table``, ``dependency``, ``summary``; a
comparison's or an ensemble's frames), never the live model or the recorder.
This is the only package of ``sim`` that imports matplotlib, so running and
tabulating stay importable (and fast) without it; the Agg backend is chosen
here, before any module of the package imports pyplot, so plots render
without a display.
"""
import matplotlib

matplotlib.use("Agg")

# the modules below import pyplot, so they come after the backend is chosen (hence E402)
from .bands import band_countries, band_plots, band_shortfall_figure, plot_ensemble  # noqa: E402
from .briefing import briefing, briefing_countries  # noqa: E402
from .runs import comparison_plots, sweep_plots  # noqa: E402
from .style import colour  # noqa: E402

__all__ = ["band_countries", "band_plots", "band_shortfall_figure", "briefing", "colour", "comparison_plots",
           "briefing_countries", "plot_ensemble", "sweep_plots"]
