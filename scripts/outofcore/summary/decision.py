"""What to use: one decision per (job, question, data), and the verdict a reader sees first.

Built from every stage's headline rows (`outofcore.summary.headline`) and the summary's
limits (`outofcore.summary.table.summarize`). Per (job, question, data):
- the candidates are the rows that are not the tutorial's way, configured as their
  documentation advises (`setting` tuned) or this workflow's own code (pipeline): never
  a library left at its defaults; a default row of the same method says what the
  tuning is worth (`vs_default`);
- the pick is the highest value (the lowest where the question ranks by a time, the
  highest compression ratio where it asks for the smallest);
- ties are the other candidates whose samples overlap the pick's (from the slowest to
  the fastest sample; where a stage gave only the spread, the widest range it allows):
  among ties no winner is named;
- `vs_tutorial` is the pick's value over the tutorial's way of the same question (else
  of the same job and data), `fraction_of_limit` the pick's fraction of the limit that
  bounds it, the limit named, `bound` = yes for a true ceiling, reference otherwise.
"""

import html
import math
import re

import pandas as pd

from outofcore.core.report_tables import byte_count
from outofcore.summary.shares import by_share, percent, share_phrase
from outofcore.summary.table import ABOVE, STABLE_SPREAD, summarize

DECISION_COLUMNS = [  # the first seven as before, then what the decision adds
    "job", "method", "value", "unit", "fraction_of_limit", "vs_tutorial", "setting",
    "question", "data", "pick", "how", "recipe", "value_low", "value_high", "spread", "stable",
    "ties", "compression_ratio", "file_bytes", "size", "limit", "bound", "tutorial", "vs_default", "flags",
    "stage", "share", "variant",
]  # fmt: skip
TUNED = ("tuned", "pipeline")
# Where each stage's evidence is shown in the report (the plot a pick can be checked on)
EVIDENCE = {
    "particles": "results/particles/formats.png",
    "blosc": "results/blosc/matrix.png",
    "hugearray": "results/hugearray/throughput.png",
}
DECISION_PAGE = "results/decision.html"
JOB_EVIDENCE = {"query a table": "results/particles/shares.png"}  # a job whose own plot shows its picks


def sample_range(row: pd.Series) -> tuple[float, float]:
    """(slowest, fastest) figure of the row's samples. A stage that gave only the spread
    s = (max - min) / median of seconds: the samples lie within median x (1 +- s), so the
    figure within value / (1 + s) .. value / (1 - s) (wider than the truth, never narrower)."""
    low, high, value, spread = (
        float(row.get(k, math.nan)) for k in ("value_low", "value_high", "value", "spread")
    )
    if math.isfinite(low) and math.isfinite(high):
        return low, high
    if math.isfinite(spread):
        return value / (1 + spread), (value / (1 - spread) if spread < 1 else math.inf)
    return value, value


def human_bytes(count: float) -> str:
    """Bytes as the report's tables show them (kB, MB, GB, 3 significant digits)."""
    return byte_count(count) if math.isfinite(count) else ""


def size_text(ratio: float, file_bytes: float) -> str:
    parts = []
    if math.isfinite(file_bytes):
        parts.append(human_bytes(file_bytes))
    if math.isfinite(ratio):
        parts.append(f"ratio {ratio:.3g}")
    return ", ".join(parts)


def _text(frame: pd.DataFrame, column: str, default: str = "") -> pd.Series:
    if column not in frame:
        return pd.Series(default, index=frame.index, dtype=object)
    return frame[column].fillna(default).astype(str).replace("nan", default)


