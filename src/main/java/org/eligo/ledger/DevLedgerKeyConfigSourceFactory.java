package org.eligo.ledger;

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
 * The embedded quick start's ledger key: when the service runs on its embedded PostgreSQL (no
 * datasource URL, embedded enabled) and no {@code eligo.ledger.signing-key} is configured, an
 * Ed25519 key is made once in {@code eligo.ledger.dev-key-directory} ({@value #FILE}, with its
 * public half beside it) and blocks are signed with it, as the quick start does for tokens.
 * Production is untouched: with a datasource URL or a configured key this adds nothing.
 */
public class DevLedgerKeyConfigSourceFactory implements ConfigSourceFactory {

    static final String KEY = "eligo.ledger.signing-key";
    static final String FILE = "signing-key.pem";
    static final String PUBLIC_FILE = "public-key.pem";
    /** Below application.properties (250): an explicit setting anywhere wins. */
    private static final int ORDINAL = 200;

    @Override
    public Iterable<ConfigSource> getConfigSources(ConfigSourceContext context) {
        if (!EmbeddedDatabaseConfigSourceFactory.embeddedQuickStart(context) || EmbeddedDatabaseConfigSourceFactory.isSet(context.getValue(KEY))) {
            return List.of();
        }
        Path directory = Path.of(EmbeddedDatabaseConfigSourceFactory.value(context, "eligo.ledger.dev-key-directory", "data/dev-ledger"));
        return List.of(new PropertiesConfigSource(Map.of(KEY, ensureKey(directory)), "EligoDevLedgerKey", ORDINAL));
    }

    @Override
    public OptionalInt getPriority() {
        return OptionalInt.of(ORDINAL);
    }

    /** Makes the key once; later starts reuse it, so earlier blocks keep verifying. Returns the private key's PEM. */
    static String ensureKey(Path directory) {
        Path privateKey = directory.resolve(FILE);
        try {
            if (!Files.exists(privateKey)) {
                Files.createDirectories(directory);
                KeyPair pair = KeyPairGenerator.getInstance(LedgerKeys.ALGORITHM).generateKeyPair();
                Path temporary = Files.createTempFile(directory, "signing", ".tmp");
                try {
                    Files.setPosixFilePermissions(temporary, PosixFilePermissions.fromString("rw-------"));
                } catch (UnsupportedOperationException e) {
                    // not a POSIX file system: the directory's own protection applies
                }
                Files.writeString(temporary, LedgerKeys.pem("PRIVATE KEY", pair.getPrivate().getEncoded()));
                Files.writeString(directory.resolve(PUBLIC_FILE), LedgerKeys.pem("PUBLIC KEY", pair.getPublic().getEncoded()));
                Files.move(temporary, privateKey, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            }
            return Files.readString(privateKey);
        } catch (IOException e) {
            throw new UncheckedIOException("Could not make or read the development ledger key in " + directory, e);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }
}
