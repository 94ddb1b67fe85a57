"""Django's date formats for this site (FORMAT_MODULE_PATH): the dashboard's one format,
`YYYY-MM-DD HH:mm:ss` and the zone's abbreviation, in the admin too (Django's English default
is `Nov. 30, 2026, 12:33 a.m.`)."""
