package org.eligo.audit;

import java.util.Optional;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/** The audit trail's checkpoints ({@code eligo.audit.*}). */
@ConfigMapping(prefix = "eligo.audit")
public interface AuditConfig {

    /** How often the chain heads that moved are checkpointed (a Quarkus scheduler interval, e.g. 1m). */
    @WithDefault("1m")
    String checkpointInterval();

    /**
     * Base64 HMAC-SHA256 key that signs checkpoints. Keep it out of the database (a Kubernetes Secret,
     * say): whoever can rewrite the database cannot then forge a checkpoint. Without it checkpoints
     * are digests only, still published to the log.
     */
    Optional<String> signingKey();

    /**
     * How old a chain link may be before verify requires a checkpoint to cover it. Removing
     * checkpoints shows up once the links they covered are older than this.
     */
    @WithDefault("15m")
    java.time.Duration checkpointGrace();
}