def _prepared(limits: pd.DataFrame, headlines: pd.DataFrame, nodes: pd.DataFrame | None) -> pd.DataFrame:
    summary = summarize(limits, headlines, nodes, candidates=True)
    table = headlines.reset_index(drop=True).copy()
    for column in ("fraction_of_limit", "limit", "bound", "flags"):
        table[column] = summary[column].to_numpy()
    table["tutorial"] = table["tutorial"].astype(str).str.lower() == "true"
    table["question"] = _text(table, "question")
    table["question"] = table["question"].where(table["question"] != "", table["job"])
    for column in ("data", "how", "recipe", "setting", "ties"):
        table[column] = _text(table, column)
    table["rank_by"] = _text(table, "rank_by", "value").replace("", "value")
    table["setting"] = table["setting"].replace("", "pipeline")  # files from before settings
    table["variant"] = _text(table, "variant")
    for column in ("value_low", "value_high", "file_bytes", "compression_ratio", "spread", "share"):
        table[column] = pd.to_numeric(table.get(column, math.nan), errors="coerce")
    decide = _text(table, "decide", "True").str.lower() != "false"
    table = table[decide].reset_index(drop=True)
    ranges = [sample_range(row) for _, row in table.iterrows()]
    table["value_low"] = [low for low, _ in ranges]
    table["value_high"] = [high for _, high in ranges]
    return table


def overlaps(a: pd.Series, b: pd.Series) -> bool:
    return a["value_low"] <= b["value_high"] and b["value_low"] <= a["value_high"]


def _tutorial_value(
    table: pd.DataFrame, group: pd.DataFrame, pick: pd.Series, lowest: bool = False
) -> tuple[float, str]:
    """How many times better than the tutorial's way the pick is, and that way: of the
    pick's question, else of its job and data, else of its job; a query returning
    another share of the rows than any the tutorial's way was timed on has none.
    `lowest`: the question ranks by a time (lower is better)."""
    share = pick["share"]
    same_share = table["share"].isna() if pd.isna(share) else table["share"] == share
    for scope in (group, table[(table["job"] == pick["job"]) & (table["data"] == pick["data"]) & same_share],
                  table[(table["job"] == pick["job"]) & same_share]):  # fmt: skip
        theirs = scope[scope["tutorial"] & (scope["unit"] == pick["unit"])]
        if len(theirs):
            best = theirs.loc[theirs["value"].idxmin() if lowest else theirs["value"].idxmax()]
            ratio = float(pick["value"]) / float(best["value"])
            return (1 / ratio if lowest else ratio), str(best["method"])
    return math.nan, ""


