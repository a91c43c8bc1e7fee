"""History as the test: observed figures of past episodes (``seeds/history.yaml``) against their runs."""
from .scorecard import REPLICATIONS, Episode, Scorecard, backtest, default_folder, episodes
from .targets import Period, Selection, Target, load_targets

__all__ = ["REPLICATIONS", "Episode", "Period", "Scorecard", "Selection", "Target", "backtest", "default_folder",
           "episodes", "load_targets"]
