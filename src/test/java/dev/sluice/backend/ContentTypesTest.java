package dev.sluice.backend;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ContentTypesTest {
    private static final ContentTypes TYPES = ContentTypes.standard();

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', textBlock = """
        places.geojson           | application/geo+json
        part-0.parquet           | application/vnd.apache.parquet
        dem.tif                  | image/tiff; application=geotiff
        DEM.TIFF                 | image/tiff; application=geotiff
        cube.nc                  | application/x-netcdf
        .zarray                  | application/json
        .zattrs                  | application/json
        .zgroup                  | application/json
        zarr.json                | application/json
        roads.fgb                | application/vnd.flatgeobuf
        tiles.pmtiles            | application/vnd.pmtiles
        households.csv           | text/csv
        greeting.txt             | text/plain
        index.html               | text/html
        app.js                   | text/javascript
        style.css                | text/css
        logo.png                 | image/png
        photo.JPG                | image/jpeg
        meta.json                | application/json
        paper.pdf                | application/pdf
        points.copc.laz          | application/vnd.laszip+copc
        points.laz               | application/vnd.laszip
        archive.tar.gz           | application/gzip
        noextension              | application/octet-stream
        data.unknownext          | application/octet-stream
        0.0.0                    | application/octet-stream
        .hidden                  | application/octet-stream
        trailingdot.             | application/octet-stream
        """)
    void typeFollowsTheTable(String name, String type) {
        assertThat(TYPES.of(name)).isEqualTo(type);
    }
}
