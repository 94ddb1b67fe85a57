from dagruns.sdk import macros


def test_ds_add_shifts_a_date_string():
    assert macros.ds_add("2015-01-01", 5) == "2015-01-06"
    assert macros.ds_add("2015-01-06", -5) == "2015-01-01"
    assert macros.ds_add("2015-01-06", 0) == "2015-01-06"


def test_ds_format_reformats_a_date_string():
    assert macros.ds_format("2015-01-01", "%Y-%m-%d", "%m-%d-%y") == "01-01-15"
    assert macros.ds_format("1/5/2015", "%m/%d/%Y", "%Y-%m-%d") == "2015-01-05"


def test_datetime_and_timedelta_are_exposed():
    assert macros.datetime(2024, 1, 1) + macros.timedelta(days=1) == macros.datetime(2024, 1, 2)
