package org.eligo.ledger;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.Signature;
import java.security.interfaces.EdECPrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

/**
 * The ledger's Ed25519 keys: the one that signs blocks (from configuration, never from the
 * database) and the public keys trusted to have signed them. A key is named by its id, the first 16
 * hex digits of SHA-256 over its public key's X.509 encoding.
 */
@ApplicationScoped
public class LedgerKeys {

    private static final Logger LOG = Logger.getLogger(LedgerKeys.class);
    public static final String ALGORITHM = "Ed25519";
    private static final Pattern PEM = Pattern.compile("-----BEGIN ([A-Z ]+)-----([^-]*)-----END \\1-----");

    /** A public key: its id, its PEM, the key. */
    public record TrustedKey(String keyId, String pem, PublicKey key) {
    }

    private final PrivateKey signing;
    private final TrustedKey signingPublic;
    private final Map<String, TrustedKey> trusted = new LinkedHashMap<>();

    public LedgerKeys(LedgerConfig config) {
        this.signing = config.signingKey().filter(pem -> !pem.isBlank()).map(LedgerKeys::privateKey).orElse(null);
        this.signingPublic = signing == null ? null : trusted(publicKeyOf(signing));
        if (signingPublic != null) {
            trusted.put(signingPublic.keyId(), signingPublic);
        }
        for (PublicKey key : config.trustedPublicKeys().map(LedgerKeys::publicKeys).orElse(List.of())) {
            TrustedKey t = trusted(key);
            trusted.putIfAbsent(t.keyId(), t);
        }
        if (signing == null) {
            LOG.warn("eligo.ledger.signing-key is not set: this instance does not seal the ledger (another instance with the key must)");
        } else {
            LOG.infof("Ledger signing key %s (Ed25519); %d public key(s) trusted", signingPublic.keyId(), trusted.size());
        }
    }

    public boolean canSign() {
        return signing != null;
    }

    /** The signing key's public half. */
    public Optional<TrustedKey> signingKey() {
        return Optional.ofNullable(signingPublic);
    }

    /** Whether configuration trusts the key {@code keyId}. */
    public boolean trusts(String keyId) {
        return keyId != null && trusted.containsKey(keyId);
    }

    /** A trusted key by id, if configuration trusts it. */
    public Optional<TrustedKey> trustedKey(String keyId) {
        return Optional.ofNullable(keyId == null ? null : trusted.get(keyId));
    }

    /** The trusted public keys by id: the signing key's first. */
    public Map<String, TrustedKey> trusted() {
        return Map.copyOf(trusted);
    }

    public List<TrustedKey> trustedInOrder() {
        return new ArrayList<>(trusted.values());
    }

    public byte[] sign(byte[] digest) {
        try {
            Signature signature = Signature.getInstance(ALGORITHM);
            signature.initSign(signing);
            signature.update(digest);
            return signature.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Could not sign a ledger block", e);
        }
    }

    /** Whether {@code signature} is the trusted key {@code keyId}'s over {@code digest}; false for a key not trusted. */
    public boolean verify(String keyId, byte[] digest, byte[] signature) {
        TrustedKey key = keyId == null ? null : trusted.get(keyId);
        return key != null && signature != null && verifyWith(key.key(), digest, signature);
    }

    public static boolean verifyWith(PublicKey key, byte[] digest, byte[] signature) {
        try {
            Signature verifier = Signature.getInstance(ALGORITHM);
            verifier.initVerify(key);
            verifier.update(digest);
            return verifier.verify(signature);
        } catch (GeneralSecurityException e) {
            return false;
        }
    }

    public static TrustedKey trusted(PublicKey key) {
        return new TrustedKey(keyId(key), pem("PUBLIC KEY", key.getEncoded()), key);
    }

    public static String keyId(PublicKey key) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(key.getEncoded()), 0, 8);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der)
                + "\n-----END " + type + "-----\n";
    }

    static PrivateKey privateKey(String pem) {
        Matcher matcher = PEM.matcher(pem);
        if (!matcher.find() || !"PRIVATE KEY".equals(matcher.group(1))) {
            throw new IllegalArgumentException("eligo.ledger.signing-key must be a PKCS#8 PEM (-----BEGIN PRIVATE KEY-----) of an Ed25519 key");
        }
        try {
            PrivateKey key = KeyFactory.getInstance(ALGORITHM).generatePrivate(new PKCS8EncodedKeySpec(decode(matcher.group(2))));
            if (!(key instanceof EdECPrivateKey)) {
                throw new IllegalArgumentException("eligo.ledger.signing-key is not an Ed25519 key");
            }
            return key;
        } catch (GeneralSecurityException e) {
            throw new IllegalArgumentException("eligo.ledger.signing-key is not an Ed25519 PKCS#8 key: " + e.getMessage(), e);
        }
    }

    static List<PublicKey> publicKeys(String pems) {
        List<PublicKey> keys = new ArrayList<>();
        Matcher matcher = PEM.matcher(pems);
        while (matcher.find()) {
            try {
                keys.add(KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(decode(matcher.group(2)))));
            } catch (GeneralSecurityException | IllegalArgumentException e) {
                throw new IllegalArgumentException("eligo.ledger.trusted-public-keys holds a PEM that is not an Ed25519 public key: " + e.getMessage(), e);
            }
        }
        if (keys.isEmpty() && !pems.isBlank()) {
            throw new IllegalArgumentException("eligo.ledger.trusted-public-keys holds no PEM public key (-----BEGIN PUBLIC KEY-----)");
        }
        return keys;
    }

    /**
     * The public half of an Ed25519 private key. The JDK has no direct way, so the key is derived the
     * way RFC 8032 (5.1.5) does it, by the JDK's own Ed25519 implementation: signing and verifying a
     * probe with the derived key proves the pair.
     */
    static PublicKey publicKeyOf(PrivateKey key) {
        try {
            byte[] seed = ((EdECPrivateKey) key).getBytes().orElseThrow(() -> new IllegalArgumentException("the signing key's bytes are not available"));
            PublicKey derived = Ed25519.publicKey(seed);
            byte[] probe = "eligo ledger key check".getBytes(StandardCharsets.US_ASCII);
            Signature signer = Signature.getInstance(ALGORITHM);
            signer.initSign(key);
            signer.update(probe);
            if (!verifyWith(derived, probe, signer.sign())) {
                throw new IllegalStateException("could not derive the signing key's public key");
            }
            return derived;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] decode(String base64) {
        return Base64.getMimeDecoder().decode(base64.trim());
    }
}
