package dev.sluice.backend;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * Azure Storage's "Authorize with Shared Key" for the Blob service (versions 2009-09-19 and
 * later): an HMAC-SHA256, under the account key, of the verb, the standard headers, the
 * canonicalized {@code x-ms-*} headers and the canonicalized resource
 * ({@code /{account}{encoded path}} and the query parameters, lower-cased, sorted and decoded).
 * With a path-style endpoint (Azurite's {@code https://127.0.0.1:10000/devstoreaccount1}) the
 * path already starts with the account, and the resource then names it twice, as Azure's SDKs
 * and Azurite compute it. The key never leaves this class.
 */
public final class AzureSharedKey {
    private static final List<String> STANDARD = List.of("content-encoding", "content-language", "content-length",
            "content-md5", "content-type", "date", "if-modified-since", "if-match", "if-none-match", "if-unmodified-since",
            "range");

    private final String account;
    private final SecretKeySpec key;

    /** {@code accountKey} is the key as the portal shows it (base64). */
    public AzureSharedKey(String account, String accountKey) {
        this.account = account;
        byte[] raw;
        try {
            raw = Base64.getDecoder().decode(accountKey.trim());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("the account key of " + account + " is not base64");
        }
        this.key = new SecretKeySpec(raw, "HmacSHA256");
    }

    /**
     * The {@code Authorization} value for a request with {@code rawPath} and {@code rawQuery}
     * (both as sent, percent-encoded; the query without {@code ?}) carrying {@code headers}
     * (every header that is sent, names in any case, {@code x-ms-date} among them).
     */
    public String authorization(String method, String rawPath, String rawQuery, Map<String, String> headers) {
        return "SharedKey " + account + ":" + sign(stringToSign(method, rawPath, rawQuery, headers));
    }

    String stringToSign(String method, String rawPath, String rawQuery, Map<String, String> headers) {
        Map<String, String> lower = new TreeMap<>();
        headers.forEach((k, v) -> lower.put(k.toLowerCase(Locale.ROOT), v));
        StringBuilder s = new StringBuilder(method.toUpperCase(Locale.ROOT)).append('\n');
        for (String name : STANDARD) {
            String value = lower.getOrDefault(name, "");
            // Since version 2015-02-21 a zero Content-Length is signed as empty.
            if (name.equals("content-length") && value.equals("0")) {
                value = "";
            }
            s.append(value).append('\n');
        }
        for (var e : lower.entrySet()) {
            if (e.getKey().startsWith("x-ms-")) {
                s.append(e.getKey()).append(':').append(e.getValue().trim()).append('\n');
            }
        }
        s.append('/').append(account).append(rawPath.isEmpty() ? "/" : rawPath);
        Map<String, List<String>> params = new TreeMap<>();
        if (!rawQuery.isEmpty()) {
            for (String pair : rawQuery.split("&")) {
                int eq = pair.indexOf('=');
                String name = decode(eq < 0 ? pair : pair.substring(0, eq)).toLowerCase(Locale.ROOT);
                String value = eq < 0 ? "" : decode(pair.substring(eq + 1));
                params.computeIfAbsent(name, n -> new ArrayList<>()).add(value);
            }
        }
        for (var e : params.entrySet()) {
            List<String> values = new ArrayList<>(e.getValue());
            values.sort(null);
            s.append('\n').append(e.getKey()).append(':').append(String.join(",", values));
        }
        return s.toString();
    }

    private String sign(String stringToSign) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return Base64.getEncoder().encodeToString(mac.doFinal(stringToSign.getBytes(StandardCharsets.UTF_8)));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available", e);
        }
    }

    private static String decode(String s) {
        return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return "AzureSharedKey[" + account + ", <redacted>]";
    }
}
