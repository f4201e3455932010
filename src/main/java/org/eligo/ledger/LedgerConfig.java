package org.eligo.ledger;

import java.time.Duration;
import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** The ledger's sealing and keys ({@code eligo.ledger.*}). */
@ConfigMapping(prefix = "eligo.ledger")
public interface LedgerConfig {

    /** How often committed entries are sealed into a block (the longest a write waits to be provable). */
    @WithDefault("1s")
    Duration sealInterval();

    /**
     * The Ed25519 private key that signs blocks: a PKCS#8 PEM ("-----BEGIN PRIVATE KEY-----"), from a
     * Secret every pod shares. The database never sees it, so whoever can rewrite the database cannot
     * sign a block. On the embedded quick start a development key is made in
     * {@code eligo.ledger.dev-key-directory}. An instance without one does not seal (and says so at start).
     */
    Optional<String> signingKey();

    /**
     * Public keys of earlier signing keys whose blocks still verify: X.509 PEMs ("-----BEGIN PUBLIC
     * KEY-----"), one after another. Only these and the signing key's own public key are trusted;
     * a block signed by any other key fails verification.
     */
    Optional<String> trustedPublicKeys();

    /**
     * How long an entry may stay unsealed before verification calls it wrong: a block removed (the
     * newest one's entries would be unsealed again), or no instance sealing.
     */
    @WithDefault("5m")
    Duration sealGrace();

    /**
     * How often the blocks sealed since the last verified one are verified, with the records their
     * entries name (a Quarkus scheduler interval; {@code off} turns it off). One instance at a time.
     */
    @WithDefault("5m")
    String verifyInterval();

    /**
     * Full verifications ({@code GET /v1/integrity/verify}, {@code POST /v1/integrity/verifications})
     * running at once on this instance. Each reads every record, for minutes on a large ledger, on a
     * pooled connection and a core: past this many, another is answered 503 with Retry-After rather
     * than letting a few analysts (or a retrying script) take every connection and core from ingest.
     * Two lets a background run and a synchronous one overlap. The scheduled incremental run is not
     * counted: it is one instance at a time across the deployment, and reads only what is new.
     */
    @WithDefault("2")
    int maxConcurrentVerifications();

    /** Where the embedded quick start keeps its development signing key. */
    @WithDefault("data/dev-ledger")
    String devKeyDirectory();
}
