package org.eligo.audit;

import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.util.Base64;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

import jakarta.enterprise.context.ApplicationScoped;

import org.jboss.logging.Logger;

/** Signs checkpoint digests with HMAC-SHA256 under {@code eligo.audit.signing-key}, when one is configured. */
@ApplicationScoped
public class Signer {

    private static final Logger LOG = Logger.getLogger(Signer.class);
    private static final String ALGORITHM = "HmacSHA256";

    private final SecretKeySpec key;

    public Signer(AuditConfig config) {
        this.key = config.signingKey().filter(k -> !k.isBlank())
                .map(k -> new SecretKeySpec(Base64.getDecoder().decode(k.trim()), ALGORITHM)).orElse(null);
        if (key == null) {
            LOG.warn("eligo.audit.signing-key is not set: audit checkpoints are logged but not signed");
        }
    }

    public boolean canSign() {
        return key != null;
    }

    /** A fingerprint of the key (not the key): which key signed a checkpoint, so keys can be added and rotated. */
    public String keyId() {
        if (key == null) {
            return null;
        }
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256").digest(key.getEncoded());
            return java.util.HexFormat.of().formatHex(hash, 0, 8);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    public byte[] sign(byte[] digest) {
        if (key == null) {
            return null;
        }
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            return mac.doFinal(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("Could not sign an audit checkpoint", e);
        }
    }

    public boolean verify(byte[] digest, byte[] signature) {
        return signature != null && MessageDigest.isEqual(sign(digest), signature);
    }
}
