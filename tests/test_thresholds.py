"""Threshold crossings: info, alert and all-clear exactly once per episode."""

from datetime import UTC, datetime, timedelta

import pytest

from kinds.air.thresholds import Level, Thresholds, crossings, current_level

OZONE = Thresholds(info=180, alert=240)
START = datetime(2024, 7, 1, 8, 0, tzinfo=UTC)


def hourly(*values: float) -> list[tuple[datetime, float]]:
    return [(START + timedelta(hours=i), float(v)) for i, v in enumerate(values)]


def summary(series, thresholds=OZONE) -> list[tuple[int, str, float]]:
    """(hour index, level, threshold) of each event, so expectations read like the series."""
    return [
        (int((e.at - START).total_seconds() // 3600), e.level.value, e.threshold)
        for e in crossings(series, thresholds)
    ]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        # the sequence: crosses 180, then 240, then falls below -> exactly info, alert, all-clear
        ((150, 190, 200, 250, 260, 170), [(1, "info", 180), (3, "alert", 240), (5, "all-clear", 180)]),
        # staying above gives nothing more
        ((190, 195, 200, 185, 181), [(0, "info", 180)]),
        # a series that starts above announces at its first reading
        ((250, 245), [(0, "alert", 240)]),
        # straight over both thresholds: one alert, not info plus alert
        ((100, 250, 100), [(1, "alert", 240), (2, "all-clear", 180)]),
        # back between the thresholds is still above info; a second rise over 240 is a new alert
        (
            (190, 250, 200, 250, 150),
            [(0, "info", 180), (1, "alert", 240), (3, "alert", 240), (4, "all-clear", 180)],
        ),
        # "rises above" is strict: exactly on a threshold is not over it
        ((180, 180, 240), [(2, "info", 180)]),
        ((100, 120), []),
    ],
)
def test_crossings(values, expected):
    assert summary(hourly(*values)) == expected


def test_alert_only_threshold_clears_below_the_alert_value():
    no2 = Thresholds(info=None, alert=400)
    assert summary(hourly(300, 410, 420, 390), no2) == [(1, "alert", 400), (3, "all-clear", 400)]


def test_event_carries_the_reading():
    event = crossings(hourly(150, 190.5), OZONE)[0]
    assert (event.at, event.value, event.level) == (START + timedelta(hours=1), 190.5, Level.INFO)


def test_no_thresholds_no_events():
    assert crossings(hourly(1000, 0, 1000), Thresholds()) == []


def test_information_threshold_above_alert_is_refused():
    with pytest.raises(ValueError, match="above the alert"):
        Thresholds(info=250, alert=240)


@pytest.mark.parametrize(("value", "level"), [(100, None), (180, None), (181, "info"), (240.5, "alert")])
def test_current_level(value, level):
    assert current_level(value, OZONE) == level
