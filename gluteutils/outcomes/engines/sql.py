"""The analysis layer written once, as SQL that DuckDB and Spark SQL both run unchanged.

Why SQL and not Ibis: the queries are plain ``GROUP BY`` aggregations over two tables, the
subset of SQL both dialects share (``CASE``, ``SUM``, ``COUNT``, ``LEAST``, ``FLOOR``, ``CAST``,
``WITH``, joins) covers them, and SQL text adds no dependency and is easy to audit line by
line. Rules kept so the same text runs on both: no dialect functions (no ``arg_max``/
``max_by``, no ``//``), integer statistics cast to ``BIGINT`` (exact in both engines, so
their sums agree to the last digit), and every floating-point literal written as
``CAST('<repr>' AS DOUBLE)`` (DuckDB and Spark read a bare ``0.3`` as a DECIMAL).

Every query reads two views, ``episodes`` and ``visits``, with the columns of
:mod:`gluteutils.outcomes.schema`; an engine (:mod:`gluteutils.outcomes.engines.backends`)
registers them over Parquet files or in-memory Arrow tables. The queries return raw
aggregates; publication goes through :func:`gluteutils.privacy.suppress_small_cells`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gluteutils.outcomes.schema import AGE_BANDS, CONDITIONS, SEXES, SYMPTOM_COLUMNS, THERAPIES

#: Conditions whose explorer time bin is the day (all others: the week), as in the explorer.
DAILY = ("doms",)
#: Fixed before looking at data: responder = NPRS drop >= 2 points and >= 30% (Farrar 2001).
MCID_POINTS = 2.0
MCID_FRACTION = 0.30
REFERENCE = "home_self_care"
#: Time bins of the repeated-measures model (``models.visit_frame``): DOMS day 0..9,
#: otherwise the fortnight 0..4.
GEE_BINS = tuple(range(10))


def lit(value: float) -> str:
    """A DOUBLE literal both dialects read exactly (``repr`` round-trips a float)."""
    return f"CAST('{float(value)!r}' AS DOUBLE)"


def quote(value: str) -> str:
    """A string literal (schema values never contain quotes; refuse any that do)."""
    if "'" in value:
        raise ValueError(f"refusing a quote in SQL literal {value!r}")
    return f"'{value}'"


@dataclass(frozen=True)
class Column:
    """One design column: its name, its integer SQL expression, its factor and level."""

    name: str
    sql: str
    factor: str
    level: str | None = None
    #: a measured number (baseline pain, symptom weeks), not a 0/1 indicator
    numeric: bool = False


def _dummy(factor: str, level: str, sql_value: str | None = None) -> Column:
    value = quote(level) if sql_value is None else sql_value
    return Column(f"{factor}[{level}]", f"CASE WHEN {factor} = {value} THEN 1 ELSE 0 END",
                  factor, level)


def ancova_columns(baseline: str = "baseline_pain") -> list[Column]:
    """Every candidate column of the ANCOVA design (all levels; the fit drops the first)."""
    cols = [Column("Intercept", "1", "Intercept")]
    cols += [_dummy("therapy", t) for t in THERAPIES if t != REFERENCE]
    cols.append(Column(baseline, baseline, baseline, numeric=True))
    cols += [_dummy("age_band", a) for a in AGE_BANDS]
    cols += [_dummy("sex", s) for s in SEXES]
    cols.append(Column("symptom_duration_weeks", "symptom_duration_weeks",
                       "symptom_duration_weeks", numeric=True))
    cols += [Column(s, f"CASE WHEN {s} THEN 1 ELSE 0 END", s) for s in SYMPTOM_COLUMNS]
    return cols


def gee_columns() -> list[Column]:
    """ANCOVA columns plus one dummy per repeated-measures time bin."""
    cols = ancova_columns()
    bins = [_dummy("time_bin", str(b), str(b)) for b in GEE_BINS]
    return cols[:7] + bins + cols[7:]


#: Columns whose NULL drops a row from the models (complete case, as ``models._prepare``).
MODEL_REQUIRED = ("condition", "therapy", "baseline_pain", "age_band", "sex",
                  "symptom_duration_weeks", *SYMPTOM_COLUMNS)


def episode_summary(recovery_pain: float = 1.0) -> str:
    """CTE text ``epi``: one row per episode with baseline/review pain, recovery, responder.

    Review = the latest ``review`` visit; recovery = first post-baseline visit with
    NPRS <= ``recovery_pain`` (else censored at the last visit), as in the explorer.
    """
    return f"""
