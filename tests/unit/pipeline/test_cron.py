"""Cron expressions (croniter, as Airflow reads them): the next matching minute at chosen
moments, and every refusal."""

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
        # Both day fields restricted: either matches (croniter, Airflow). Vixie cron would
        # AND them here, since the day of month starts with "*": 2024-03-11.
        ("0 0 */2 * 1", datetime(2024, 3, 1), "2024-03-03 00:00"),
        ("0 22-2 * * *", FRIDAY.replace(hour=3), "2024-03-08 22:00"),
        ("0 0 * JAN *", datetime(2024, 6, 1), "2025-01-01 00:00"),
        ("0 0 * * MON", FRIDAY, "2024-03-11 00:00"),
        ("@daily", FRIDAY.replace(hour=10), "2024-03-09 00:00"),
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
        "star-step-dom-or-dow",
        "range-wraps-around-midnight",
        "month-name",
        "day-name",
        "daily-alias",
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
            "minute hour day-of-month month day-of-week (e.g. '0 2 * * 1-5'",
        ),
        ("* * * * * *", "cron expression '* * * * * *' has 6 fields; expected 5"),
        ("60 * * * *", "cron expression '60 * * * *' is not valid ("),
        ("0 25 * * *", "cron expression '0 25 * * *' is not valid ("),
        ("0 0 1-5,32 * *", "cron expression '0 0 1-5,32 * *' is not valid ("),
        ("0 0 0 * *", "cron expression '0 0 0 * *' is not valid ("),
        ("0 0 * 13 *", "cron expression '0 0 * 13 *' is not valid ("),
        ("0 0 * * 8", "cron expression '0 0 * * 8' is not valid ("),
        ("*/0 * * * *", "cron expression '*/0 * * * *' is not valid ("),
        ("1,,2 * * * *", "cron expression '1,,2 * * * *' is not valid ("),
        ("0 0 * FOO *", "cron expression '0 0 * FOO *' is not valid ("),
        ("0 0 30 2 *", "cron expression '0 0 30 2 *' never runs: no month has the day"),
    ],
    ids=[
        "four-fields",
        "seconds-field",
        "minute",
        "hour",
        "day-of-month-in-list",
        "day-of-month-zero",
        "month",
        "day-of-week",
        "zero-step",
        "empty-list-item",
        "unknown-name",
        "february-30",
    ],
)
def test_invalid_cron_is_refused_with_the_expression_and_why(expression, message):
    with pytest.raises(ValueError) as error:
        CronSchedule.parse(expression)
    assert str(error.value).startswith(message)
