"""Early warning: how many complainants are still to come, what they will claim
and what they ask for (seed 000, 危机预警).

- ``forecast_counts(counts, bin_hours)``: from arrivals per time bin (oldest
  first, the last bin ending now), the expected new arrivals in the next 24 h,
  72 h and 7 days with an 80% interval. It fits statsmodels' ETS model
  (exponential smoothing, additive damped trend, a daily season once two days
  are in) to log(1 + arrivals per bin) and simulates 1,000 futures from the
  fit: each horizon's figure is the median of the simulated totals. Fitting in
  logs keeps every future non-negative and lets a surge grow by a factor
  rather than a fixed step; the damped trend lets a surge or a fade level off
  instead of running on forever.
  The interval: the simulated totals' 10th to 90th percentile alone held the
  outcome only about half the time in the backtest (the simulation knows the
  noise, not that the fitted trend itself may be wrong), so the interval is
  at least as wide as the backtest's own 10th to 90th percentile of
  log(actual / forecast) per horizon (an empirical prediction interval,
  ``LOG_ERROR``, calibrated by ``python bench/bench_forecast.py --calibrate``
  on incidents the reported backtest does not use).
- ``incident_forecast(db, incident_id, now)``: the same for one incident, from
  its complainants' ``received_at``, plus the expected exposure (the forecast
  times the amounts claimed so far, as a range) and the shares of demands.
  Cached per incident: the cache key holds the number of complainants and the
  newest arrival, so a new arrival batch refits, and nothing else does.
- ``cause_forecast(db, cause_code, now)``: the same for one cause among the
  ordinary complaints the monitors watch (``intake_complaint``), before any
  incident exists.

Plain functions: they read the database and return data; nothing is written.
"""

import math
import threading
import warnings
from collections import OrderedDict
from datetime import timedelta

import numpy as np

from .clock import from_iso, to_iso

HORIZONS = (24, 72, 168)  # hours ahead: 24 h, 72 h, 7 days
LEVEL = 0.8  # the interval: 10th to 90th percentile
BIN_HOURS = 3  # arrivals are counted in 3-hour bins
HISTORY_BINS = 8 * 24 // BIN_HOURS  # the model sees the last 8 days at most
MIN_BINS = 6  # below this (18 h of history) a Poisson rate stands in for the model
SEASON_BINS = 24 // BIN_HOURS  # one day
# The trend's damping factor per bin: at most 0.9, so a trend carries on for
# about a day (sum of 0.9^k: 9 bins) and then levels off. Freely fitted (up to
# 0.98) it ran a half-finished rise on for days: in the backtest, incidents
# that level off were forecast 20 times worse than by the naive forecast.
DAMPING = (0.8, 0.9)
# 10th and 90th percentile of log(1 + actual) - log(1 + forecast) per horizon,
# from bench/bench_forecast.py --calibrate (seed 1; the reported backtest uses seed 7)
LOG_ERROR = {24: (-0.323, 0.246), 72: (-0.632, 0.556), 168: (-1.081, 1.374)}
SIMULATIONS = 1000
SEED = 18  # the simulations are seeded: the same data gives the same forecast
DAYS_SHOWN = 7  # the actual counts beside the forecast line: last 7 days

# What people ask for, from the words of their recorded demands. A demand may
# name several; "other" is a demand that names none of these.
DEMAND_KINDS = (
    ("principal", ("本金", "退钱", "退款", "退还", "退保", "撤销合同", "退费", "refund", "principal")),
    ("interest", ("利息", "收益", "分红", "利率", "interest")),
    ("expenses", ("路费", "车费", "误工", "费用", "expenses")),
    ("compensation", ("赔偿", "精神损失", "补偿", "compensation")),
    ("apology", ("道歉", "说法", "承认", "apology", "apologise")),
    ("accountability", ("追责", "处分", "处理销售", "责任", "accountab")),
    ("publicity", ("曝光", "媒体", "电视台", "抖音", "记者", "media")),
)


