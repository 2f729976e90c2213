"""Charts with the reader's numbers: the axes and tooltips format money with the same locale as the tables
(`€ 2.000` in Dutch, `€2,000` in English), never the chart library's own English default."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import altair as alt
import pandas as pd

from console.i18n import t

# d3-format locales (what Vega-Lite formats numbers with), as CLDR's nl_NL and en_GB write money.
NUMBER_LOCALES = {
    "nl": {"decimal": ",", "thousands": ".", "grouping": [3], "currency": ["€ ", ""]},
    "en": {"decimal": ".", "thousands": ",", "grouping": [3], "currency": ["€", ""]},
}


def ageing(labels: Sequence[str], amounts: Sequence[Decimal], lang: str) -> alt.Chart:
    """Open amount per age bucket, horizontal bars in the buckets' order."""
    column = t("col_open_amount", lang)
    frame = pd.DataFrame({"bucket": list(labels), "amount": [float(a) for a in amounts]})
    chart = alt.Chart(frame, height=220).mark_bar().encode(
        y=alt.Y("bucket:N", sort=list(labels), title=None),
        x=alt.X("amount:Q", title=column, axis=alt.Axis(format="$,.0f", tickMinStep=1),
                scale=alt.Scale(domainMin=0)),
        tooltip=[alt.Tooltip("bucket:N", title=t("col_age", lang)),
                 alt.Tooltip("amount:Q", title=column, format="$,.2f")],
    )
    return chart.configure(locale={"number": NUMBER_LOCALES.get(lang, NUMBER_LOCALES["nl"])})
