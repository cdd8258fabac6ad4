"""Make the operator-data fixtures of tests/test_operator_data.py (run from this folder).

One 30-cell network (10 three-sector sites around Berlin) exported three ways, and one
planning area exported four ways, as operators and GIS users have them:

- ``network_cp1252.csv``: Windows-1252, ``;``-separated, decimal commas, headers with
  units (``Tx Power (dBm)``, ``Azimuth (°)``), an unused column with umlauts;
- ``network.xlsx``: operator names (``Site Name``, ``LAT (WGS84)``, ``EIRP dBm``, ``TRX``)
  and EIRP instead of power + gain;
- ``network.gpkg``: a point layer ``cells`` in ETRS89 / UTM 33N (EPSG:25833);
- ``area_25833.gpkg`` (projected), ``area_3035.shp`` (ETRS89-LAEA), ``area.kml`` and
  ``area.geojson`` (WGS 84): the same polygon.
"""

import numpy as np
import pandas as pd
import pyproj
import shapely

import geopandas as gpd

LON0, LAT0 = 13.4050, 52.5200
rng = np.random.default_rng(20261202)
to_25833 = pyproj.Transformer.from_crs("EPSG:4326", "EPSG:25833", always_xy=True)
to_4326 = pyproj.Transformer.from_crs("EPSG:25833", "EPSG:4326", always_xy=True)

x0, y0 = to_25833.transform(LON0, LAT0)
sx = x0 + rng.uniform(-1200, 1200, 10)
sy = y0 + rng.uniform(-1000, 1000, 10)
slon, slat = to_4326.transform(sx, sy)
slon, slat = np.round(slon, 6), np.round(slat, 6)       # as exports write them
rows = []
for s in range(10):
    first = float(rng.integers(0, 120))
    for k in range(3):
        power = float(rng.choice([20.0, 23.0, 26.0]))
        gain = float(rng.choice([0.0, 3.0]))
        rows.append({"site": f"BER{s + 1:03d}", "cell": f"BER{s + 1:03d}{'ABC'[k]}",
                     "lat": slat[s], "lon": slon[s], "azimuth": (first + 120 * k) % 360,
                     "tilt": float(rng.choice([2.0, 4.0, 6.0])), "height": 25.0 + s,
                     "power": power, "gain": gain, "eirp": power + gain,
                     "antennas": int(rng.choice([8, 16, 32])), "band": "n78",
                     "district": ["Mitte", "Köpenick", "Prenzlauer Berg", "Schöneberg",
                                  "Friedrichshain"][s % 5]})
net = pd.DataFrame(rows)


def comma(v):
    return f"{v}".replace(".", ",")


csv = pd.DataFrame({
    "Site ID": net.site, "Cell ID": net.cell, "Latitude (°)": net.lat.map(comma),
    "Longitude (°)": net.lon.map(comma), "Azimuth (deg)": net.azimuth.map(comma),
    "Mechanical Tilt [°]": net.tilt.map(comma), "Antenna Height (m)": net.height.map(comma),
    "Tx Power (dBm)": net.power.map(comma), "Antenna Gain (dBi)": net.gain.map(comma),
    "Antennas": net.antennas, "Band": net.band, "Bezirk": net.district})
csv.to_csv("network_cp1252.csv", sep=";", index=False, encoding="cp1252")

pd.DataFrame({"Site Name": net.site, "Cell Name": net.cell, "LAT (WGS84)": net.lat,
              "LON (WGS84)": net.lon, "Bearing": net.azimuth, "M-Tilt": net.tilt,
              "Height": net.height, "EIRP dBm": net.eirp - net.gain + net.gain,
              "Antenna Gain": net.gain, "TRX": net.antennas, "Band": net.band}).to_excel(
    "network.xlsx", index=False, sheet_name="cells")

px, py = to_25833.transform(net.lon.to_numpy(), net.lat.to_numpy())
gpd.GeoDataFrame({"siteid": net.site, "cellid": net.cell, "azimuth": net.azimuth,
                  "height_m": net.height, "tilt": net.tilt, "power": net.power, "gain": net.gain,
                  "ports": net.antennas},
                 geometry=gpd.points_from_xy(px, py), crs="EPSG:25833").to_file(
    "network.gpkg", layer="cells", driver="GPKG")

area = shapely.Polygon([(x0 - 1500, y0 - 1300), (x0 + 1600, y0 - 1200), (x0 + 1400, y0 + 1400),
                        (x0 - 200, y0 + 1100), (x0 - 1600, y0 + 1300)])
area = area.difference(shapely.Point(x0 + 300, y0 - 200).buffer(150, quad_segs=8))
frame = gpd.GeoDataFrame({"name": ["Berlin test area"]}, geometry=[area], crs="EPSG:25833")
frame.to_file("area_25833.gpkg", layer="area", driver="GPKG")
frame.to_crs("EPSG:3035").to_file("area_3035.shp")
frame.to_crs("EPSG:4326").to_file("area.kml", driver="KML")
frame.to_crs("EPSG:4326").to_file("area.geojson", driver="GeoJSON")
