"""Uncertain numbers: any number in a scenario may be written as a distribution.

A distribution is a small frozen object chosen by ``dist:`` (``normal``,
``lognormal``, ``triangular``, ``uniform``, ``choice``). It carries the bounds of
the field it stands in (a share stays in [0, 1], a capacity stays >= 0): samples
are clipped to them. ``realise(obj, rng)`` turns a scenario holding distributions
into one holding plain numbers, drawing in a fixed order so that the same seed
gives the same world.
"""
from __future__ import annotations

import math
from typing import Annotated, Any, Literal, Union

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, model_validator


class _Dist(BaseModel):
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

    def central(self) -> float:
        """A representative value (mean or mode), for summaries and deterministic runs."""
        raise NotImplementedError  # pragma: no cover

    def support(self) -> tuple[float, float]:
        raise NotImplementedError  # pragma: no cover

    def with_bounds(self, lower: float | None, upper: float | None) -> "_Dist":
        """This distribution bound to a field's range; refuses one lying wholly outside it."""
        lo, hi = self.support()
        if (lower is not None and hi < lower) or (upper is not None and lo > upper):
            rng_txt = f"[{'-inf' if lower is None else lower}, {'inf' if upper is None else upper}]"
            raise ValueError(f"distribution lies wholly outside the allowed range {rng_txt}")
        return self.model_copy(update={"lower": lower, "upper": upper})


class Normal(_Dist):
    dist: Literal["normal"]
    mean: float
    sd: float = Field(ge=0)

    def _draw(self, rng):
        return rng.normal(self.mean, self.sd)

    def central(self):
        return self.mean

    def support(self):
        return (-math.inf, math.inf) if self.sd > 0 else (self.mean, self.mean)


class LogNormal(_Dist):
    """Log-normal given by its median and the sd of log(x) (sigma)."""

    dist: Literal["lognormal"]
    median: float = Field(gt=0)
    sigma: float = Field(ge=0)

    def _draw(self, rng):
        return rng.lognormal(math.log(self.median), self.sigma)

    def central(self):
        return self.median

    def support(self):
        return (0.0, math.inf)


class Triangular(_Dist):
    dist: Literal["triangular"]
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _ordered(self):
        if not self.low <= self.mode <= self.high:
            raise ValueError(f"needs low <= mode <= high, got {self.low}, {self.mode}, {self.high}")
        return self

    def _draw(self, rng):
        if self.low == self.high:
            return self.low
        return rng.triangular(self.low, self.mode, self.high)

    def central(self):
        return self.mode

    def support(self):
        return (self.low, self.high)


class Uniform(_Dist):
    dist: Literal["uniform"]
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self):
        if not self.low <= self.high:
            raise ValueError(f"needs low <= high, got {self.low}, {self.high}")
        return self

    def _draw(self, rng):
        return rng.uniform(self.low, self.high)

    def central(self):
        return (self.low + self.high) / 2

    def support(self):
        return (self.low, self.high)


class Choice(_Dist):
    """One of several values, with probabilities p (equal when omitted)."""

    dist: Literal["choice"]
    values: tuple[float, ...] = Field(min_length=1)
    p: tuple[float, ...] | None = None

    @model_validator(mode="after")
    def _probabilities(self):
        if self.p is not None:
            if len(self.p) != len(self.values):
                raise ValueError(f"p has {len(self.p)} entries for {len(self.values)} values")
            if any(x < 0 for x in self.p) or abs(sum(self.p) - 1) > 1e-9:
                raise ValueError(f"p must be >= 0 and sum to 1, got sum {sum(self.p):g}")
        return self

    def _draw(self, rng):
        return self.values[int(rng.choice(len(self.values), p=self.p))]

    def central(self):
        weights = self.p or [1 / len(self.values)] * len(self.values)
        return max(zip(weights, self.values))[1]

    def support(self):
        return (min(self.values), max(self.values))


Dist = Annotated[Union[Normal, LogNormal, Triangular, Uniform, Choice], Field(discriminator="dist")]
DIST_KINDS = ("normal", "lognormal", "triangular", "uniform", "choice")


def realise(obj: Any, rng: np.random.Generator | None) -> Any:
    """Replace every distribution inside ``obj`` by a number.

    With ``rng`` None each distribution gives its central value (a deterministic
    run of the 'expected' world); otherwise one draw each, in field order.
    """
    if isinstance(obj, _Dist):
        return obj.central() if rng is None else obj.sample(rng)
    if isinstance(obj, BaseModel):
        updates = {}
        for name in type(obj).model_fields:
            value = getattr(obj, name)
            new = realise(value, rng)
            if new is not value:
                updates[name] = new
        return obj.model_copy(update=updates) if updates else obj
    if isinstance(obj, dict):
        new_items = {k: realise(v, rng) for k, v in obj.items()}
        return obj if all(new_items[k] is obj[k] for k in obj) else new_items
    if isinstance(obj, (list, tuple)):
        new_seq = [realise(v, rng) for v in obj]
        return obj if all(a is b for a, b in zip(new_seq, obj)) else type(obj)(new_seq)
    return obj


def has_distributions(obj: Any) -> bool:
    """True when any number inside ``obj`` is a distribution."""
    if isinstance(obj, _Dist):
        return True
    if isinstance(obj, BaseModel):
        return any(has_distributions(getattr(obj, n)) for n in type(obj).model_fields)
    if isinstance(obj, dict):
        return any(has_distributions(v) for v in obj.values())
    if isinstance(obj, (list, tuple)):
        return any(has_distributions(v) for v in obj)
    return False
