"""An address in words → a point, through the city's configured geocoder (issue 18).

    base.py    the `Geocoder` protocol intake asks, and `GeocoderConfig`, what the settings say
    wire.py    pure: what geopy does not check in an answer (`Location.raw`, the place's JSON):
               a Nominatim place that is a street or a town, an ArcGIS candidate scored low or
               an area, a position not given; an ArcGIS refusal or spatial reference
    adapter.py `GeopyGeocoder`: geopy's Nominatim, or its ArcGIS pointed at the city's locator,
               one request at a time, paced (Nominatim's public server allows one a second),
               its answers remembered (an LRU), an outage held off for a while instead of
               costing every mention a timeout, any answer outside the city bounds no answer;
               geopy's exceptions become `GeocoderError`s there

Like a network's adapter, it is built once by the composition root (`app.make_geocoder`) and
handed to intake; nothing else knows which service it is.
"""
