"""Properties over random answers: ranges, monotonicity, RAND = standard where they must agree,
agreement with a direct transcription of SCORING.md, and exact endpoint boundaries."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import given, settings
from hypothesis import strategies as st

from respine_desktop.instruments import load_instrument
from respine_desktop.scoring import score
from respine_desktop.scoring.endpoints import is_responder, odi_responder, vas_responder
from respine_desktop.scoring.sf36 import RAND_RECODE, SCALE_ITEMS, SCALES

SF36 = load_instrument("sf36")
ODI = load_instrument("odi")
SHARED_SCALES = ("PF", "RP", "RE", "VT", "MH", "SF")  # RAND = standard when standard exists

Answers = dict[str, int | None]


def answers_of(instrument_id: str) -> st.SearchStrategy[Answers]:
    """Any subset of the items, each a valid code or None."""
    items = load_instrument(instrument_id).items
    return st.fixed_dictionaries(
        {}, optional={i.id: st.one_of(st.none(), st.sampled_from(i.codes)) for i in items}
    )


@st.composite
def sf36_forms(draw: st.DrawFn) -> Answers:
    """SF-36 answers as they come: seven times in ten a complete form with at most three items
    left blank (the eight scales, PCS and MCS then almost always computable), else any subset.

    Plain `answers_of("sf36")` leaves each item out half the time, so that all eight scales (and
    with them PCS/MCS) existed in 0-5 examples of 100; `test_sf36_forms_exercise_the_summaries`
    checks the proportion this strategy gives.
    """
    if draw(st.integers(0, 9)) >= 7:
        return draw(answers_of("sf36"))
    answers: Answers = {i.id: draw(st.sampled_from(i.codes)) for i in SF36.items}
    blanks = draw(st.lists(st.sampled_from([i.id for i in SF36.items]), max_size=3, unique=True))
    for item_id in blanks:
        if draw(st.booleans()):
            answers[item_id] = None  # skipped
        else:
            del answers[item_id]  # not asked
    return answers


def rand_recoded(item_id: str, code: int) -> int:
    number = int(item_id[5:])
    return next(v for n, v in RAND_RECODE if number in n)[code - 1]


def _answered(answers: Answers, numbers: tuple[int, ...]) -> dict[int, int]:
    return {n: c for n in numbers if (c := answers.get(f"sf36_{n:02d}")) is not None}


def reference_standard(answers: Answers) -> dict[str, float | None]:
    """SCORING.md §2 transcribed as plainly as possible, in floating point."""
    final = {1: [5.0, 4.4, 3.4, 2.0, 1.0], 21: [6.0, 5.4, 4.2, 3.1, 2.2, 1.0]}
    reversed6 = {23, 26, 27, 30}
    reversed5 = {20, 34, 36}
    minimum = {"PF": 5, "RP": 2, "RE": 2, "VT": 2, "MH": 3, "SF": 1, "BP": 1, "GH": 3}
    lowest = {"PF": 10, "RP": 4, "RE": 3, "VT": 4, "MH": 5, "SF": 2, "BP": 2, "GH": 5}
    spread = {"PF": 20, "RP": 4, "RE": 3, "VT": 20, "MH": 25, "SF": 8, "BP": 10, "GH": 20}
    out: dict[str, float | None] = {}
    for scale in SCALES:
        codes = _answered(answers, SCALE_ITEMS[scale])
        values: dict[int, float] = {}
        for n, c in codes.items():
            if n in final:
                values[n] = final[n][c - 1]
            elif n in reversed6:
                values[n] = 7.0 - c
            elif n in reversed5:
                values[n] = 6.0 - c
            elif n == 22:
                if 21 in codes:
                    values[n] = (6.0 if codes[21] == 1 else 5.0) if c == 1 else 6.0 - c
                else:
                    values[n] = [6.0, 4.75, 3.5, 2.25, 1.0][c - 1]
            else:
                values[n] = float(c)
        if len(values) < minimum[scale]:
            out[scale] = None
            continue
        mean = sum(values.values()) / len(values)
        raw = sum(values.get(n, mean) for n in SCALE_ITEMS[scale])
        out[scale] = (raw - lowest[scale]) / spread[scale] * 100
    norms = {
        "PF": (84.52404, 22.89490, 0.42402, -0.22999),
        "RP": (81.19907, 33.79729, 0.35119, -0.12329),
        "BP": (75.49196, 23.55879, 0.31754, -0.09731),
        "GH": (72.21316, 20.16964, 0.24954, -0.01571),
        "VT": (61.05453, 20.86942, 0.02877, 0.23534),
        "SF": (83.59753, 22.37642, -0.00753, 0.26876),
        "RE": (81.29467, 33.02717, -0.19206, 0.43407),
        "MH": (74.84212, 18.01189, -0.22069, 0.48581),
    }
    scales = {s: v for s, v in out.items() if v is not None}
    if len(scales) < 8:
        out["PCS"] = out["MCS"] = None
    else:
        z = {s: (scales[s] - m) / sd for s, (m, sd, _, _) in norms.items()}
        out["PCS"] = 50 + 10 * sum(z[s] * norms[s][2] for s in norms)
        out["MCS"] = 50 + 10 * sum(z[s] * norms[s][3] for s in norms)
    return out


def reference_rand(answers: Answers) -> dict[str, float | None]:
    """SCORING.md §1 transcribed: exact means of the answered recoded items."""
    out: dict[str, float | None] = {}
    for scale in SCALES:
        codes = _answered(answers, SCALE_ITEMS[scale])
        values = [rand_recoded(f"sf36_{n:02d}", c) for n, c in codes.items()]
        out[scale] = float(Fraction(sum(values), len(values))) if values else None
    code2 = answers.get("sf36_02")
    out["HT"] = None if code2 is None else float(rand_recoded("sf36_02", code2))
    return out


@settings(deadline=None)
@given(sf36_forms())
def test_sf36_every_scale_stays_in_0_to_100(answers: Answers) -> None:
    for method in ("standard", "rand"):
        for key, value in score("sf36", answers, method).items():
            if key not in ("PCS", "MCS") and value is not None:
                assert 0.0 <= value <= 100.0, (method, key, value)


@settings(deadline=None)
@given(sf36_forms())
def test_summaries_exist_exactly_when_all_eight_scales_do(answers: Answers) -> None:
    result = score("sf36", answers)
    complete = all(result[s] is not None for s in SCALES)
    assert (result["PCS"] is not None) is complete
    assert (result["MCS"] is not None) is complete


@settings(deadline=None)
@given(sf36_forms())
def test_rand_equals_standard_on_six_scales_whenever_the_standard_scale_exists(
    answers: Answers,
) -> None:
    """Both are the same exact fraction, rounded once: equal to the last bit."""
    standard = score("sf36", answers)
    rand = score("sf36", answers, method="rand")
    for scale in SHARED_SCALES:
        if standard[scale] is not None:
            assert rand[scale] == standard[scale], scale


@settings(deadline=None)
@given(sf36_forms())
def test_standard_agrees_with_a_plain_transcription_of_the_rules(answers: Answers) -> None:
    ours = score("sf36", answers)
    reference = reference_standard(answers)
    for key, value in reference.items():
        if value is None:
            assert ours[key] is None, key
        else:
            assert ours[key] is not None and abs(ours[key] - value) <= 1e-9, key


@settings(deadline=None)
@given(sf36_forms())
def test_rand_agrees_with_a_plain_transcription_of_the_rules(answers: Answers) -> None:
    assert score("sf36", answers, method="rand") == reference_rand(answers)


@st.composite
def sf36_improvement(draw: st.DrawFn) -> tuple[Answers, str, int, int]:
    """Answers, an item, and two of its codes: `worse` then `better` (RAND order = health)."""
    answers = draw(sf36_forms())
    item = draw(st.sampled_from(SF36.items))
    by_health = sorted(item.codes, key=lambda c: rand_recoded(item.id, c))
    positions = st.integers(0, len(by_health) - 1)
    worse, better = sorted(draw(st.lists(positions, min_size=2, max_size=2, unique=True)))
    return answers, item.id, by_health[worse], by_health[better]


@settings(deadline=None)
@given(sf36_improvement())
def test_a_better_sf36_answer_never_lowers_a_scale(case: tuple[Answers, str, int, int]) -> None:
    answers, item_id, worse_code, better_code = case
    for method in ("standard", "rand"):
        worse = score("sf36", {**answers, item_id: worse_code}, method)
        better = score("sf36", {**answers, item_id: better_code}, method)
        for key in (*SCALES, "HT") if method == "rand" else SCALES:
            if worse[key] is not None:
                assert better[key] is not None and better[key] >= worse[key], (method, key)


@settings(deadline=None)
@given(answers_of("odi"), st.sampled_from(ODI.item_ids), st.integers(0, 5), st.integers(0, 5))
def test_odi_stays_in_range_and_a_better_answer_never_raises_it(
    answers: Answers, item_id: str, a: int, b: int
) -> None:
    better, worse = sorted((a, b))  # lower ODI code = less disability
    result_worse = score("odi", {**answers, item_id: worse}, min_sections=1)
    result_better = score("odi", {**answers, item_id: better}, min_sections=1)
    assert result_worse["ODI"] is not None and result_better["ODI"] is not None
    assert 0.0 <= result_better["ODI"] <= result_worse["ODI"] <= 100.0


@settings(deadline=None)
@given(answers_of("odi"), st.integers(1, 10))
def test_odi_is_the_exact_fraction_rounded_once(answers: Answers, minimum: int) -> None:
    codes = [c for c in answers.values() if c is not None]
    result = score("odi", answers, min_sections=minimum)
    assert result["answered"] == len(codes)
    if len(codes) < minimum:
        assert result["ODI"] is None
    else:
        assert result["ODI"] == float(Fraction(100 * sum(codes), 5 * len(codes)))


@settings(deadline=None)
@given(st.integers(0, 1000))
def test_vas_stays_in_range(tenths: int) -> None:
    value = score("vas", {"vas_pain": tenths / 10})["VAS"]
    assert value is not None and 0.0 <= value <= 100.0


odi_sums = st.integers(1, 10).flatmap(lambda n: st.tuples(st.integers(0, 5 * n), st.just(n)))


@settings(deadline=None)
@given(odi_sums, odi_sums, st.sampled_from([10, 20, 25, 30, 50]))
def test_odi_criterion_is_decided_on_the_exact_fractions(
    baseline: tuple[int, int], followup: tuple[int, int], threshold: int
) -> None:
    """The relative criterion from the scores equals the criterion on the section sums."""
    exact_b = Fraction(100 * baseline[0], 5 * baseline[1])
    exact_f = Fraction(100 * followup[0], 5 * followup[1])
    expected = None if exact_b == 0 else (exact_b - exact_f) * 100 >= threshold * exact_b
    got = odi_responder(float(exact_b), float(exact_f), threshold=threshold)
    assert got is expected
    points = odi_responder(float(exact_b), float(exact_f), rule="points", threshold=threshold)
    assert points is (exact_b - exact_f >= threshold)


@settings(deadline=None)
@given(st.integers(0, 1000), st.integers(0, 1000), st.integers(1, 40), st.integers(1, 40))
def test_vas_criterion_is_decided_on_exact_tenths(
    baseline: int, followup: int, points: int, percent: int
) -> None:
    """VAS values are tenths of a mm: the criterion equals integer arithmetic on the tenths
    (with points ≥ 1 a baseline of 0 fails on the mm, so the criterion is never undetermined)."""
    gain = baseline - followup
    holds = gain >= 10 * points and gain * 100 >= percent * baseline
    assert vas_responder(baseline / 10, followup / 10, points=points, percent=percent) is holds
    responder = is_responder(
        baseline / 10, followup / 10, None, None, vas_points=points, vas_percent=percent
    )
    assert responder is (True if holds else None)  # ODI missing: undetermined unless VAS holds


def test_sf36_forms_exercise_the_summaries() -> None:
    """Most generated SF-36 forms have PCS and MCS (the strategy's point), some do not."""
    seen: list[bool] = []

    @settings(deadline=None, max_examples=200, database=None, derandomize=True)  # a fixed share
    @given(sf36_forms())
    def record(answers: Answers) -> None:
        result = score("sf36", answers)
        seen.append(result["PCS"] is not None and result["MCS"] is not None)

    record()
    assert len(seen) >= 100
    share = sum(seen) / len(seen)
    assert share >= 0.6, f"PCS/MCS computed in {share:.0%} of {len(seen)} examples"
    assert not all(seen), "incomplete forms must be generated too"
