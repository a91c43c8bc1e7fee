"""A table's CSV: made column by column, it is the file pandas writes, byte for byte, whatever its columns hold."""
import datetime as dt

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from sim.files import csv_floats, csv_text, write_table


def as_pandas_writes(frame: pd.DataFrame) -> str:
    return frame.assign(**{name: csv_floats(column.to_numpy()) for name, column in frame.items()
                           if column.dtype.kind == "f"}).to_csv(index=False)


TEXT = st.text(alphabet=st.sampled_from("ab ,\"'\n\r;é€\t0."), max_size=6)
DATES = st.dates(dt.date(1900, 1, 1), dt.date(2100, 12, 31))
VALUES = {                                                  # what a column holds, and its dtype (None: pandas')
    "floats": (st.floats(allow_nan=True, allow_infinity=True, width=64), "float64"),
    "whole numbers": (st.integers(-2 ** 62, 2 ** 62), "int64"),
    "booleans": (st.booleans(), "bool"),
    "text or nothing": (st.none() | TEXT, object),
    "dates or nothing": (st.none() | DATES, object),
    "pandas' text": (st.none() | TEXT, "string"),
    "anything": (st.none() | TEXT | DATES | st.integers(-5, 5) | st.booleans() | st.floats(width=64), object),
    "times of day": (st.datetimes(dt.datetime(2000, 1, 1), dt.datetime(2030, 1, 1)), "datetime64[ns]"),
}


@st.composite
def frames(draw) -> pd.DataFrame:
    rows = draw(st.integers(0, 6))
    kinds = draw(st.lists(st.sampled_from(sorted(VALUES)), min_size=1, max_size=5))
    names = draw(st.lists(TEXT, min_size=len(kinds), max_size=len(kinds), unique=True))
    columns = {}
    for name, kind in zip(names, kinds):
        values, dtype = VALUES[kind]
        columns[name] = pd.Series(draw(st.lists(values, min_size=rows, max_size=rows)), dtype=dtype)
    return pd.DataFrame(columns)


@given(frames())
def test_a_table_s_csv_is_the_one_pandas_writes_byte_for_byte(frame):
    assert csv_text(frame) == as_pandas_writes(frame)


def test_a_written_table_holds_its_dates_as_iso_days_and_its_floats_to_nine_figures(tmp_path):
    frame = pd.DataFrame({"date": pd.to_datetime(["2026-01-05", "2026-01-12"]), "country": ["JP", "KR, South"],
                          "t": [1 / 3, np.nan]})
    write_table(frame, tmp_path / "table", ("csv",))
    assert (tmp_path / "table.csv").read_bytes() == b'date,country,t\n2026-01-05,JP,0.333333333\n2026-01-12,"KR, South",\n'
