"""Open311 GeoReport v2: the wire format, the statuses, the form, and the jobs that forward
cases to a city's CRM and bring its statuses back."""
