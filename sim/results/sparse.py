"""A record of a run kept as what is not zero: the recorder's [step, country, country, ...] facts.

Bilateral trade (``[step, buyer, supplier, item]``) and provenance (``[step, country, provenance row]``,
1 + 4 x countries rows) would grow with the square of the countries if every step kept them whole, yet
only the routes that carried something and the rows that hold mass are not zero: a few per cent at 200
countries. ``SparseSteps`` keeps, for each step, those entries only: an entry is a position over the
record's leading axes (a route; a country and a provenance row) with a dense row over its trailing axes
(the route's items), so its memory grows with what moved, and a whole [step, ...] array is never made
unless asked for.

Read it as the array it stands for: ``record[steps]`` (a step, a slice or an index array of steps; with
more of a key, ``record[steps, b, ...]``) is that part as a dense NumPy array, the same numbers, bit for
bit, as the dense record held; ``record.select(b, ...)`` narrows the leading axes and stays sparse;
``record.entries()`` lists what is not zero, for tables.
"""
from __future__ import annotations

import math

import numpy as np

from ..kernels import lazy

record_kernels = lazy("records")     # Numba loaded at its first kernel, not with this module

# an entry's step and flat lead position as written: 4 bytes each, not 8, as a run writes its records into
# memory it has not touched yet, and every page first written costs the run more than the entries it holds
POSITION = np.int32


