"""Uncertain numbers: any number in a scenario may be written as a distribution.

A distribution is a small frozen object chosen by ``dist:`` (``normal``,
``lognormal``, ``triangular``, ``uniform``, ``choice``). It carries the bounds of
the field it stands in (a share stays in [0, 1], a capacity stays >= 0): samples
are clipped to them. ``sim.scenario.drawing`` draws a whole scenario's.

Dates may be distributions too (``DateDist``: normal, triangular, uniform,
choice over dates), drawn as day numbers and rounded to a whole day.
"""
from __future__ import annotations

import datetime as dt
import math
from statistics import NormalDist
from typing import Annotated, Any, Literal, Union

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

TAIL = 0.001          # an unbounded distribution is read between these quantiles (``Distribution.quantile``)


def _standard_normal(q: float) -> float:
    """The standard normal's q-quantile, q kept within [TAIL, 1 - TAIL]."""
    return NormalDist().inv_cdf(min(max(q, TAIL), 1.0 - TAIL))


def _triangular(q: float, low: float, mode: float, high: float) -> float:
    """The q-quantile of a triangular distribution."""
    if high == low:
        return low
    split = (mode - low) / (high - low)
    if q < split:
        return low + math.sqrt(q * (high - low) * (mode - low))
    return high - math.sqrt((1.0 - q) * (high - low) * (high - mode))


def _chosen(q: float, p: tuple[float, ...] | None, n: int) -> int:
    """Which of n values (probabilities p, equal when None) holds the q-quantile."""
    edges = np.cumsum(p if p is not None else [1.0 / n] * n)
    return min(int(np.searchsorted(edges, q, side="right")), n - 1)


def _in_order(rule: str, *bounds) -> None:
    """Refuse bounds (numbers or dates) out of order: ``rule`` names them, e.g. 'low <= mode <= high'."""
    if any(a > b for a, b in zip(bounds, bounds[1:])):
        raise ValueError(f"needs {rule}, got {', '.join(str(b) for b in bounds)}")


class Distribution(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    lower: float | None = Field(default=None, exclude=True, description="bound of the field, set by the schema")
    upper: float | None = Field(default=None, exclude=True)

    def _draw(self, rng: np.random.Generator) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def sample(self, rng: np.random.Generator) -> float:
        """One draw, clipped to the bounds of the field it stands in."""
        x = float(self._draw(rng))
        if self.lower is not None:
            x = max(x, self.lower)
        if self.upper is not None:
            x = min(x, self.upper)
        return x

    def samples(self, rng: np.random.Generator, n: int) -> np.ndarray:
        """``n`` draws, the same numbers as ``n`` calls of ``sample`` in turn (from one NumPy call where the
        distribution has one: a licence's review times are drawn a step's applications at a time)."""
        x = self._draws(rng, n)
        low, high = self.support()       # a bound the draws cannot pass changes none (a licence's review times)
        if self.lower is not None and self.lower > low:     # as ``max(x, lower)``: the draw where they tie
            x = np.where(self.lower > x, self.lower, x)    # (-0.0 and 0.0 too)
        if self.upper is not None and self.upper < high:
            x = np.where(self.upper < x, self.upper, x)
        return x

    def _draws(self, rng: np.random.Generator, n: int) -> np.ndarray:
        return np.array([float(self._draw(rng)) for _ in range(n)])

    def quantile(self, q: float) -> float:
        """The value below which a share ``q`` of draws fall (the inverse of the distribution function), clipped
        to the bounds of the field: a designed experiment (``sensitivity``) reads a distribution through it.
        An unbounded tail is read between the TAIL and 1 - TAIL quantiles, so q = 0 and 1 stay finite."""
        x = float(self._quantile(min(max(q, 0.0), 1.0)))
        if self.lower is not None:
            x = max(x, self.lower)
        if self.upper is not None:
            x = min(x, self.upper)
        return x

    def _quantile(self, q: float) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def central(self) -> float:
        """A representative value (mean or mode), for summaries and deterministic runs."""
        raise NotImplementedError  # pragma: no cover

    def support(self) -> tuple[float, float]:
        raise NotImplementedError  # pragma: no cover

    def with_bounds(self, lower: float | None, upper: float | None) -> "Distribution":
        """This distribution bound to a field's range; refuses one lying wholly outside it."""
        lo, hi = self.support()
        if (lower is not None and hi < lower) or (upper is not None and lo > upper):
            rng_txt = f"[{'-inf' if lower is None else lower}, {'inf' if upper is None else upper}]"
            raise ValueError(f"distribution lies wholly outside the allowed range {rng_txt}")
        return self.model_copy(update={"lower": lower, "upper": upper})


class Normal(Distribution):
    dist: Literal["normal"]
    mean: float
    sd: float = Field(ge=0)

    def _draw(self, rng):
        return rng.normal(self.mean, self.sd)

    def _draws(self, rng, n):
        return rng.normal(self.mean, self.sd, size=n)

    def _quantile(self, q):
        return self.mean + self.sd * _standard_normal(q)

    def central(self):
        return self.mean

    def support(self):
        return (-math.inf, math.inf) if self.sd > 0 else (self.mean, self.mean)


class LogNormal(Distribution):
    """Log-normal given by its median and the sd of log(x) (sigma)."""

    dist: Literal["lognormal"]
    median: float = Field(gt=0)
    sigma: float = Field(ge=0)

    def _draw(self, rng):
        return rng.lognormal(math.log(self.median), self.sigma)

    def _draws(self, rng, n):
        return rng.lognormal(math.log(self.median), self.sigma, size=n)

    def _quantile(self, q):
        return math.exp(math.log(self.median) + self.sigma * _standard_normal(q))

    def central(self):
        return self.median

    def support(self):
        return (0.0, math.inf)


class Triangular(Distribution):
    dist: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _ordered(self):
        _in_order("low <= mode <= high", self.low, self.mode, self.high)
        return self

    def _draw(self, rng):
        if self.low == self.high:
            return self.low
        return rng.triangular(self.low, self.mode, self.high)

    def _draws(self, rng, n):
        if self.low == self.high:
            return np.full(n, float(self.low))
        return rng.triangular(self.low, self.mode, self.high, size=n)

    def _quantile(self, q):
        return _triangular(q, self.low, self.mode, self.high)

    def central(self):
        return self.mode

    def support(self):
        return (self.low, self.high)


class Uniform(Distribution):
    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self):
        _in_order("low <= high", self.low, self.high)
        return self

    def _draw(self, rng):
        return rng.uniform(self.low, self.high)

    def _draws(self, rng, n):
        return rng.uniform(self.low, self.high, size=n)

    def _quantile(self, q):
        return self.low + q * (self.high - self.low)

    def central(self):
        return (self.low + self.high) / 2

    def support(self):
        return (self.low, self.high)


