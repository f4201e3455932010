package org.eligo.testing;

import io.quarkus.test.common.QuarkusTestResource;

/** Puts every @QuarkusTest on the shared embedded PostgreSQL. */
@QuarkusTestResource(value = EmbeddedPostgresResource.class, restrictToAnnotatedClass = false)
public final class TestDatabase {

    private TestDatabase() {
    }
}