class SparseSteps:
    """A ``[step, *lead, *tail]`` record of ``steps`` steps, kept as the positions over ``lead`` that are not
    zero in each step, each with a dense row over ``tail``.

    Written one of two ways, not both: ``add`` (flows that add up, as ``array[k][index] += rows`` in call
    order) or ``put`` (a block of a step set once, as ``array[k, part] = block``; a second ``put`` of the same
    block replaces the first)."""

    def __init__(self, steps: int, lead: tuple[int, ...], tail: tuple[int, ...] = ()):
        self.steps, self.lead, self.tail = steps, tuple(lead), tuple(tail)
        if max(steps, math.prod(self.lead)) > np.iinfo(POSITION).max:
            raise ValueError(f"SparseSteps: {steps} steps of {math.prod(self.lead)} positions; at most "
                             f"{np.iinfo(POSITION).max} of each")
        self._width = math.prod(self.tail)      # numbers in an entry's row
        # what is written goes into chunks (flat [n], rows [n, T], and step [n] first when added to: the blocks
        # table says the step of what is put), each as large as all before it and
        # the entries that asked for it (``put`` asks room for a whole block, though only its non-zero rows are
        # kept; ``put_sums`` for the entries it is given: a chunk of one call's size would hold a single call's
        # entries):
        # a run writes thousands of blocks, and an array per block would stay in the heap after the run is
        # gone; chunks that are never copied while the run grows them cost no more memory than one buffer
        # grown by doubling, and no copying. The kernels that write (sim.kernels.records) move the cursor:
        # where the next entry goes in the last chunk, and how many entries the chunks before it hold
        self._chunks: list[tuple[np.ndarray, ...]] = []
        self._counts: list[int] = []        # entries in each chunk before the last
        self._cursor = np.zeros(2, dtype=np.int64)
        # [step, part] -> (first, end) of the block's entries, counted over the chunks; an array, not a dict of
        # tuples: the objects a run leaves behind would age the run's own objects into the collector's oldest
        # generation
        self._blocks = np.zeros((steps, 0, 2), dtype=np.int64)
        self._adding = False
        self._frozen: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None
        # the last chunk's buffers and the cursor, and how many entries are surely free in it (-1: ask _room's
        # questions again): a step writes a record several times, and the questions cost more than the writing
        self._open: tuple[np.ndarray, ...] | None = None
        self._free = -1

    @property
    def shape(self) -> tuple[int, ...]:
        return (self.steps, *self.lead, *self.tail)

    @property
    def ndim(self) -> int:
        return len(self.shape)

    # ------------------------------------------------------------ writing
    def add(self, k: int, index: np.ndarray, rows: np.ndarray) -> None:
        """Add ``rows`` [m, *tail] at the flat lead positions ``index`` [m] of step ``k`` (each position once
        per call)."""
        m = len(index)
        rows = np.asarray(rows, dtype=float).reshape(m, self._width)
        record_kernels.append_rows(*self._room(m, adding=True), k, index, rows)

    def put(self, k: int, block: np.ndarray, part: int = 0) -> None:
        """Set the ``part``-th block of step ``k`` (its shape the lead's last axes, with the tail) to ``block``;
        only its positions that are not zero are kept."""
        size = math.prod(block.shape[:block.ndim - len(self.tail)])
        record_kernels.append_nonzero(*self._room(size, adding=False), self._blocks_of(size), k, part,
                                      block.reshape(size, self._width))

    def room_to_put(self, m: int, size: int) -> tuple[np.ndarray, ...]:
        """(flat, rows, cursor, blocks): where a kernel puts a block of ``size`` positions holding at most ``m``
        entries (``sim.kernels.records``)."""
        return (*self._room(m, adding=False), self._blocks_of(size))

    def room_to_add(self, m: int) -> tuple[np.ndarray, ...]:
        """(step, flat, rows, cursor): where a kernel adds at most ``m`` entries (``sim.kernels.records``)."""
        return self._room(m, adding=True)

    @property
    def _written(self) -> int:
        return int(self._cursor[0] + self._cursor[1])

    def _room(self, m: int, adding: bool) -> tuple[np.ndarray, ...]:
        """The buffers to write in, with room for ``m`` more entries, and the cursor (``sim.kernels.records``). A
        kernel writes at most the entries it was given room for, so while the entries surely free last, nothing
        need be asked."""
        if m <= self._free and adding == self._adding:
            self._free -= m
            return self._open
        if self._frozen is not None:
            raise RuntimeError("a record is written during its run and read after it: this one was read already")
        if adding != self._adding:
            if self._written:
                raise RuntimeError("a record is either added to or put in, not both")
            self._chunks, self._counts = [], []         # laid out for the other way, and empty
        self._adding = adding
        if not self._chunks or self._cursor[0] + m > len(self._chunks[-1][0]):
            size = max(m + self._written, 1024)
            if self._chunks:
                self._counts.append(int(self._cursor[0]))
            self._cursor[:] = 0, self._written
            chunk = (np.empty(size, POSITION), np.empty((size, self._width)))
            self._chunks.append((np.empty(size, POSITION), *chunk) if adding else chunk)
        self._open = (*self._chunks[-1], self._cursor)
        self._free = len(self._chunks[-1][0]) - int(self._cursor[0]) - m
        return self._open

    def _blocks_of(self, size: int) -> np.ndarray:
        """The table of blocks put; the first block, of ``size`` positions, sizes it."""
        if self._blocks.shape[1] == 0:
            self._blocks = np.full((self.steps, math.prod(self.lead) // size, 2), -1, dtype=np.int64)
        return self._blocks

    # ------------------------------------------------------------ the stored form
    def _entries(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(start [steps + 1], flat [N], rows [N, *tail]): the entries of step k are start[k]:start[k + 1],
        in order of their flat lead position, each position once (what was added to one, summed in order)."""
        if self._frozen is None:
            if self._adding:
                step, flat, rows = self._added()
                self._frozen = self._in_order(step, flat, rows)
            else:
                start, flat, rows = self._put()
                rising = flat[1:] > flat[:-1]
                rising[start[1:-1][(start[1:-1] > 0) & (start[1:-1] < len(flat))] - 1] = True    # a new step
                if rising.all():                          # as a block's rows are put, and its parts follow
                    self._frozen = (start, flat, rows)
                else:
                    self._frozen = self._in_order(np.repeat(np.arange(self.steps), np.diff(start)), flat, rows)
            self._chunks, self._counts = [], []
            self._open, self._free = None, -1
            self._cursor[:] = 0
            self._blocks = self._blocks[:, :0]            # held once, in the stored form
        return self._frozen

    def _added(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(step, flat, rows) of every entry added, in call order."""
        counts = [*self._counts, int(self._cursor[0])]
        chunks = [tuple(a[:n] for a in chunk) for chunk, n in zip(self._chunks, counts)]
        step, flat, rows = (np.concatenate(a) for a in zip(*chunks, _nothing(self.tail)))
        return step, flat, rows.reshape(len(rows), *self.tail)

    def _put(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(start [steps + 1], flat, rows) of the blocks that count, in order of step and part, each block's
        entries copied from its chunk at once: a step puts its parts in any order, and an index of every
        entry would cost more than the entries."""
        spans = self._blocks.reshape(-1, 2)
        spans = spans[spans[:, 0] >= 0]
        per_step = np.where(self._blocks[:, :, 0] >= 0, self._blocks[:, :, 1] - self._blocks[:, :, 0], 0).sum(axis=1)
        start = np.concatenate([[0], np.cumsum(per_step)])
        base = np.cumsum([0, *self._counts])          # the first entry of each chunk, counted over the chunks
        chunk = np.searchsorted(base, spans[:, 0], side="right") - 1      # a block lies in one chunk
        within = spans - base[chunk][:, None]         # each block's first and end entry in its chunk
        blocks = list(zip(chunk.tolist(), *within.T.tolist()))
        flat, rows = (np.concatenate([self._chunks[c][a][i:j] for c, i, j in blocks] or [nothing])
                      for a, nothing in enumerate(_nothing(self.tail)[1:]))
        return start, flat, rows.reshape(len(rows), *self.tail)

    def _in_order(self, step: np.ndarray, flat: np.ndarray,
                  rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The stored form of entries in any order: sorted by step and position (what was added to one
        position keeps its call order), each position's rows summed."""
        key = step.astype(np.int64) * math.prod(self.lead) + flat
        if len(key) and (key[1:] < key[:-1]).any():
            order = np.argsort(key, kind="stable")
            key, rows = key[order], rows[order]
        first = np.ones(len(key), dtype=bool)
        first[1:] = key[1:] != key[:-1]
        if not first.all():                           # 0 + a + b ..., as += on a zeroed array adds them
            slot = np.cumsum(first) - 1
            summed = np.zeros((int(first.sum()), *self.tail))
            np.add.at(summed, slot, rows)
            key, rows = key[first], summed
        step, flat = np.divmod(key, math.prod(self.lead))
        return np.searchsorted(step, np.arange(self.steps + 1)), flat.astype(POSITION), rows

    @property
    def nbytes(self) -> int:
        """Bytes the record holds now."""
        held = [self._frozen] if self._frozen is not None else self._chunks
        return sum(a.nbytes for arrays in held for a in arrays)

    # ------------------------------------------------------------ reading
    def select(self, *key: int | slice) -> SparseSteps:
        """The record narrowed on its leading axes (after the step), as ``array[:, *key]`` would be: each part
        of ``key`` an index (the axis goes) or a slice with a positive step (the axis stays)."""
        if len(key) > len(self.lead):
            raise IndexError(f"select: {len(key)} indices for {len(self.lead)} leading axes")
        start, flat, rows = self._entries()
        indices = 0                          # the indices that lead the key
        while indices < len(key) and not isinstance(key[indices], slice):
            indices += 1
        if indices:                          # a block of the leading axes: a range of positions
            size = math.prod(self.lead[indices:])
            index = tuple(_index(part, n) for part, n in zip(key[:indices], self.lead))
            first = int(np.ravel_multi_index(index, self.lead[:indices])) * size
            kept = np.flatnonzero((flat >= first) & (flat < first + size))
            out = SparseSteps(self.steps, self.lead[indices:], self.tail)
            out._frozen = (np.searchsorted(kept, start), flat[kept] - first, rows[kept])   # kept before each step
            # the slices that follow narrow what the block holds: a fraction of the record's entries
            return out.select(*key[indices:]) if indices < len(key) else out
        # slices, and indices after one: the entries each narrowing part keeps, then their new positions
        parts = [key[axis] if axis < len(key) else slice(None) for axis in range(len(self.lead))]
        spans = [math.prod(self.lead[axis + 1:]) for axis in range(len(self.lead))]   # positions per index
        keeps = np.ones(len(flat), dtype=bool)
        for axis, (part, size, span) in enumerate(zip(parts, self.lead, spans)):
            if isinstance(part, slice):
                first, stop, stride = part.indices(size)
                if stride <= 0:
                    raise IndexError("select: a slice's step must be positive")
                if (first, stop, stride) != (0, size, 1):
                    c = _axis_index(flat, axis, size, span)
                    keeps &= (c >= first) & (c < stop)
                    if stride > 1:
                        keeps &= (c - first) % stride == 0
            else:
                keeps &= _axis_index(flat, axis, size, span) == _index(part, size)
        kept = np.flatnonzero(keeps)
        chosen = flat[kept].astype(np.int64)
        new_flat, new_lead = np.zeros(len(chosen), dtype=np.int64), []
        for axis, (part, size, span) in enumerate(zip(parts, self.lead, spans)):
            if isinstance(part, slice):
                first, stop, stride = part.indices(size)
                new_lead.append(len(range(first, stop, stride)))
                new_flat = new_flat * new_lead[-1] + (_axis_index(chosen, axis, size, span) - first) // stride
        out = SparseSteps(self.steps, tuple(new_lead), self.tail)
        out._frozen = (np.searchsorted(kept, start), new_flat, rows[kept])       # kept before each step
        return out

    def __getitem__(self, key) -> np.ndarray:
        """``record[steps]`` or ``record[steps, *lead key]``: that part as a dense array, as the whole record
        indexed so would give (``steps`` an index, a slice or an array of indices)."""
        steps, *lead = key if isinstance(key, tuple) else (key,)
        if lead:
            return self.select(*lead)[steps]
        start, flat, rows = self._entries()
        chosen = np.arange(self.steps)[steps]
        out = np.zeros((chosen.size, math.prod(self.lead), *self.tail))
        if isinstance(steps, slice) and chosen.size and chosen[-1] - chosen[0] == chosen.size - 1:   # a run of steps
            lo, hi = start[chosen[0]], start[chosen[-1] + 1]
            out[np.repeat(np.arange(chosen.size), np.diff(start[chosen[0]:chosen[-1] + 2])), flat[lo:hi]] = rows[lo:hi]
        else:
            for i, k in enumerate(chosen.reshape(-1)):
                out[i, flat[start[k]:start[k + 1]]] = rows[start[k]:start[k + 1]]
        return out.reshape(*chosen.shape, *self.lead, *self.tail)

    def total(self, steps: slice, items_first: bool = False) -> np.ndarray:
        """[*lead, *tail] the record summed over a run of ``steps``, step after step as NumPy sums the dense
        record over its step axis; ``items_first``: each entry's row summed first (as NumPy sums a row), so
        [*lead]. Made from the entries: nothing of [steps, *lead] is made whole."""
        start, flat, rows = self._entries()
        first, stop, _ = steps.indices(self.steps)
        lo = start[first]
        values = rows[lo:start[max(first, stop)]]
        values = values.sum(axis=tuple(range(1, rows.ndim))) if items_first else values
        out = np.zeros((math.prod(self.lead), *(() if items_first else self.tail)))
        np.add.at(out, flat[lo:start[max(first, stop)]], values)   # entry after entry: a position's steps in order
        return out.reshape(*self.lead, *(() if items_first else self.tail))

    def entries(self) -> tuple[np.ndarray, tuple[np.ndarray, ...], np.ndarray]:
        """What is not zero: (step [N], the lead coordinates (one [N] array per axis), rows [N, *tail]), in
        order of step, then position."""
        start, flat, rows = self._entries()
        step = np.repeat(np.arange(self.steps), np.diff(start))
        return step, np.unravel_index(flat, self.lead), rows


def _nothing(tail: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The buffers of no entries (what a record's are joined with: a record with none has them)."""
    return np.zeros(0, POSITION), np.zeros(0, POSITION), np.zeros((0, math.prod(tail)))


def add_goods(record: SparseSteps, k: int, buyer: np.ndarray, supplier: np.ndarray, goods: np.ndarray,
              items_summed: bool) -> None:
    """``add`` of goods by route to a ``[step, buyer, supplier, item]`` record: ``goods`` [m, L, X] (row 0 their
    mass) at routes ``buyer`` [m], ``supplier`` [m] (each route once per call), as ``record.add(k, buyer *
    suppliers + supplier, goods[:, 0])`` would, or with ``goods[:, 0].sum(axis=-1, keepdims=True)`` when
    ``items_summed`` (a record of one item). One kernel call: no index, mass or sum made first."""
    record_kernels.append_goods(*record.room_to_add(len(buyer)), k, buyer, supplier, record.lead[1], goods,
                                items_summed)


def put_sums(k: int, size: int, at: np.ndarray, values: np.ndarray, plain: tuple[SparseSteps, int] | None = None,
             weighted: tuple[SparseSteps, int, np.ndarray] | None = None) -> None:
    """``put`` of a block of ``size`` positions, given as those that may not be zero (``at`` [n], ascending,
    with ``values`` [n, X]), summed over its last axis, into records without trailing axes, in one pass over
    them: into ``plain`` (a record and the part) as ``block.sum(axis=-1)`` would set it, into ``weighted`` (a
    record, the part and the weights along the axis) as ``block @ weights`` would, its products added in order.
    Neither is made whole."""
    m = len(at)
    first = _NOWHERE if plain is None else (*plain[0].room_to_put(m, size), plain[1])
    if weighted is None:
        record_kernels.append_sums(*first, *_NOWHERE, k, size, at, values, _NO_WEIGHTS)
    else:
        record, part, weights = weighted
        record_kernels.append_sums(*first, *record.room_to_put(m, size), part, k, size, at, values, weights)


# a record that put_sums leaves alone: buffers (flat, rows), cursor and blocks with nothing in them, part -1
_NOWHERE = (np.zeros(0, POSITION), np.zeros((0, 1)), np.zeros(2, np.int64), np.zeros((0, 0, 2), np.int64), -1)
_NO_WEIGHTS = np.zeros(0)


def _axis_index(flat: np.ndarray, axis: int, size: int, span: int) -> np.ndarray:
    """Each flat lead position's index on ``axis`` (``size`` indices, ``span`` positions each): the leading axis
    needs no remainder (a position is below the product of the leading axes), and the last no division (integer
    division is most of what narrowing a record costs)."""
    index = flat // span if span > 1 else flat
    return index % size if axis > 0 else index


def _index(part: int, size: int) -> int:
    """An index of an axis of ``size`` (below zero: from its end), checked."""
    index = int(part) + size if int(part) < 0 else int(part)
    if not 0 <= index < size:
        raise IndexError(f"select: index {part} is out of bounds for an axis of {size}")
    return index
