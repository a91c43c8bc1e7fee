"""Plots drawn from a run's tables: the briefing of one run, runs side by side, and an ensemble's bands.

- ``briefing``: the five PNGs of one run (shortfall, days of cover, prices,
  dependency, the chain's flows)
- ``runs``: ``comparison_plots`` and ``sweep_plots``, a line per run; ``grid_plots``, a heat map of two
  parameters
- ``bands``: ``plot_ensemble`` and ``band_plots``, P50 lines over P5-P95 bands
- ``flows``: the alluvial chart of the chain; ``style``: what they all share

Plots read tables (``Results.table``, ``dependency``, ``summary``; a
comparison's or an ensemble's frames), never the live model or the recorder.
This is the only package of ``sim`` that imports matplotlib, so running and
tabulating stay importable (and fast) without it. Figures are made as
``matplotlib.figure.Figure`` (``style.figure``), never through pyplot: they
render without a display and without choosing a backend, and leave pyplot's
choice of one to the user.
"""
from .bands import band_countries, band_plots, band_shortfall_figure, plot_ensemble
from .briefing import briefing, briefing_countries
from .runs import comparison_plots, grid_plots, sweep_plots
from .style import colour

__all__ = ["band_countries", "band_plots", "band_shortfall_figure", "briefing", "colour", "comparison_plots",
           "briefing_countries", "grid_plots", "plot_ensemble", "sweep_plots"]
