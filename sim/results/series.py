"""Headline series of a run, monthly by default: small tidy frames of what a comparison, a sweep, an
ensemble's bands and the golden reference follow over time (date, metric, country, element, value)."""
from __future__ import annotations

import pandas as pd

from ..stages import MAGNET, MINE, REFINERY
from ..world.markets import HOME, OUTSIDE
from .tables import Results

SERIES_COLUMNS = ["date", "metric", "country", "element", "value"]
# the series of each market's price: the world's or the outside market's is "the price"; the home market's its own
PRICE_METRICS = {OUTSIDE: "price_multiple", HOME: "home_price_multiple"}


def headline_series(results: Results, frequency: str = "month") -> pd.DataFrame:
    """Small tidy series of the headline quantities (date, metric, country, value): the golden reference.

    Metrics: mined_t, separated_t (t REO), magnets_made_t, demand_t, unmet_t (t magnet), and per country the
    direct and embedded dependency of its oxide imports/consumption on China.
    """
    parts = []
    production = results.table("production", frequency)
    for stage, metric in ((MINE, "mined_t"), (REFINERY, "separated_t"), (MAGNET, "magnets_made_t")):
        part = production[production["stage"] == stage].groupby(["date", "country"], as_index=False)["t"].sum()
        parts.append(part.rename(columns={"t": "value"}).assign(metric=metric))
    unmet = results.table("unmet", frequency).groupby(["date", "country"], as_index=False)
    unmet = unmet[["demand_t", "unmet_t"]].sum()
    for metric in ("demand_t", "unmet_t"):
        parts.append(unmet[["date", "country", metric]].rename(columns={metric: "value"}).assign(metric=metric))
    dep = results.dependency("CN", frequency) if "CN" in results.net.countries else None
    if dep is not None:
        dep = dep[dep["stage"] == REFINERY]
        for metric in ("direct", "embedded"):
            parts.append(dep[["date", "country", metric]].rename(columns={metric: "value"}).assign(
                metric=f"oxide_{metric}_dependency_on_CN"))
    frame = pd.concat(parts, ignore_index=True)[["date", "metric", "country", "value"]]
    return frame.dropna().sort_values(["metric", "country", "date"]).reset_index(drop=True)


def monthly_series(results: Results) -> pd.DataFrame:
    """The monthly headline series of a run (``headline_series``) with prices and shortfall shares added."""
    return combine(headline_series(results, "month"), results.table("prices", "month"))


def combine(headline: pd.DataFrame, prices: pd.DataFrame) -> pd.DataFrame:
    """One long monthly frame (date, metric, country, element, value) from the headline series and prices.

    Metrics: those of ``headline_series`` (per country), ``shortfall_share`` (unmet_t / demand_t, per
    country) and ``price_multiple`` (per element; monthly mean of price / initial price: the world price, or
    with a home market the outside market's) and, with a home market, ``home_price_multiple`` (its own).
    """
    headline = headline.assign(date=pd.to_datetime(headline["date"]), element=None)
    wide = headline[headline["metric"].isin(["demand_t", "unmet_t"])].pivot_table(
        index=["date", "country"], columns="metric", values="value", aggfunc="sum").reset_index()
    parts = [headline]
    if {"demand_t", "unmet_t"} <= set(wide.columns):
        wide = wide[wide["demand_t"] > 0]
        parts.append(pd.DataFrame({"date": wide["date"], "metric": "shortfall_share", "country": wide["country"],
                                   "element": None, "value": wide["unmet_t"].fillna(0.0) / wide["demand_t"]}))
    if len(prices):
        metric = prices["market"].map(PRICE_METRICS) if "market" in prices.columns else PRICE_METRICS[OUTSIDE]
        parts.append(pd.DataFrame({"date": pd.to_datetime(prices["date"]), "metric": metric,
                                   "country": None, "element": prices["element"], "value": prices["multiple"]}))
    frame = pd.concat(parts, ignore_index=True)[SERIES_COLUMNS]
    return frame.sort_values(["metric", "country", "element", "date"], na_position="first").reset_index(drop=True)
