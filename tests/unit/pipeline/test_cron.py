"""Cron expressions: the next matching minute at chosen moments, and every refusal."""

from datetime import datetime

import pytest

from pipeline.runners.cron import CronSchedule

FRIDAY = datetime(2024, 3, 8)  # 2024-03-08 is a Friday; the 10th a Sunday, the 11th a Monday


@pytest.mark.parametrize(
    "expression, after, expected",
    [
        ("*/15 * * * *", FRIDAY.replace(hour=10, minute=7, second=30), "2024-03-08 10:15"),
        ("*/15 * * * *", FRIDAY.replace(hour=10, minute=15), "2024-03-08 10:30"),
        ("*/15 * * * *", FRIDAY.replace(hour=23, minute=59), "2024-03-09 00:00"),
        ("5,35 * * * *", FRIDAY.replace(hour=10, minute=6), "2024-03-08 10:35"),
        ("10/20 * * * *", FRIDAY.replace(hour=10, minute=31), "2024-03-08 10:50"),
        ("0 9-17/4 * * *", FRIDAY.replace(hour=13), "2024-03-08 17:00"),
        ("0 2 * * 1-5", FRIDAY.replace(hour=3), "2024-03-11 02:00"),
        ("0 0 31 * *", datetime(2024, 3, 31), "2024-05-31 00:00"),
        ("0 0 31 * *", datetime(2024, 5, 31), "2024-07-31 00:00"),
        ("0 0 29 2 *", datetime(2024, 3, 1), "2028-02-29 00:00"),
        ("0 0 1 1 *", datetime(2024, 6, 1), "2025-01-01 00:00"),
        ("0 12 13 * 5", FRIDAY.replace(hour=12), "2024-03-13 12:00"),
        ("0 12 13 * 5", datetime(2024, 3, 13, 12), "2024-03-15 12:00"),
        ("0 0 */2 * 1", datetime(2024, 3, 1), "2024-03-11 00:00"),
        ("0 0 * * 7", FRIDAY, "2024-03-10 00:00"),
        ("0 0 * * 0", FRIDAY, "2024-03-10 00:00"),
    ],
    ids=[
        "step-rounds-up-to-quarter",
        "strictly-after",
        "midnight-rolls-the-day",
        "list",
        "a/n-runs-to-field-end",
        "range-with-step",
        "weekdays-friday-to-monday",
        "31st-skips-april",
        "31st-skips-june",
        "feb-29-waits-for-leap-year",
        "year-rollover",
        "dom-or-dow-takes-the-13th-a-wednesday",
        "dom-or-dow-takes-a-friday",
        "star-step-dom-and-dow-is-and",
        "7-is-sunday",
        "0-is-sunday",
    ],
)
def test_cron_next_after(expression, after, expected):
    assert CronSchedule.parse(expression).next_after(after) == datetime.fromisoformat(expected)


def test_cron_keeps_the_timezone_of_the_moment():
    moment = datetime.fromisoformat("2024-03-08T10:07:30+01:00")
    assert CronSchedule.parse("*/15 * * * *").next_after(moment).isoformat() == (
        "2024-03-08T10:15:00+01:00"
    )


@pytest.mark.parametrize(
    "expression, message",
    [
        (
            "* * * *",
            "cron expression '* * * *' has 4 fields; expected 5: "
            "minute hour day-of-month month day-of-week (e.g. '0 2 * * 1-5')",
        ),
        ("60 * * * *", "cron field 1 (minute) '60': values must be in 0-59"),
        ("0 25 * * *", "cron field 2 (hour) '25': values must be in 0-23"),
        ("0 0 1-5,32 * *", "cron field 3 (day of month) '1-5,32': values must be in 1-31"),
        ("0 0 0 * *", "cron field 3 (day of month) '0': values must be in 1-31"),
        ("0 0 * 13 *", "cron field 4 (month) '13': values must be in 1-12"),
        ("0 0 * * 8", "cron field 5 (day of week) '8': values must be in 0-7"),
        ("*/0 * * * *", "cron field 1 (minute) '*/0': a step must be a positive whole number"),
        ("0 5-2 * * *", "cron field 2 (hour) '5-2': a range goes from low to high: 2-5, not 5-2"),
        ("0 0 * JAN *", "cron field 4 (month) 'JAN': expected a number, '*', a range 'a-b'"),
        ("1,,2 * * * *", "cron field 1 (minute) '1,,2': expected a number"),
        ("0 0 30 2 *", "cron expression '0 0 30 2 *' never runs: no month in '2' has a day 30"),
    ],
    ids=[
        "four-fields",
        "minute",
        "hour",
        "day-of-month-in-list",
        "day-of-month-zero",
        "month",
        "day-of-week",
        "zero-step",
        "reversed-range",
        "month-name",
        "empty-list-item",
        "february-30",
    ],
)
def test_invalid_cron_names_the_field_and_its_range(expression, message):
    with pytest.raises(ValueError) as error:
        CronSchedule.parse(expression)
    assert str(error.value).startswith(message)
