package org.eligo.support;

import java.time.Clock;
import java.time.Instant;
import java.time.LocalDate;
import java.time.YearMonth;
import java.time.ZoneOffset;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;

import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * The service's business clock: "today" for validation and the current period for determinations.
 *
 * <p>{@code eligo.clock} (an RFC 3339 instant) fixes it for tests and replays. Record timestamps
 * ({@code received_at}, {@code created_at}, {@code revoked_at}) are not taken from here but from the
 * database's clock, so that they stay ordered across service instances.
 */
@ApplicationScoped
public class EligoClock {

    private final Clock clock;

    public EligoClock(@ConfigProperty(name = "eligo.clock") Optional<Instant> fixed) {
        this.clock = fixed.map(instant -> Clock.fixed(instant, ZoneOffset.UTC)).orElse(Clock.systemUTC());
    }

    public LocalDate today() {
        return LocalDate.now(clock);
    }

    public YearMonth currentPeriod() {
        return YearMonth.now(clock);
    }
}
