"""A table's CSV: made column by column, it is the file pandas writes, byte for byte, whatever its columns hold."""
import datetime as dt
import os
from unittest import mock

import numpy as np
import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from sim import files
from sim.files import csv_text, with_csv_floats, write_table

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


NAMES = TEXT | st.integers(0, 3) | st.none() | st.just(pd.Timestamp("2020-01-01")) | st.just(0.5)


@st.composite
def frames(draw) -> pd.DataFrame:
    """A table of up to six rows and five columns, their names text or not, the same name perhaps twice."""
    rows = draw(st.integers(0, 6))
    kinds = draw(st.lists(st.sampled_from(sorted(VALUES)), min_size=1, max_size=5))
    names = draw(st.lists(TEXT, min_size=len(kinds), max_size=len(kinds), unique=True)
                 | st.lists(NAMES, min_size=len(kinds), max_size=len(kinds)))
    columns = []
    for kind in kinds:
        values, dtype = VALUES[kind]
        columns.append(pd.Series(draw(st.lists(values, min_size=rows, max_size=rows)), dtype=dtype))
    frame = pd.concat(columns, axis=1) if columns else pd.DataFrame()
    frame.columns = names
    return frame


@given(frames())
def test_a_table_s_csv_is_the_one_pandas_writes_byte_for_byte(frame):
    expected = with_csv_floats(frame).to_csv(index=False)
    assert csv_text(frame) == expected
    with mock.patch.object(files, "CSV_ROWS", 2):          # made two rows at a time, the same
        assert csv_text(frame) == expected


def test_floats_are_written_to_nine_figures_under_names_that_repeat_or_are_not_text():
    frame = pd.DataFrame([[1 / 3, 2 / 3, 0.25]], columns=["t", "t", 7])
    assert csv_text(frame).split(os.linesep)[1] == "0.333333333,0.666666667,0.25"


def test_a_written_table_holds_its_dates_as_iso_days_and_its_floats_to_nine_figures(tmp_path):
    frame = pd.DataFrame({"date": pd.to_datetime(["2026-01-05", "2026-01-12"]), "country": ["JP", "KR, South"],
                          "t": [1 / 3, np.nan]})
    write_table(frame, tmp_path / "table", ("csv",))
    lines = ["date,country,t", "2026-01-05,JP,0.333333333", '2026-01-12,"KR, South",', ""]
    assert (tmp_path / "table.csv").read_bytes() == os.linesep.join(lines).encode()