def _choose(group: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(candidates, default-setting rows) of one question: the decision is made among the
    tuned and pipeline rows, never a library left at its defaults."""
    own = group[~group["tutorial"]]
    candidates = own[own["setting"].isin(TUNED)]
    return candidates.drop_duplicates("method"), own[own["setting"] == "default"]


def decide(limits: pd.DataFrame, headlines: pd.DataFrame, nodes: pd.DataFrame | None = None) -> pd.DataFrame:
    """One row per (job, question, data) of the headlines, in the stages' order (see the module)."""
    table = _prepared(limits, headlines, nodes)
    rows = []
    for _, group in table.groupby(["job", "question", "data"], sort=False):
        candidates, defaults = _choose(group)
        if candidates.empty:
            continue
        key = candidates["rank_by"].iloc[0]
        lowest = key == "lowest"  # a time: the lowest wins
        key = key if key in candidates else "value"
        best = candidates.sort_values([key, "value"], ascending=lowest).iloc[0]
        others = candidates[candidates["method"] != best["method"]] if key == "value" else candidates.iloc[:0]
        ties = [str(other["method"]) for _, other in others.iterrows() if overlaps(best, other)]
        ties += [t for t in best["ties"].split("; ") if t and t not in ties]
        vs_tutorial, tutorial = _tutorial_value(table, group, best, lowest)
        same = defaults[defaults["method"] == best["method"]]
        vs_default = float(best["value"]) / float(same["value"].iloc[0]) if len(same) else math.nan
        spread = float(best["spread"])
        above = group[(group["bound"] == "yes") & (group["fraction_of_limit"] > ABOVE)]
        flags = [best["flags"]] + [  # never hidden: a figure of this question above its bound
            f"{m} ABOVE ITS BOUND ({f:.2f}x {lim}): the bound is wrong"
            for m, f, lim in above[["method", "fraction_of_limit", "limit"]].itertuples(index=False)
            if m != best["method"]
        ]
        rows.append(
            {
                "job": best["job"],
                "question": best["question"],
                "data": best["data"],
                "pick": best["method"] if not ties else f"tie: {best['method']}",
                "method": best["method"],
                "how": best["how"],
                "recipe": best["recipe"],
                "setting": best["setting"],
                "value": float(best["value"]),
                "unit": best["unit"],
                "value_low": best["value_low"],
                "value_high": best["value_high"],
                "spread": spread,
                "stable": bool(spread <= STABLE_SPREAD) if math.isfinite(spread) else pd.NA,
                "ties": "; ".join(ties),
                "compression_ratio": float(best["compression_ratio"]),
                "file_bytes": float(best["file_bytes"]),
                "size": size_text(float(best["compression_ratio"]), float(best["file_bytes"])),
                "fraction_of_limit": float(best["fraction_of_limit"]),
                "limit": best["limit"],
                "bound": best["bound"],
                "vs_tutorial": vs_tutorial,
                "tutorial": tutorial,
                "vs_default": 1 / vs_default if lowest else vs_default,
                "flags": "; ".join(f for f in flags if f),
                "stage": best["stage"],
                "share": float(best["share"]),
                "variant": best["variant"],
            }
        )
    return pd.DataFrame(rows, columns=DECISION_COLUMNS)


def sureness(rows: pd.DataFrame) -> str:
    """How sure a job's picks are, in words."""
    spreads = rows["spread"].dropna()
    parts = []
    if rows["flags"].fillna("").str.contains("ABOVE ITS BOUND").any():
        parts.append("a figure above its bound: see flags")
    if spreads.empty:
        parts.append("timed once (spread unknown)")
    elif (spreads > STABLE_SPREAD).any():
        parts.append(f"unsteady: samples spread up to {spreads.max():.0%}")
    else:
        parts.append(f"steady: samples spread at most {spreads.max():.0%}")
    return "; ".join(parts)


def _times(values: pd.Series) -> str:
    values = values.dropna()
    if values.empty:
        return ""
    low, high = values.min(), values.max()
    return f"{low:.3g}x" if math.isclose(low, high, rel_tol=0.05) else f"{low:.3g}-{high:.3g}x"


def _literal(text: str) -> str:
    """Text as an rst inline literal (backquotes inside cannot end it)."""
    return "``" + text.replace("`", "'") + "``" if text else ""


def _plain(text: str) -> str:
    """Text as plain rst: markup characters escaped."""
    return "".join("\\" + c if c in "\\`*_|" else c for c in str(text))


def _picked(same: pd.DataFrame) -> str:
    """The pick in words: among ties no winner is named."""
    ties = [t for t in "; ".join(same["ties"]).split("; ") if t]
    names = [f"**{_plain(m)}**" for m in dict.fromkeys([same["method"].iloc[0], *ties])]
    notes = [_literal(same["how"].iloc[0])] + (["tied within noise: no winner"] if len(names) > 1 else [])
    notes = [n for n in notes if n]
    return " or ".join(names) + (f" ({'; '.join(notes)})" if notes else "")


def verdict_sentences(decision: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(job, sentence in rst, evidence path) per job: what to use per question and data,
    how much faster than the tutorial's way, how sure."""
    out = []
    for job, rows in decision.groupby("job", sort=False):
        datas = list(dict.fromkeys(rows["data"]))
        uses = []
        series = by_share(rows)  # questions that differ by the share of the rows: one phrase
        for _, same in rows[~series].groupby("method", sort=False):
            phrase = _picked(same)
            if len(rows) > 1:
                asked = [q + (f" ({d})" if len(datas) > 1 and d else "")
                         for q, d in same[["question", "data"]].itertuples(index=False)]  # fmt: skip
                phrase += " for " + _plain("; ".join(asked))
            times = _times(same["vs_tutorial"])
            if times:
                faster = "faster than" if same["vs_tutorial"].min() >= 1 else "the speed of"
                phrase += f", {times} {faster} the tutorial's {_plain(same['tutorial'].iloc[0])}"
            uses.append(phrase)
        if series.any():
            uses.append(_share_use(rows[series]))
        stage = rows["stage"].iloc[0] if "stage" in rows else ""
        on = f" ({_plain(datas[0])})" if len(datas) == 1 and datas[0] else ""
        name = _plain(job[:1].upper() + job[1:])
        sentence = f"*{name}*{on}: " + "; ".join(uses) + f" ({_plain(sureness(rows))})."
        out.append((job, sentence, JOB_EVIDENCE.get(job, EVIDENCE.get(stage, DECISION_PAGE))))
    return out


def _share_use(rows: pd.DataFrame) -> str:
    """The picks across shares of the rows, and the tutorial's way where it was timed."""
    phrase = share_phrase(rows, lambda name: f"**{_plain(name)}**")
    timed = rows[rows["vs_tutorial"].notna()]
    times = _times(timed["vs_tutorial"])
    if times:
        asked = ", ".join(dict.fromkeys(percent(s) for s in timed["share"]))
        phrase += f"; {times} faster than the tutorial's {_plain(timed['tutorial'].iloc[0])} (at {asked})"
    return phrase


def verdict_rst(decision: pd.DataFrame) -> str:
    """The verdict as rst for the report's landing page: one bullet per job, each linked
    to its evidence (a report item, opened by Snakemake's own `app.showResultInfo`)."""
    if decision.empty:
        return "This run measured no job to decide on.\n"
    lines = []
    for _, sentence, evidence in verdict_sentences(decision):
        link = f"`evidence <javascript:app.showResultInfo('{evidence}')>`__"
        table = f"`decision <javascript:app.showResultInfo('{DECISION_PAGE}')>`__"
        lines.append(f"- {sentence} {link}, {table}")
    return "\n".join(lines) + "\n"


def decision_page_extra(decision: pd.DataFrame, recipes: dict[str, str]) -> str:
    """The decision page after its table: the verdict in words, then every recipe the
    picks name (the whole code, as in docs/recipes/)."""
    parts = ["<h2>The verdict</h2><ul>"]
    for _, sentence, _ in verdict_sentences(decision):
        parts.append(f"<li>{_html_of(sentence)}</li>")
    parts.append("</ul><h2>Recipes</h2>")
    named = [r for r in dict.fromkeys(decision["recipe"]) if r]
    missing = [r for r in named if r not in recipes]
    if missing:
        raise ValueError(f"the decision names recipes that docs/recipes lacks: {missing}")
    if any("from particles import" in recipes[name] for name in named) and "particles" in recipes:
        named.append("particles")  # the stand-in data the table recipes import
    for name in named:
        picks = ", ".join(dict.fromkeys(decision.loc[decision["recipe"] == name, "method"]))
        parts.append(f"<details open><summary><code>docs/recipes/{name}.py</code> ({html.escape(picks)})"
                     f"</summary><pre>{html.escape(recipes[name])}</pre></details>")  # fmt: skip
    return "".join(parts)


def _html_of(sentence: str) -> str:
    """A verdict sentence (the rst inline markup it uses: ``code``, **strong**, *emphasis*,
    backslash escapes) as HTML."""
    pattern = re.compile(r"``(.+?)``|\*\*(.+?)\*\*|\*(.+?)\*")
    pieces, last = [], 0
    for match in pattern.finditer(sentence):
        pieces.append(html.escape(_unescape(sentence[last : match.start()])))
        code, strong, emphasis = match.groups()
        if code is not None:
            pieces.append(f"<code>{html.escape(code)}</code>")
        elif strong is not None:
            pieces.append(f"<b>{html.escape(_unescape(strong))}</b>")
        else:
            pieces.append(f"<i>{html.escape(_unescape(emphasis))}</i>")
        last = match.end()
    pieces.append(html.escape(_unescape(sentence[last:])))
    return "".join(pieces)


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)
