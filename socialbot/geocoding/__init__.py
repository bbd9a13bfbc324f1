"""An address in words → a point, through the city's configured geocoder (issue 18).

    base.py    the `Geocoder` protocol intake asks, and `GeocoderConfig`, what the settings say
    wire.py    pure: the requests each service takes and its answers read (Nominatim's
               `/search?format=json`, ArcGIS's `findAddressCandidates?f=json`) into a point, or
               none, or a `GeocoderError` naming what was wrong
    http.py    `HttpGeocoder`: one request at a time over `requests`, paced (Nominatim's public
               server allows one a second), its answers remembered (an LRU), an outage held off
               for a while instead of costing every mention a timeout, any answer outside the
               city bounds no answer

Like a network's adapter, it is built once by the composition root (`app.make_geocoder`) and
handed to intake; nothing else knows which service it is.
"""
