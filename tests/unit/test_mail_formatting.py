"""Dates, months and numbers in the emails' languages (tasks/mail/formatting.py); moved out of
test_emails.py, which keeps templates and message building."""

from __future__ import annotations

from datetime import UTC, date, datetime

from tasks.mail import formatting as fmt

WHEN = datetime(2026, 11, 30, 9, 45)


def test_datetime_formatting() -> None:
    assert fmt.format_datetime_long(WHEN) == "lunedì 30 novembre 2026, ore 09:45"
    assert fmt.format_datetime_long(WHEN, "en") == "Monday 30 November 2026, 09:45"
    assert fmt.format_datetime_long("2026-11-30T09:45:00", "it") == "lunedì 30 novembre 2026, ore 09:45"
    # Babel/CLDR: "р." kept on the year by a narrow no-break space; Ukrainian groups thousands with a no-break space
    dates = [fmt.format_date_long(date(2026, 5, 1), lang) for lang in ("it", "en", "uk")]
    assert dates == ["venerdì 1 maggio 2026", "Friday 1 May 2026", "пʼятниця, 1 травня 2026\u202fр."]
    assert fmt.format_datetime_long(datetime(2026, 1, 10, 18, 5), "uk") == "субота, 10 січня 2026\u202fр., о 18:05"
    assert fmt.format_datetime_long(datetime(2026, 7, 1, 22, 15, tzinfo=UTC)) == "giovedì 2 luglio 2026, ore 00:15"
    months = [fmt.format_month("2026-11", lang) for lang in ("it", "en", "uk")] + [fmt.format_month("2026-13")]
    assert months == ["novembre 2026", "November 2026", "листопад 2026\u202fр.", "2026-13"]
    numbers = [fmt.format_number(1234.5), fmt.format_number(1234.5, "en"), fmt.format_number(-1234567, "uk")]
    assert numbers == ["1.234,5", "1,234.5", "-1\xa0234\xa0567"]
    rounded = [fmt.format_number(v, digits=d) for v, d in ((87.3, 2), (12.0, 2), (10.0, 0), (0.153, 1))]
    assert rounded == ["87,3", "12", "10", "0,2"]
    assert [fmt.format_percent(0.153), fmt.format_percent(0.153, "en")] == ["15,3%", "15.3%"]