per_ep AS (
  SELECT episode_id,
    MAX(CASE WHEN visit_type = 'baseline' THEN pain_nprs END) AS baseline_pain,
    MAX(CASE WHEN visit_type = 'review' THEN visit_day END) AS review_day,
    MIN(CASE WHEN visit_day > 0 AND pain_nprs <= {lit(recovery_pain)} THEN visit_day END)
      AS first_recovery,
    MAX(visit_day) AS last_day
  FROM visits GROUP BY episode_id
),
epi0 AS (
  SELECT e.*, p.baseline_pain, r.pain_nprs AS review_pain, p.first_recovery,
    COALESCE(p.last_day, 0) AS last_day
  FROM episodes e
  LEFT JOIN per_ep p ON p.episode_id = e.episode_id
  LEFT JOIN visits r ON r.episode_id = p.episode_id AND r.visit_day = p.review_day
),
epi AS (
  SELECT epi0.*,
    CASE WHEN first_recovery IS NULL THEN 0 ELSE 1 END AS event,
    COALESCE(first_recovery, last_day) AS duration,
    CASE WHEN review_pain IS NOT NULL AND baseline_pain IS NOT NULL AND baseline_pain > 0
      AND baseline_pain - review_pain >= {lit(MCID_POINTS)}
      AND baseline_pain - review_pain >= {lit(MCID_FRACTION)} * baseline_pain - {lit(1e-12)}
      THEN 1 ELSE 0 END AS responder
  FROM epi0
)"""


_CELL = "condition, therapy, age_band, sex"


def episode_cube(recovery_pain: float = 1.0) -> str:
    """Per condition x therapy x age band x sex: episodes, reviews, responders, pain sums."""
    return f"""WITH {episode_summary(recovery_pain)}
SELECT {_CELL},
  CAST(COUNT(*) AS BIGINT) AS episodes,
  CAST(COUNT(baseline_pain) AS BIGINT) AS with_baseline,
  CAST(COUNT(review_pain) AS BIGINT) AS with_review,
  CAST(SUM(CASE WHEN review_pain IS NOT NULL THEN responder ELSE 0 END) AS BIGINT)
    AS responders,
  CAST(COALESCE(SUM(baseline_pain), 0) AS BIGINT) AS baseline_sum,
  CAST(COALESCE(SUM(review_pain), 0) AS BIGINT) AS review_sum
FROM epi GROUP BY {_CELL}"""


def km_cube(recovery_pain: float = 1.0) -> str:
    """Kaplan-Meier counts: events and censorings per cell and day."""
    return f"""WITH {episode_summary(recovery_pain)}
SELECT {_CELL}, CAST(duration AS BIGINT) AS duration, CAST(event AS BIGINT) AS event,
  CAST(COUNT(*) AS BIGINT) AS n
