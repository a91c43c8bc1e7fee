"""What a run produced: the recorder's raw facts, tidy tables, the typed summary of headline figures,
headline series and figures named for comparisons, the text the CLI prints."""
from .summary import Summary
from .tables import Results

__all__ = ["Results", "Summary"]