class Choice(Distribution):
    """One of several values, with probabilities p (equal when omitted)."""

    dist: Literal["choice"]
    values: tuple[float, ...] = Field(min_length=1)
    p: tuple[float, ...] | None = None

    @model_validator(mode="after")
    def _probabilities(self):
        self._check_p(self.p, len(self.values))
        return self

    @staticmethod
    def _check_p(p: tuple[float, ...] | None, n: int) -> None:
        if p is not None:
            if len(p) != n:
                raise ValueError(f"p has {len(p)} entries for {n} values")
            if any(x < 0 for x in p) or abs(sum(p) - 1) > 1e-9:
                raise ValueError(f"p must be >= 0 and sum to 1, got sum {sum(p):g}")

    def _draw(self, rng):
        return self.values[int(rng.choice(len(self.values), p=self.p))]

    def _quantile(self, q):
        return self.values[_chosen(q, self.p, len(self.values))]

    def central(self):
        weights = self.p or [1 / len(self.values)] * len(self.values)
        return max(zip(weights, self.values))[1]

    def support(self):
        return (min(self.values), max(self.values))


Dist = Annotated[Union[Normal, LogNormal, Triangular, Uniform, Choice], Field(discriminator="dist")]


# ---------------------------------------------------------------- dates
NORMAL_DATE_SDS = 4.0   # a normal date is clipped at this many sd either side, so every draw has a known range


def _day(x: float) -> dt.date:
    """A day number (proleptic Gregorian ordinal, possibly fractional) rounded to the nearest whole day."""
    return dt.date.fromordinal(math.floor(x + 0.5))


def _day_only(value: Any) -> Any:
    """Dates inside a date distribution: written dates only (pydantic would read a number as a Unix time)."""
    if isinstance(value, (bool, int, float)) or (isinstance(value, dt.datetime) and value.time() != dt.time()):
        raise ValueError(f"expected a date written YYYY-MM-DD, got {value!r}")
    return value


Day = Annotated[dt.date, BeforeValidator(_day_only)]


