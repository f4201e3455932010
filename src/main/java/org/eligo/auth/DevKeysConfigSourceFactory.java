package org.eligo.auth;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

import org.eclipse.microprofile.config.spi.ConfigSource;
import org.eligo.db.EmbeddedDatabaseConfigSourceFactory;

import io.smallrye.config.ConfigSourceContext;
import io.smallrye.config.ConfigSourceFactory;
import io.smallrye.config.PropertiesConfigSource;

/**
 * The embedded quick start's token issuer: when the service runs on its embedded PostgreSQL (no
 * datasource URL, embedded enabled), authentication is on and no verification key is configured,
 * a development RSA key pair is created once in {@code eligo.auth.dev-key-directory} and the service
 * verifies tokens against it, with issuer {@value DevToken#ISSUER}. {@link DevToken} mints tokens
 * with the private half. The console's development sign-in ({@code eligo.console.dev-sign-in}) is
 * turned on with them, unless set.
 *
 * <p>Quarkus's own development keys are replaced, not obeyed: {@code quarkus:run} and {@code quarkus:dev}
 * hand the service a key pair of their own making (smallrye-jwt's dev-mode support, passed as
 * system properties with issuer {@value #QUARKUS_DEV_ISSUER} and a private key in
 * {@code smallrye.jwt.sign.key}). Nobody outside that JVM holds its private half, so no token could
 * be minted for it; on the embedded database that pair is recognised and outranked (ordinal
 * {@value #OVERRIDE_ORDINAL}, above system properties), so the README's start command trusts the same
 * {@code data/dev-jwt} pair as {@code java -jar}.
 *
 * <p>Production is untouched: with a datasource URL, or with any key configured, this adds nothing,
 * and {@link AuthStartup} refuses to start without a key.
 */
public class DevKeysConfigSourceFactory implements ConfigSourceFactory {

    static final String PUBLIC_KEY = "mp.jwt.verify.publickey";
    static final String PUBLIC_KEY_LOCATION = "mp.jwt.verify.publickey.location";
    static final String ISSUER = "mp.jwt.verify.issuer";
    static final String SIGN_KEY = "smallrye.jwt.sign.key";
    static final String DEV_SIGN_IN = "eligo.console.dev-sign-in";
    /** The issuer smallrye-jwt's dev-mode support gives the key pair it generates. */
    static final String QUARKUS_DEV_ISSUER = "https://quarkus.io/issuer";
    /** Below application.properties (250): an explicit setting anywhere wins. */
    private static final int ORDINAL = 200;
    /** Above system properties (400), where quarkus:run puts its generated key pair. */
    private static final int OVERRIDE_ORDINAL = 450;

    @Override
    public Iterable<ConfigSource> getConfigSources(ConfigSourceContext context) {
        if (!EmbeddedDatabaseConfigSourceFactory.embeddedQuickStart(context)
                || !Boolean.parseBoolean(EmbeddedDatabaseConfigSourceFactory.value(context, "eligo.auth.enabled", "true"))) {
            return List.of();
        }
        boolean quarkusDevKeys = quarkusDevKeys(context);
        if (!quarkusDevKeys && (EmbeddedDatabaseConfigSourceFactory.isSet(context.getValue(PUBLIC_KEY))
                || EmbeddedDatabaseConfigSourceFactory.isSet(context.getValue(PUBLIC_KEY_LOCATION)))) {
            return List.of();
        }
        Path directory = Path.of(EmbeddedDatabaseConfigSourceFactory.value(context, "eligo.auth.dev-key-directory", "data/dev-jwt"));
        Path publicKey = ensureKeyPair(directory);
        // The console's development sign-in goes with the development keys: the quick start has no
        // identity provider to sign in with. Below any explicit setting.
        ConfigSource devSignIn = new PropertiesConfigSource(Map.of(DEV_SIGN_IN, "true"), "EligoDevSignIn", ORDINAL);
        if (!quarkusDevKeys) {
            return List.of(new PropertiesConfigSource(Map.of(
                    PUBLIC_KEY_LOCATION, publicKey.toAbsolutePath().toUri().toString(),
                    ISSUER, DevToken.ISSUER), "EligoDevKeys", ORDINAL), devSignIn);
        }
        // An inline key outranks any location, so Quarkus's inline key is replaced by ours, inline.
        return List.of(new PropertiesConfigSource(Map.of(
                PUBLIC_KEY, inlineKey(publicKey),
                ISSUER, DevToken.ISSUER), "EligoDevKeys", OVERRIDE_ORDINAL), devSignIn);
    }

    /** True when the only key configured is the one smallrye-jwt generated for dev mode or quarkus:run. */
    static boolean quarkusDevKeys(ConfigSourceContext context) {
        io.smallrye.config.ConfigValue issuer = context.getValue(ISSUER);
        return EmbeddedDatabaseConfigSourceFactory.isSet(context.getValue(SIGN_KEY))
                && issuer != null && QUARKUS_DEV_ISSUER.equals(issuer.getValue())
                && !EmbeddedDatabaseConfigSourceFactory.isSet(context.getValue(PUBLIC_KEY_LOCATION));
    }

    /** The PEM's base64 body, the form {@code mp.jwt.verify.publickey} takes. */
    private static String inlineKey(Path publicKey) {
        try {
            return Files.readString(publicKey).replaceAll("-----[A-Z ]+-----", "").replaceAll("\\s", "");
        } catch (IOException e) {
            throw new UncheckedIOException("Could not read the development public key " + publicKey, e);
        }
    }

    @Override
    public OptionalInt getPriority() {
        return OptionalInt.of(ORDINAL);
    }

    /** Creates the pair once; later starts reuse it, so tokens minted earlier stay valid. */
    static Path ensureKeyPair(Path directory) {
        Path privateKey = directory.resolve(DevToken.PRIVATE_KEY);
        Path publicKey = directory.resolve(DevToken.PUBLIC_KEY);
        if (Files.exists(privateKey) && Files.exists(publicKey)) {
            return publicKey;
        }
        try {
            Files.createDirectories(directory);
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048);
            KeyPair pair = generator.generateKeyPair();
            Path temporary = Files.createTempFile(directory, "private", ".tmp");
            try {
                Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException e) {
                // not a POSIX file system: the directory's own protection applies
            }
            Files.writeString(temporary, DevToken.pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
            Files.writeString(publicKey, DevToken.pem("PUBLIC KEY", pair.getPublic().getEncoded()));
            Files.move(temporary, privateKey, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            return publicKey;
        } catch (IOException e) {
            throw new UncheckedIOException("Could not create the development key pair in " + directory, e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Could not create the development key pair", e);
        }
    }
}