FROM epi GROUP BY {_CELL}, duration, event"""


def _explorer_bin() -> str:
    daily = ", ".join(quote(c) for c in DAILY)
    return (f"CASE WHEN e.condition IN ({daily}) THEN v.visit_day "
            "ELSE CAST(FLOOR(v.visit_day / 7) AS INT) END")


def trajectory_cube(outcome: str) -> str:
    """Per cell and time bin: people measured, sum and sum of squares of person means.

    A person with several visits in a bin contributes the mean of those visits, so ``n``
    counts people, not visits (the explorer's rule).
    """
    if outcome not in ("pain_nprs", "function_lefs"):
        raise ValueError(f"unknown outcome {outcome!r}")
    return f"""WITH pb AS (
  SELECT e.condition, e.therapy, e.age_band, e.sex, v.episode_id, {_explorer_bin()} AS tbin,
    CAST(SUM(v.{outcome}) AS DOUBLE) / COUNT(v.{outcome}) AS m
  FROM visits v JOIN episodes e ON e.episode_id = v.episode_id
  WHERE v.{outcome} IS NOT NULL
  GROUP BY e.condition, e.therapy, e.age_band, e.sex, v.episode_id, {_explorer_bin()}
)
SELECT {_CELL}, CAST(tbin AS BIGINT) AS tbin, CAST(COUNT(*) AS BIGINT) AS n,
  SUM(m) AS s, SUM(m * m) AS ss
FROM pb GROUP BY {_CELL}, tbin"""


def table_one_counts(categorical: Sequence[str], continuous: Sequence[str],
                     recovery_pain: float = 1.0) -> str:
    """Table 1 raw counts, long: condition, therapy, variable, level (NULL = missing), n,
    and for continuous variables the sum and sum of squares of the non-missing values."""
    parts = []
    for var in categorical:
        parts.append(f"""SELECT condition, therapy, '{var}' AS variable,
  CAST({var} AS STRING) AS level, CAST(COUNT(*) AS BIGINT) AS n,
  CAST(NULL AS DOUBLE) AS s, CAST(NULL AS DOUBLE) AS ss
FROM epi GROUP BY condition, therapy, {var}""")
    for var in continuous:
        parts.append(f"""SELECT condition, therapy, '{var}' AS variable,
  CASE WHEN {var} IS NULL THEN NULL ELSE 'value' END AS level, CAST(COUNT(*) AS BIGINT) AS n,
  CAST(SUM({var}) AS DOUBLE) AS s, CAST(SUM(CAST({var} AS BIGINT) * {var}) AS DOUBLE) AS ss
FROM epi GROUP BY condition, therapy, CASE WHEN {var} IS NULL THEN NULL ELSE 'value' END""")
    return f"WITH {episode_summary(recovery_pain)}\n" + "\nUNION ALL\n".join(parts)


def _complete(required: Sequence[str]) -> str:
    return " AND ".join(f"{c} IS NOT NULL" for c in required)


def _products(cols: Sequence[Column]) -> list[str]:
    out = []
    for i in range(len(cols)):
        for j in range(i, len(cols)):
            out.append(f"CAST(SUM(x{i} * x{j}) AS BIGINT) AS xx_{i}_{j}")
    return out


def _design_select(cols: Sequence[Column], y: str) -> str:
    xs = ", ".join(f"CAST({c.sql} AS BIGINT) AS x{i}" for i, c in enumerate(cols))
    return f"{xs}, CAST({y} AS BIGINT) AS y"


def ancova_stats(cols: Sequence[Column], outcome: str = "review_pain") -> str:
    """X'X (upper triangle), X'y, y'y and n per condition, complete cases (exact integers)."""
    req = (outcome, *MODEL_REQUIRED)
    xy = [f"CAST(SUM(x{i} * y) AS BIGINT) AS xy_{i}" for i in range(len(cols))]
    return f"""WITH {episode_summary()},
d AS (SELECT condition, {_design_select(cols, outcome)} FROM epi WHERE {_complete(req)})
SELECT condition, CAST(COUNT(*) AS BIGINT) AS n, {", ".join(_products(cols) + xy)},
  CAST(SUM(y * y) AS BIGINT) AS yy
FROM d GROUP BY condition"""


def moment_exponents(n_numeric: int, max_degree: int = 4, max_y: int = 2
                     ) -> list[tuple[int, ...]]:
    """Exponents ``(j, a_1, .., a_m)`` of the moments sum(y^j u_1^a_1 .. u_m^a_m) that give
    X'X, X'y, y'y and the HC1 meat of a model whose numeric columns are u_1..u_m: y to the
    power 2 at most, total degree 4 at most (e^2 u_k u_l with e linear in y and u)."""
    out: list[tuple[int, ...]] = []

    def rest(prefix: tuple[int, ...], left: int, budget: int) -> None:
        if left == 0:
            out.append(prefix)
            return
        for a in range(budget + 1):
            rest(prefix + (a,), left - 1, budget - a)

    for j in range(max_y + 1):
        rest((j,), n_numeric, max_degree - j)
    return out


def moment_name(exponent: Sequence[int]) -> str:
    return "m_" + "_".join(str(e) for e in exponent)


def ancova_moments(cols: Sequence[Column], outcome: str = "review_pain") -> str:
    """One pass for the whole ANCOVA with HC1 errors: per condition and cell of the 0/1
    design columns, the count and the moments of (outcome, numeric columns) named by
    :func:`moment_exponents` (exact integers). X'X, X'y, the coefficients and the robust
    meat sum(e^2 x x') all follow from these sums (``fit.ancova_from_moments``)."""
    req = (outcome, *MODEL_REQUIRED)
    keys = [i for i, c in enumerate(cols) if not c.numeric and c.factor != "Intercept"]
    nums = [c for c in cols if c.numeric]
    select = [f"CAST({cols[i].sql} AS BIGINT) AS x{i}" for i in keys]
    select += [f"CAST({c.sql} AS BIGINT) AS u{k}" for k, c in enumerate(nums)]
    select.append(f"CAST({outcome} AS BIGINT) AS y")
    sums = []
    for exp in moment_exponents(len(nums)):
        factors = ["y"] * exp[0] + [f"u{k}" for k, a in enumerate(exp[1:]) for _ in range(a)]
        term = " * ".join(factors) if factors else "1"
        sums.append(f"CAST(SUM({term}) AS BIGINT) AS {moment_name(exp)}")
    group = ", ".join(["condition", *(f"x{i}" for i in keys)])
    return f"""WITH {episode_summary()},
d AS (SELECT condition, {", ".join(select)} FROM epi WHERE {_complete(req)})
SELECT {group}, {", ".join(sums)} FROM d GROUP BY {group}"""


def _fitted(cols: Sequence[Column], betas: dict[str, dict[int, float]]) -> str:
    """``CASE condition WHEN ... THEN x'beta END`` with each condition's coefficients."""
    whens = []
    for cond, beta in betas.items():
        terms = " + ".join(f"{lit(b)} * x{i}" for i, b in beta.items()) or lit(0.0)
        whens.append(f"WHEN condition = {quote(cond)} THEN {terms}")
    return "CASE " + " ".join(whens) + " END"


def ancova_meat(cols: Sequence[Column], betas: dict[str, dict[int, float]],
                outcome: str = "review_pain") -> str:
    """Second pass: sum of e^2 x x' (HC1 meat) and e'e per condition, given the coefficients
    ``betas[condition][column index]`` of the first pass."""
    req = (outcome, *MODEL_REQUIRED)
    conds = ", ".join(quote(c) for c in betas)
    meat = [f"SUM(e * e * x{i} * x{j}) AS mm_{i}_{j}"
            for i in range(len(cols)) for j in range(i, len(cols))]
    return f"""WITH {episode_summary()},
d AS (SELECT condition, {_design_select(cols, outcome)} FROM epi
      WHERE {_complete(req)} AND condition IN ({conds})),
r AS (SELECT d.*, y - ({_fitted(cols, betas)}) AS e FROM d)
SELECT condition, SUM(e * e) AS ee, {", ".join(meat)} FROM r GROUP BY condition"""


def _gee_rows(cols: Sequence[Column]) -> str:
    """CTE ``g``: post-baseline visits with the repeated-measures design, complete cases."""
    doms = quote("doms")
    tbin = (f"CASE WHEN ep.condition = {doms} THEN LEAST(v.visit_day, 9) "
            "ELSE LEAST(CAST(FLOOR(v.visit_day / 14) AS INT), 4) END")
    req = ("pain_nprs", *MODEL_REQUIRED)
    return f"""WITH {episode_summary()},
vis AS (SELECT ep.*, v.pain_nprs, {tbin} AS time_bin
        FROM visits v JOIN epi ep ON ep.episode_id = v.episode_id
        WHERE v.visit_type <> 'baseline'),
g AS (SELECT condition, episode_id, {_design_select(cols, "pain_nprs")} FROM vis
      WHERE {_complete(req)})"""


def gee_stats(cols: Sequence[Column]) -> str:
    """Cluster sums for an exchangeable Gaussian GEE, per condition and cluster size m:
    clusters, sum of s s', s ty and ty^2 (s = a cluster's column sums, ty = its outcome sum),
    plus the visit-level X'X, X'y, y'y of those clusters (rows with m = 0 hold nothing)."""
    k = len(cols)
    sums = ", ".join(f"CAST(SUM(x{i}) AS BIGINT) AS x{i}" for i in range(k))
    vis_xx = [f"CAST(SUM(x{i} * x{j}) AS BIGINT) AS vxx_{i}_{j}"
              for i in range(k) for j in range(i, k)]
    vis_xy = [f"CAST(SUM(x{i} * y) AS BIGINT) AS vxy_{i}" for i in range(k)]
    clus_xx = [p.replace(" AS xx_", " AS ss_") for p in _products(cols)]
    clus_xy = [f"CAST(SUM(x{i} * y) AS BIGINT) AS sy_{i}" for i in range(k)]
    return f"""{_gee_rows(cols)},
vis_stats AS (SELECT condition, CAST(COUNT(*) AS BIGINT) AS nvis, {", ".join(vis_xx + vis_xy)},
  CAST(SUM(y * y) AS BIGINT) AS vyy FROM g GROUP BY condition),
c AS (SELECT condition, episode_id, CAST(COUNT(*) AS BIGINT) AS m, {sums},
  CAST(SUM(y) AS BIGINT) AS y FROM g GROUP BY condition, episode_id),
clus AS (SELECT condition, m, CAST(COUNT(*) AS BIGINT) AS clusters,
  {", ".join(clus_xx + clus_xy)}, CAST(SUM(y * y) AS BIGINT) AS syy
  FROM c GROUP BY condition, m)
SELECT clus.*, vis_stats.* FROM clus JOIN vis_stats ON vis_stats.condition = clus.condition"""


def gee_meat(cols: Sequence[Column], betas: dict[str, dict[int, float]],
             alphas: dict[str, float]) -> str:
    """Second pass of the GEE sandwich: sum over clusters of u u', u = X_i' r_i - c(m) s_i R_i
    with c(m) = alpha / (1 + (m - 1) alpha) (exchangeable working correlation)."""
    k = len(cols)
    conds = ", ".join(quote(c) for c in betas)
    cm = "CASE " + " ".join(
        f"WHEN condition = {quote(c)} THEN {lit(a)} / (1 + (m - 1) * {lit(a)})"
        for c, a in alphas.items()) + " END"
    per = ", ".join(f"SUM(x{i} * r) AS g{i}, CAST(SUM(x{i}) AS DOUBLE) AS s{i}" for i in range(k))
    us = ", ".join(f"g{i} - cm * s{i} * rr AS u{i}" for i in range(k))
    meat = [f"SUM(u{i} * u{j}) AS mm_{i}_{j}" for i in range(k) for j in range(i, k)]
    return f"""{_gee_rows(cols)},
r AS (SELECT g.*, y - ({_fitted(cols, betas)}) AS r FROM g WHERE condition IN ({conds})),
c AS (SELECT condition, episode_id, COUNT(*) AS m, SUM(r) AS rr, {per}
      FROM r GROUP BY condition, episode_id),
u AS (SELECT condition, {us} FROM (SELECT c.*, {cm} AS cm FROM c) cc)
SELECT condition, {", ".join(meat)} FROM u GROUP BY condition"""


ALL_CONDITIONS = CONDITIONS
