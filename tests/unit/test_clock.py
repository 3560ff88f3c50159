from datetime import datetime, timezone

import pytest
from hypothesis import given, settings, strategies as st

from mock_server.core.clock import Clock, epoch, iso


class FakeTime:
    def __init__(self, t=1000.0):
        self.t = t

    def __call__(self):
        return self.t


def test_real_clock_follows_the_time_source():
    source = FakeTime()
    clock = Clock(source)
    assert clock.now() == 1000.0
    source.t = 1005.5
    assert clock.now() == 1005.5
    assert not clock.frozen


def test_advance_adds_an_offset_that_keeps_running():
    source = FakeTime()
    clock = Clock(source)
    clock.advance(60)
    assert clock.now() == 1060.0
    source.t += 10
    assert clock.now() == 1070.0
    assert clock.offset == 60


def test_frozen_clock_stands_still_until_advanced_and_resumes_from_there():
    source = FakeTime()
    clock = Clock(source)
    clock.freeze()
    source.t += 100
    assert clock.now() == 1000.0
    clock.advance(46 * 60)
    assert clock.now() == 1000.0 + 2760
    clock.resume()
    assert clock.now() == 1000.0 + 2760  # resumes where it stood, not at real time
    source.t += 1
    assert clock.now() == 1000.0 + 2761


def test_freeze_at_an_instant_and_reset():
    source = FakeTime()
    clock = Clock(source)
    clock.freeze(at=5.0)
    assert clock.now() == 5.0
    clock.reset()
    assert clock.now() == 1000.0 and not clock.frozen


def test_the_clock_never_moves_backwards():
    with pytest.raises(ValueError, match="only moves forward"):
        Clock().advance(-1)


def test_iso_is_rfc3339_utc_with_milliseconds():
    assert iso(0) == "1970-01-01T00:00:00.000Z"
    assert iso(1_790_000_000.25) == "2026-09-21T14:13:20.250Z"
    # The last instant's text is kept: alternating instants each get their own.
    assert [iso(t) for t in (1.5, 2.5, 1.5, 1.5)] == ["1970-01-01T00:00:01.500Z",
                                                      "1970-01-01T00:00:02.500Z",
                                                      "1970-01-01T00:00:01.500Z",
                                                      "1970-01-01T00:00:01.500Z"]


@settings(max_examples=2000)
@given(st.floats(min_value=0, max_value=4_102_444_800, allow_nan=False)
       | st.integers(min_value=0, max_value=4_102_444_799).map(lambda s: s + 0.9999995))
def test_iso_is_the_text_datetime_would_give(epoch):
    expected = datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="milliseconds")
    assert iso(epoch) == expected.replace("+00:00", "Z") == iso(epoch)  # and again, from the cache


def test_epoch_reads_what_iso_writes_and_takes_a_naive_time_as_utc():
    assert epoch(iso(1_790_000_000.123)) == 1_790_000_000.123
    assert epoch("2026-01-01T00:00:00+02:00") == epoch("2025-12-31T22:00:00Z")
    assert epoch("2026-01-01T00:00:00") == epoch("2026-01-01T00:00:00Z")
    with pytest.raises(ValueError):
        epoch("tomorrow")
