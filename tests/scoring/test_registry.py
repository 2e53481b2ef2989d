"""The scoring registry: filled by each instrument module; unknown instrument or method: errors."""

from __future__ import annotations

import pytest

from respine_desktop import scoring
from respine_desktop.instruments import instrument_ids
from respine_desktop.scoring import odi, registry, sf36, vas


def test_every_instrument_file_has_its_scoring_registered() -> None:
    assert registry.registered() == instrument_ids()


def test_each_module_registers_its_methods() -> None:
    assert [m.name for m in registry.methods("vas")] == ["default"]
    assert [m.name for m in registry.methods("odi")] == ["default"]
    assert [m.name for m in registry.methods("sf36")] == ["standard", "rand"]
    assert registry.method("vas").score is vas.score_vas
    assert registry.method("odi").bind is odi.scorer
    assert registry.method("sf36") is registry.method("sf36", "standard")
    assert registry.method("sf36", "rand").score is sf36.score_rand
    assert registry.method_names("vas") == registry.method_names("odi") == ()
    assert registry.method_names("sf36") == ("standard", "rand")
    assert (
        registry.method("sf36", "rand").keys == sf36.RAND_KEYS == scoring.score_keys("sf36", "rand")
    )
    assert registry.method("odi").label == odi.LABEL == scoring.label("odi")


def test_the_public_api_goes_through_the_registry() -> None:
    answers = {f"odi_{n:02d}": 2 for n in range(1, 10)}
    assert scoring.score("odi", answers) == {"ODI": 40.0, "answered": 9}
    assert scoring.score("odi", answers, min_sections=10) == {"ODI": None, "answered": 9}
    assert scoring.scorer("odi", min_sections=10)(answers)["ODI"] is None
    assert scoring.score_methods("odi", answers) == {"default": scoring.score("odi", answers)}
    assert scoring.score_methods("vas", {"vas_pain": 12.5}) == {"default": {"VAS": 12.5}}
    both = scoring.score_methods("sf36", {})
    assert both == {
        "standard": scoring.score("sf36", {}),
        "rand": scoring.score("sf36", {}, "rand"),
    }


def test_an_unknown_instrument_names_the_known_ones() -> None:
    for call in (
        lambda: scoring.score("eq5d", {}),
        lambda: scoring.score_methods("eq5d", {}),
        lambda: scoring.score_keys("eq5d"),
        lambda: scoring.label("eq5d"),
    ):
        with pytest.raises(
            ValueError, match=r"unknown instrument 'eq5d' \(known: odi, sf36, vas\)"
        ):
            call()


def test_an_unknown_method_names_the_known_ones() -> None:
    with pytest.raises(
        ValueError, match=r"sf36: unknown scoring method 'norms' \(known: standard, rand\)"
    ):
        scoring.scorer("sf36", "norms")
    with pytest.raises(ValueError, match=r"sf36: unknown scoring method 'default'"):
        scoring.score("sf36", {}, "default")
    with pytest.raises(ValueError, match=r"vas: has no scoring method 'rand' \(scored one way"):
        scoring.label("vas", "rand")
    with pytest.raises(ValueError, match=r"odi: has no scoring method 'default'"):
        scoring.score_keys("odi", "default")
    with pytest.raises(ValueError, match="min_sections"):
        scoring.scorer("odi", min_sections=0)  # checked when the scorer is made


def test_an_instrument_file_without_scoring_and_a_double_registration_are_errors(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(registry, "instrument_ids", lambda: ("eq5d", *instrument_ids()))
    with pytest.raises(ValueError, match="eq5d: no scoring is registered for this instrument"):
        scoring.score("eq5d", {})
    with pytest.raises(ValueError, match="sf36: scoring method 'rand' is registered twice"):
        registry.register("sf36", "rand", sf36.score_rand, keys=sf36.RAND_KEYS, label="again")
    assert registry.method("sf36", "rand").label == sf36.RAND_LABEL
