"""The conformance battery (wflwv.testing.check_filter) over every FILTERS entry and key variants."""

import pytest

from wflwv.registry import FILTERS
from wflwv.testing.filters import CHECKS, check_filter
from wflwv.filters import create

VARIANTS = ["savgol:causal=true", "kalman:predict_through_gaps=true",
            "kalman-rts:predict_through_gaps=true", "kalman:partial_missing=drop_frame",
            "one-euro:beta=0.5", "one-euro:derivative=raw,beta=0.2,normalize=false",
            "ema:half_life_frames=3"]
SPECS = list(FILTERS.names()) + VARIANTS


@pytest.mark.parametrize("check", [name for name, _ in CHECKS])
@pytest.mark.parametrize("spec", SPECS)
def test_filter_conforms(spec, check):
    f = create(spec)
    dict(CHECKS)[check](f)


def test_check_filter_runs_whole_battery_and_names_failures():
    check_filter("one-euro")
    ema = type(create("ema"))

    class Peeks(ema):
        """Claims causal=True but uses the last frame of the track."""

        def _filter_segment(self, x, t, obs):
            return super()._filter_segment(x, t, obs) + (x[-1] - x[0]) * 1e-3

    class Leaky(ema):
        """Keeps state across calls."""

        calls = 0

        def _filter_segment(self, x, t, obs):
            Leaky.calls += 1
            return super()._filter_segment(x, t, obs) + 1e-6 * Leaky.calls * (x - x[0])

    with pytest.raises(AssertionError, match="causality"):
        check_filter(Peeks())
    with pytest.raises(AssertionError, match="deterministic_fresh_state"):
        check_filter(Leaky())