def _fit_simulate(values, steps, seed=SEED, simulations=SIMULATIONS):
    """Simulated future paths (simulations x steps) of arrivals per bin."""
    from statsmodels.tsa.exponential_smoothing.ets import ETSModel

    logged = np.log1p(np.asarray(values, dtype=float))
    if np.ptp(logged) == 0:  # a flat series has nothing to fit: it goes on as it is
        return np.full((simulations, steps), float(values[-1]))
    season = {"seasonal": "add", "seasonal_periods": SEASON_BINS} if len(values) >= 2 * SEASON_BINS else {}
    model = ETSModel(logged, error="add", trend="add", damped_trend=True, bounds={"damping_trend": DAMPING}, **season)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence chatter on short, noisy series
        fit = model.fit(disp=False, maxiter=200)
        paths = fit.simulate(steps, repetitions=simulations, anchor="end", rng=np.random.default_rng(seed))
    paths = np.asarray(paths, dtype=float).reshape(steps, simulations).T
    return np.clip(np.expm1(np.clip(paths, None, 30)), 0, None)


def _poisson_paths(values, steps, seed=SEED, simulations=SIMULATIONS):
    """A short history: arrivals go on at the rate seen so far (Poisson)."""
    rate = float(np.mean(values)) if len(values) else 0.0
    rng = np.random.default_rng(seed)
    return rng.poisson(rate, size=(simulations, steps)).astype(float)