class DateDistribution(Distribution):
    """A date drawn as a day number (``date.toordinal()``) and rounded to a whole day."""

    def sample(self, rng: np.random.Generator) -> dt.date:
        lo, hi = self.support()
        x = min(max(float(self._draw(rng)), lo.toordinal()), hi.toordinal())
        return _day(x)

    def samples(self, rng: np.random.Generator, n: int) -> list[dt.date]:
        return [self.sample(rng) for _ in range(n)]

    def quantile(self, q: float) -> dt.date:
        lo, hi = self.support()
        return _day(min(max(float(self._quantile(min(max(q, 0.0), 1.0))), lo.toordinal()), hi.toordinal()))

    def central(self) -> dt.date:
        return _day(self._central_day())

    def _central_day(self) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def support(self) -> tuple[dt.date, dt.date]:  # pragma: no cover - abstract
        raise NotImplementedError

    def with_bounds(self, lower, upper):  # pragma: no cover - dates carry their range in support()
        raise TypeError("date distributions have no field bounds")

    def __str__(self) -> str:
        lo, hi = self.support()
        return f"{lo}..{hi} ({self.dist}, central {self.central()})"


class DateNormal(DateDistribution):
    """A normal over days around ``mean`` with ``sd_days``, clipped at NORMAL_DATE_SDS sd either side."""

    dist: Literal["normal"]
    mean: Day
    sd_days: float = Field(ge=0)

    @model_validator(mode="after")
    def _representable(self):
        half = NORMAL_DATE_SDS * self.sd_days
        if not (dt.date.min.toordinal() <= self.mean.toordinal() - half
                and self.mean.toordinal() + half <= dt.date.max.toordinal()):
            raise ValueError(f"sd_days {self.sd_days:g} is too large: {NORMAL_DATE_SDS:g} sd either side of "
                             f"{self.mean} must stay within years 1-9999")
        return self

    def _draw(self, rng):
        return rng.normal(self.mean.toordinal(), self.sd_days)

    def _quantile(self, q):
        return self.mean.toordinal() + self.sd_days * _standard_normal(q)

    def _central_day(self):
        return self.mean.toordinal()

    def support(self):
        half = NORMAL_DATE_SDS * self.sd_days
        return _day(self.mean.toordinal() - half), _day(self.mean.toordinal() + half)


class DateTriangular(DateDistribution):
    dist: Literal["triangular"]
    low: Day
    mode: Day
    high: Day

    @model_validator(mode="after")
    def _ordered(self):
        _in_order("low <= mode <= high", self.low, self.mode, self.high)
        return self

    def _draw(self, rng):
        if self.low == self.high:
            return self.low.toordinal()
        return rng.triangular(self.low.toordinal(), self.mode.toordinal(), self.high.toordinal())

    def _quantile(self, q):
        return _triangular(q, self.low.toordinal(), self.mode.toordinal(), self.high.toordinal())

    def _central_day(self):
        return self.mode.toordinal()

    def support(self):
        return self.low, self.high


class DateUniform(DateDistribution):
    dist: Literal["uniform"]
    low: Day
    high: Day

    @model_validator(mode="after")
    def _ordered(self):
        _in_order("low <= high", self.low, self.high)
        return self

    def _draw(self, rng):
        return rng.uniform(self.low.toordinal(), self.high.toordinal())

    def _quantile(self, q):
        return self.low.toordinal() + q * (self.high.toordinal() - self.low.toordinal())

    def _central_day(self):
        return (self.low.toordinal() + self.high.toordinal()) / 2

    def support(self):
        return self.low, self.high


class DateChoice(DateDistribution):
    """One of several dates, with probabilities p (equal when omitted); central: the most likely."""

    dist: Literal["choice"]
    values: tuple[Day, ...] = Field(min_length=1)
    p: tuple[float, ...] | None = None

    @model_validator(mode="after")
    def _probabilities(self):
        Choice._check_p(self.p, len(self.values))
        return self

    def _draw(self, rng):
        return self.values[int(rng.choice(len(self.values), p=self.p))].toordinal()

    def _quantile(self, q):
        return self.values[_chosen(q, self.p, len(self.values))].toordinal()

    def _central_day(self):
        weights = self.p or [1 / len(self.values)] * len(self.values)
        return max(zip(weights, self.values))[1].toordinal()

    def support(self):
        return min(self.values), max(self.values)


DateDist = Annotated[Union[DateNormal, DateTriangular, DateUniform, DateChoice], Field(discriminator="dist")]
DATE_DIST_KINDS = ("normal", "triangular", "uniform", "choice")
DATE_DIST_KEYS = {"normal": ("mean", "sd_days"), "triangular": ("low", "mode", "high"),
                  "uniform": ("low", "high"), "choice": ("values", "p")}
