package dev.sluice.backend;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;

/**
 * The {@code Content-Type} of an object the file backend serves, from its name, by the table
 * in {@code content-types.properties} next to this class. The table is part of sluice, not the
 * host's MIME database ({@code Files.probeContentType} answers differently on every machine) or
 * a web server's defaults (which know nothing of Parquet, FlatGeobuf or Zarr metadata).
 */
public final class ContentTypes {
    /** The type of a name the table does not know, as S3 answers for an object stored without one. */
    public static final String DEFAULT = "application/octet-stream";
    private static final String RESOURCE = "content-types.properties";

    private final Map<String, String> byName;
    private final Map<String, String> bySuffix;

    private ContentTypes(Map<String, String> byName, Map<String, String> bySuffix) {
        this.byName = byName;
        this.bySuffix = bySuffix;
    }

    /** The table shipped with sluice. */
    public static ContentTypes standard() {
        Properties table = new Properties();
        try (InputStream in = ContentTypes.class.getResourceAsStream(RESOURCE)) {
            if (in == null) {
                throw new IllegalStateException(RESOURCE + " is missing from the build");
            }
            table.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + RESOURCE, e);
        }
        Map<String, String> all = table.stringPropertyNames().stream()
                .collect(Collectors.toMap(k -> k.toLowerCase(Locale.ROOT), k -> table.getProperty(k).trim()));
        Map<String, String> names = all.entrySet().stream().filter(e -> !e.getKey().startsWith("*."))
                .collect(Collectors.toUnmodifiableMap(Map.Entry::getKey, Map.Entry::getValue));
        Map<String, String> suffixes = all.entrySet().stream().filter(e -> e.getKey().startsWith("*."))
                .collect(Collectors.toUnmodifiableMap(e -> e.getKey().substring(1), Map.Entry::getValue));
        return new ContentTypes(names, suffixes);
    }

    /**
     * The type for a file name (the key's last segment): a whole-name entry first, then the
     * longest matching suffix ({@code .copc.laz} before {@code .laz}), else {@link #DEFAULT}.
     */
    public String of(String fileName) {
        String name = fileName.toLowerCase(Locale.ROOT);
        String exact = byName.get(name);
        if (exact != null) {
            return exact;
        }
        for (int dot = name.indexOf('.', 1); dot >= 0; dot = name.indexOf('.', dot + 1)) {
            String type = bySuffix.get(name.substring(dot));
            if (type != null) {
                return type;
            }
        }
        return DEFAULT;
    }
}
