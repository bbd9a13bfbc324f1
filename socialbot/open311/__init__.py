"""Open311 GeoReport v2: the city's 311 system (its CRM) stays the system of record.

The pure parts: the wire format (`wire`: the CRM's JSON and XML answers as dataclasses), what
its statuses mean for a case (`statuses`), and the form a case is sent as (`form`)."""
