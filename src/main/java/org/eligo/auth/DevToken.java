package org.eligo.auth;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;

/**
 * Mints a token for the embedded quick start, signed with the development key pair the service
 * creates in {@code data/dev-jwt} when it runs on its embedded database. Plain JDK only, so it runs
 * straight from source with no build:
 *
 * <pre>
 * java src/main/java/org/eligo/auth/DevToken.java analyst
 * java src/main/java/org/eligo/auth/DevToken.java agency state-wage-feed [more sources...]
 * </pre>
 *
 * Options before the role: {@code --keys DIR} (default {@code data/dev-jwt}), {@code --subject NAME},
 * {@code --hours N} (default 8). A service on a real database never trusts this key: it verifies
 * with the public key of the issuer it is configured for.
 */
public final class DevToken {

    public static final String ISSUER = "eligo-dev";
    public static final String PRIVATE_KEY = "private.pem";
    public static final String PUBLIC_KEY = "public.pem";

    private DevToken() {
    }

    public static void main(String[] args) throws Exception {
        Path keys = Path.of("data/dev-jwt");
        String subject = null;
        long hours = 8;
        int i = 0;
        for (; i < args.length && args[i].startsWith("--"); i += 2) {
            if (i + 1 >= args.length) {
                usage("missing value for " + args[i]);
            }
            switch (args[i]) {
                case "--keys" -> keys = Path.of(args[i + 1]);
                case "--subject" -> subject = args[i + 1];
                case "--hours" -> hours = Long.parseLong(args[i + 1]);
                default -> usage("unknown option " + args[i]);
            }
        }
        if (i >= args.length || !List.of("agency", "caseworker", "analyst").contains(args[i])) {
            usage("the first argument is the role: agency, caseworker or analyst");
        }
        String role = args[i];
        List<String> sources = List.of(args).subList(i + 1, args.length);
        if (role.equals("agency") && sources.isEmpty()) {
            usage("an agency token needs the sources it may submit for");
        }
        Path privateKey = keys.resolve(PRIVATE_KEY);
        if (!Files.exists(privateKey)) {
            usage(privateKey + " does not exist: start the service once on its embedded database to create it");
        }
        String name = subject != null ? subject : "dev-" + role;
        System.out.println(sign(readPrivateKey(Files.readString(privateKey)), ISSUER, name, List.of(role), sources, Duration.ofHours(hours)));
    }

    /** An RS256 JWT with the claims Eligo reads: iss, sub, upn, groups, sources, iat, exp, jti. */
    public static String sign(PrivateKey key, String issuer, String subject, List<String> groups, List<String> sources, Duration lifetime)
            throws GeneralSecurityException {
        Instant now = Instant.now();
        List<String> claims = new ArrayList<>();
        claims.add("\"iss\":" + quote(issuer));
        claims.add("\"sub\":" + quote(subject));
        claims.add("\"upn\":" + quote(subject));
        claims.add("\"groups\":" + array(groups));
        if (!sources.isEmpty()) {
            claims.add("\"sources\":" + array(sources));
        }
        claims.add("\"iat\":" + now.getEpochSecond());
        claims.add("\"exp\":" + now.plus(lifetime).getEpochSecond());
        claims.add("\"jti\":" + quote(UUID.randomUUID().toString()));
        String signingInput = base64("{\"alg\":\"RS256\",\"typ\":\"JWT\"}") + "." + base64("{" + String.join(",", claims) + "}");
        Signature signature = Signature.getInstance("SHA256withRSA");
        signature.initSign(key);
        signature.update(signingInput.getBytes(StandardCharsets.US_ASCII));
        return signingInput + "." + Base64.getUrlEncoder().withoutPadding().encodeToString(signature.sign());
    }

    public static PrivateKey readPrivateKey(String pem) throws GeneralSecurityException {
        String body = pem.replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        return KeyFactory.getInstance("RSA").generatePrivate(new PKCS8EncodedKeySpec(Base64.getDecoder().decode(body)));
    }

    public static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    private static String base64(String json) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
    }

    private static String array(List<String> values) {
        return "[" + String.join(",", values.stream().map(DevToken::quote).toList()) + "]";
    }

    private static String quote(String text) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : text.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }

    private static void usage(String problem) {
        System.err.println("DevToken: " + problem);
        System.err.println("usage: java src/main/java/org/eligo/auth/DevToken.java [--keys DIR] [--subject NAME] [--hours N] "
                + "agency SOURCE... | caseworker | analyst");
        System.exit(2);
    }
}
