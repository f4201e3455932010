package org.eligo.queue;

import static org.eligo.testing.Api.awaitProcessed;
import static org.eligo.testing.Api.unique;

import org.eligo.testing.Sql;
import org.eligo.testing.TestLedger;
import org.junit.jupiter.api.Test;

import com.github.f4b6a3.ulid.UlidCreator;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

/**
 * A message inserted by another writer (as another service instance would) wakes this instance's
 * idle workers through LISTEN/NOTIFY: polling is set to five minutes, so only the notification can
 * explain processing within the wait.
 */
@QuarkusTest
@TestProfile(SlowPollingProfile.class)
class NotificationWakeupTest {

    @Test
    void idleWorkersWakeOnANotification() {
        String id = "msg_" + UlidCreator.getMonotonicUlid();
        Sql.update("INSERT INTO message (id, source, external_id, type, beneficiary_id, data) VALUES (?, ?, 'n', 'person.birthdate', ?, ?::jsonb)",
                id, unique("other-instance"), unique("B"), "{\"birth_date\": \"1980-05-05\"}");
        TestLedger.adoptMessages(id);
        awaitProcessed(id);
    }
}