def forecast_counts(counts, bin_hours=BIN_HOURS, horizons=HORIZONS, seed=SEED, simulations=SIMULATIONS):
    """Expected arrivals after the last bin, per horizon in hours.

    ``counts`` are arrivals per bin of ``bin_hours``, oldest first. Returns
    ``{"method", "horizons": [{"hours", "expected", "low", "high"}], "totals"}``
    where ``totals`` holds the simulated totals per horizon (for the exposure).
    """
    values = list(counts)[-max(MIN_BINS, HISTORY_BINS * BIN_HOURS // bin_hours) :]
    steps = math.ceil(max(horizons) / bin_hours)
    if len(values) >= MIN_BINS and sum(values) > 0:
        paths = _fit_simulate(values, steps, seed, simulations)
        method = "ets"
    else:
        paths = _poisson_paths(values, steps, seed, simulations)
        method = "poisson"
    cumulative = np.cumsum(paths, axis=1)
    rows, totals = [], {}
    for hours in horizons:
        n = max(1, round(hours / bin_hours))
        total = cumulative[:, n - 1]
        totals[hours] = total
        low, mid, high = _interval(np.percentile(total, [50 - LEVEL * 50, 50, 50 + LEVEL * 50]), hours)
        rows.append({"hours": hours, "expected": int(round(mid)), "low": max(0, int(math.floor(low))), "high": int(math.ceil(high))})
    per_bin = np.percentile(paths, [50 - LEVEL * 50, 50, 50 + LEVEL * 50], axis=0)
    for i in range(per_bin.shape[1]):
        per_bin[:, i] = _interval(per_bin[:, i], (i + 1) * bin_hours)
    return {"method": method, "horizons": rows, "totals": totals, "per_bin": per_bin}


def _log_error(hours):
    """LOG_ERROR at ``hours`` ahead, interpolated (none at 0 h)."""
    points = [(0, (0.0, 0.0)), *sorted(LOG_ERROR.items())]
    for (h0, (lo0, hi0)), (h1, (lo1, hi1)) in zip(points, points[1:]):
        if hours <= h1:
            f = (hours - h0) / (h1 - h0)
            return lo0 + f * (lo1 - lo0), hi0 + f * (hi1 - hi0)
    return points[-1][1]


def _interval(quantiles, hours):
    """(low, median, high): the simulated interval, widened to the backtest's errors at this horizon."""
    low, mid, high = (float(q) for q in quantiles)
    lo_err, hi_err = _log_error(hours)
    base = math.log1p(mid)
    return max(0.0, min(low, math.expm1(base + lo_err))), mid, max(high, math.expm1(base + hi_err))


def naive_forecast(counts, bin_hours=BIN_HOURS, horizons=HORIZONS):
    """The yardstick: the last 24 hours repeated."""
    per_day = sum(list(counts)[-round(24 / bin_hours) :])
    return {hours: per_day * hours / 24 for hours in horizons}


def _bin_count(start, now, bin_hours=BIN_HOURS):
    """Bins from the one holding ``start`` to ``now`` (at least 1, at most HISTORY_BINS)."""
    return min(max(1, math.ceil((now - start) / timedelta(hours=bin_hours))), HISTORY_BINS)


def binned(times, start, now, bin_hours=BIN_HOURS):
    """Arrival times (datetimes) counted in bins ending at ``now``, oldest first,
    from the bin holding ``start`` (at most HISTORY_BINS bins)."""
    width = timedelta(hours=bin_hours)
    n = _bin_count(start, now, bin_hours)
    first = now - n * width
    counts = [0] * n
    for t in times:
        if first <= t <= now:
            counts[min(n - 1, int((t - first) / width))] += 1
    return counts, first


# --- per incident ------------------------------------------------------------------------------

_cache = OrderedDict()
_cache_lock = threading.Lock()
CACHE_SIZE = 64


def _cached(db, key, build):
    """``build()``, kept under ``key`` for ``db``'s file: a drill's database and the
    real one (one process, the same incident ids) never share a cached fit."""
    key = (_database(db), *key)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    value = build()
    with _cache_lock:
        _cache[key] = value
        while len(_cache) > CACHE_SIZE:
            _cache.popitem(last=False)
    return value


def clear_cache():
    with _cache_lock:
        _cache.clear()
        _demand_cache.clear()


def _now_bin(now):
    """``now`` rounded down to the minute: forecasts within one minute share a fit."""
    return now.replace(second=0, microsecond=0)


def _database(db):
    """The file behind ``db``: a drill's database and the real one (one process,
    the same incident ids) must never share a cached fit."""
    return db.execute("PRAGMA database_list").fetchone()[2]


def incident_forecast(db, incident_id, now, where="1 = 1", params=()):
    """The early warning for one incident (see the module's docstring), over
    the complainants ``where`` selects (``access.scope_sql``: a branch
    contact's forecast is of their own scope).

    Refit only when complainants arrive (their count or the newest id
    changes: both read from an index) or the minute turns.
    """
    params = list(params)
    count, newest = db.execute(f"SELECT count(*), max(id) FROM complainant WHERE incident_id = ? AND {where}", [incident_id, *params]).fetchone()
    key = ("incident", incident_id, where, tuple(params), count, newest, to_iso(_now_bin(now)))
    return _cached(db, key, lambda: _incident_forecast(db, incident_id, now, where, params))


def _incident_forecast(db, incident_id, now, where, params):
    """Everything is summed in SQL (arrivals per bin, claims, demand kinds):
    100,000 complainants never pass through Python one by one."""
    opened = from_iso(db.execute("SELECT opened_at FROM incident WHERE id = ?", [incident_id]).fetchone()[0])
    first = db.execute(f"SELECT min(received_at) FROM complainant WHERE incident_id = ? AND {where}", [incident_id, *params]).fetchone()[0]
    start = min(from_iso(first), opened) if first else opened
    bins = _bin_count(start, now)
    first_bin = now - bins * timedelta(hours=BIN_HOURS)
    counts = [0] * bins
    rows = db.execute(
        f"SELECT CAST((julianday(received_at) - julianday(?)) * 24 / {BIN_HOURS} AS INTEGER) AS bin, count(*) "
        f"FROM complainant WHERE incident_id = ? AND received_at >= ? AND received_at <= ? AND {where} GROUP BY bin",
        [to_iso(first_bin), incident_id, to_iso(first_bin), to_iso(now), *params],
    ).fetchall()
    for index, n in rows:
        counts[min(max(index, 0), bins - 1)] += n  # an arrival stamped this very second counts in the last bin
    people, total, squares = db.execute(
        "SELECT count(*), sum(c), sum(c * c) FROM (SELECT CAST(principal_fen + interest_claimed_fen + expenses_claimed_fen AS REAL) AS c "
        f"FROM complainant WHERE incident_id = ? AND {where})",
        [incident_id, *params],
    ).fetchone()
    claims = None
    if people:
        mean = total / people
        claims = (mean, math.sqrt(max(0.0, squares / people - mean * mean)))
    result = _assemble(forecast_counts(counts), counts, first_bin, now, claims, _demand_counts(db, incident_id, where, params, now))
    result["complainants"] = people
    return result


_demand_cache = {}
DEMAND_RECOUNT_SECONDS = 3600


def _demand_counts(db, incident_id, where, params, now):
    """(people with a demand, {kind: people naming it}), counted in SQL.

    Counted in full once an hour (a demand edited later shows within the
    hour); in between, only the complainants added since (ids above the last
    one counted) are counted and added: at 100,000 complainants the full count
    takes seconds, the increment milliseconds."""
    key = (_database(db), incident_id, where, tuple(params))
    with _cache_lock:
        cached = _demand_cache.get(key)
    if cached and 0 <= (now - cached["at"]).total_seconds() < DEMAND_RECOUNT_SECONDS:
        last_id, n, counts = cached["last_id"], cached["n"], dict(cached["counts"])
    else:
        last_id, n, counts = 0, 0, {kind: 0 for kind, _ in DEMAND_KINDS} | {"other": 0}
        cached = {"at": now}
    flags = ", ".join("(" + " OR ".join("instr(d, ?) > 0" for _ in words) + f") AS k{i}" for i, (_, words) in enumerate(DEMAND_KINDS))
    args = [w for _, words in DEMAND_KINDS for w in words]
    sums = ", ".join(f"sum(k{i})" for i in range(len(DEMAND_KINDS)))
    none = " AND ".join(f"NOT k{i}" for i in range(len(DEMAND_KINDS)))
    row = db.execute(
        # materialised: each text is lowered once and each kind tested once (a flattened query repeats them)
        f"WITH texts AS MATERIALIZED (SELECT id, lower(demands) AS d FROM complainant "
        f"WHERE id > ? AND incident_id = ? AND trim(demands) != '' AND {where}), "
        f"flagged AS MATERIALIZED (SELECT id, {flags} FROM texts) "
        f"SELECT count(*), max(id), {sums}, sum({none}) FROM flagged",
        [last_id, incident_id, *params, *args],
    ).fetchone()
    n += row[0]
    for (kind, _), found in zip(DEMAND_KINDS, row[2:-1]):
        counts[kind] += found or 0
    counts["other"] += row[-1] or 0
    with _cache_lock:
        _demand_cache[key] = {"at": cached["at"], "last_id": max(last_id, row[1] or 0), "n": n, "counts": counts}
    return n, counts


def cause_forecast(db, cause_code, now):
    """The early warning for one cause among the ordinary complaints (monitoring):
    arrivals of ``intake_complaint`` with that cause, whether or not yet in an incident."""
    count, newest = db.execute("SELECT count(*), max(id) FROM intake_complaint WHERE cause_code = ?", [cause_code]).fetchone()
    key = ("cause", cause_code, count, newest, to_iso(_now_bin(now)))

    def build():
        since = now - timedelta(hours=HISTORY_BINS * BIN_HOURS)
        rows = db.execute(
            "SELECT received_at, text FROM intake_complaint WHERE cause_code = ? AND received_at >= ? AND received_at <= ?",
            [cause_code, to_iso(since), to_iso(now)],
        ).fetchall()
        times = [from_iso(r[0]) for r in rows]
        first = db.execute("SELECT min(received_at) FROM intake_complaint WHERE cause_code = ?", [cause_code]).fetchone()[0]
        counts, first_bin = binned(times, from_iso(first) if first else now, now)
        return _assemble(forecast_counts(counts), counts, first_bin, now, None, _demand_counts_of([r[1] for r in rows]))

    return _cached(db, key, build)


def _assemble(result, counts, first_bin, now, claims, demand_counts):
    horizons = result["horizons"]
    exposure = _exposure(horizons, claims)
    low, mid, high = result["per_bin"]
    width = timedelta(hours=BIN_HOURS)
    shown = min(len(counts), DAYS_SHOWN * 24 // BIN_HOURS)
    actual = [{"start": to_iso(first_bin + i * width), "count": counts[i]} for i in range(len(counts) - shown, len(counts))]
    ahead = [
        {"start": to_iso(now + i * width), "expected": round(float(mid[i]), 2), "low": round(float(low[i]), 2), "high": round(float(high[i]), 2)}
        for i in range(len(mid))
    ]
    return {
        "generated_at": to_iso(now),
        "method": result["method"],
        "level": LEVEL,
        "bin_hours": BIN_HOURS,
        "last_24h": sum(counts[-24 // BIN_HOURS :]),
        "horizons": horizons,
        "exposure": exposure,
        "demands": _shares(*demand_counts),
        "actual": actual,
        "ahead": ahead,
    }


def _exposure(horizons, claims):
    """Expected claimed amount (fen) of those still to come per horizon, as a
    range: the forecast number of arrivals, each claiming as the arrivals so far
    did (n claims drawn from that distribution sum to about n x mean, give or
    take sqrt(n) x sd); low is the interval's low count at its 10th percentile,
    high the high count at its 90th."""
    if claims is None:
        return [{"hours": h["hours"], "expected_fen": None, "low_fen": None, "high_fen": None, "mean_claim_fen": None} for h in horizons]
    mean, sd = claims
    z = 1.2816  # the 10th / 90th percentile of a normal
    rows = []
    for h in horizons:

        def total(n, sign):
            return max(0.0, n * mean + sign * z * math.sqrt(max(n, 0)) * sd)

        rows.append(
            {
                "hours": h["hours"],
                "expected_fen": int(h["expected"] * mean),
                "low_fen": int(total(h["low"], -1)),
                "high_fen": int(total(h["high"], 1)),
                "mean_claim_fen": int(mean),
            }
        )
    return rows


def demand_kinds(text):
    """The kinds of demand a recorded demand names (possibly none)."""
    lowered = (text or "").lower()
    return [kind for kind, words in DEMAND_KINDS if any(w in lowered for w in words)]


def _demand_counts_of(texts):
    """(people with a demand, {kind: people naming it}) over recorded demand texts."""
    recorded = [t for t in texts if (t or "").strip()]
    counts = {kind: 0 for kind, _ in DEMAND_KINDS}
    counts["other"] = 0
    for text in recorded:
        for kind in demand_kinds(text) or ["other"]:
            counts[kind] += 1
    return len(recorded), counts


def demand_shares(texts):
    """Of the people who recorded a demand, the share naming each kind (several may apply)."""
    return _shares(*_demand_counts_of(texts))


def _shares(n, counts):
    return {
        "people": n,
        "shares": [{"kind": kind, "people": c, "share": round(c / n, 3) if n else 0.0} for kind, c in sorted(counts.items(), key=lambda kv: -kv[1]) if c],
    }


# --- as a viewer may see it ---------------------------------------------------------------------


def for_viewer(db, incident_id, viewer, now, settings):
    """The incident's forecast as ``viewer`` may see it: a branch contact's over
    their scope; for executives, the exposure only when it rests on at least
    MIN_CELL_PEOPLE people's claims (console/disclosure.py)."""
    from . import disclosure
    from .access import scope_sql

    where, params = scope_sql(viewer)
    result = dict(incident_forecast(db, incident_id, now, where, params))
    floor = disclosure.min_people(settings)
    if disclosure.amounts_suppressed_for(viewer) and disclosure.small(result.get("complainants") or 0, floor):
        result["exposure"] = [
            {"hours": e["hours"], "expected_fen": None, "low_fen": None, "high_fen": None, "mean_claim_fen": None} for e in result["exposure"]
        ]
        result["amounts_suppressed_below"] = floor
    return result


def busiest_causes(db, now, days=7, limit=10):
    """The causes with the most ordinary complaints in the last ``days`` days, busiest first."""
    return [
        {"cause_code": r[0], "count": r[1]}
        for r in db.execute(
            "SELECT cause_code, count(*) AS n FROM intake_complaint WHERE received_at >= ? AND received_at < ? "
            "GROUP BY cause_code ORDER BY n DESC, cause_code LIMIT ?",
            [to_iso(now - timedelta(days=days)), to_iso(now), limit],
        ).fetchall()
    ]


def cause_outlooks(db, now, limit=5):
    """The forecast for each of the busiest causes under monitoring (the
    monitors page); a cause whose forecast fails is logged and left out."""
    import logging

    found = []
    for cause in busiest_causes(db, now, limit=limit):
        try:
            found.append({**cause, "forecast": cause_forecast(db, cause["cause_code"], now)})
        except Exception:  # noqa: BLE001 - one cause's failure hides only that cause
            logging.getLogger(__name__).exception("forecast of cause %s failed", cause["cause_code"])
    return found


def cause_received(db, cause_code):
    """Whether any ordinary complaint of this cause has been received (a forecast needs one)."""
    return db.execute("SELECT 1 FROM intake_complaint WHERE cause_code = ? LIMIT 1", [cause_code]).fetchone() is not None
